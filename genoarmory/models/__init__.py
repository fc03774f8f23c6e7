"""Victims: model adapters (victim.py, encoding.py), loading (load.py, wrappers.py), the embedded tiny
models (tiny.py), quantization (quantize.py) and the one fine-tuning loop (training.py)."""
