"""GenoArmory: adversarial robustness benchmark for genomic foundation models.

The Python API (genoarmory/api/): `Victim`, `embedded_model`, `attack`, `AttackResult`, `load_task`, `read`, `visualize`,
`defend`, `certify`, `corrupt`, `transfer` (and their results), imported on first use so `import genoarmory`
(and `python -m genoarmory --help`) stays light.
"""

__version__ = "0.1.0"

_API = ("Victim", "embedded_model", "attack", "AttackResult", "load_task", "read", "visualize", "defend",
        "certify", "CertifyResult", "corrupt", "CorruptionResult", "transfer", "TransferResult")
__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        # by name, at first use: the modules that read __version__ from here must not depend on the API
        return getattr(importlib.import_module("genoarmory.api"), name)
    raise AttributeError(f"module 'genoarmory' has no attribute {name!r}")
