"""Random-weight checkpoints of the real remote-code architectures, in the layout users load from the hub.

From a folder holding a family's code and config (../shared/fixtures/hf/*-remote-code), build a folder
with that code, its config (sizes overridable: a few layers and a small width for tests, the real size
for benchmarks), a tokenizer, and safetensors weights drawn from a seed. It loads as the hub repository
does: `AutoModelFor...from_pretrained(folder, trust_remote_code=True)` and `AutoTokenizer`.
- DNABERT-2: the base masked LM (`BertForMaskedLM`, as DNABERT-2-117M is) with DNABERT-2's own BPE
  tokenizer; `train` adds the classification head, and BERT-Attack proposes from this same MLM.
- HyenaDNA: the base causal LM (`HyenaDNAForCausalLM`) with the character tokenizer of
  tokenization_hyena.py (the published vocabulary layout, [SEP] appended, left padding), shipped as
  the folder's tokenizer code exactly as the hub repositories ship theirs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from genoarmory.models.saving import declare_shared_parameters

TOKENIZER_CODE = Path(__file__).with_name("tokenization_hyena.py")


def _copy_code(code_dir: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    for path in Path(code_dir).glob("*.py"):
        shutil.copyfile(path, out / path.name)
    return json.loads((Path(code_dir) / "config.json").read_text())


def _save(model_class: str, out: Path, seed: int) -> None:
    """Build `model_class` of the folder's config from its own code, with seeded random weights."""
    import transformers
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(out, trust_remote_code=True)
    auto = getattr(transformers, model_class)
    torch.manual_seed(seed)
    model = auto.from_config(config, trust_remote_code=True)
    declare_shared_parameters(model)  # DNABERT-2's tied MLM decoder, HyenaDNA's shared filter activations
    model.save_pretrained(out, safe_serialization=True)


def build_dnabert2(code_dir: Path, out: Path, seed: int = 0, **sizes) -> Path:
    """DNABERT-2's masked LM; `sizes` override config.json (hidden_size, num_hidden_layers, ...)."""
    out = Path(out)
    config = _copy_code(code_dir, out)
    config.update(sizes, architectures=["BertForMaskedLM"])
    (out / "config.json").write_text(json.dumps(config, indent=2))
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(Path(code_dir) / name, out / name)
    _save("AutoModelForMaskedLM", out, seed)
    return out


def build_hyenadna(code_dir: Path, out: Path, seed: int = 0, padding_side: str = "left", **sizes) -> Path:
    """HyenaDNA's causal LM; `sizes` override config.json (d_model, n_layer, max_seq_len, ...)."""
    out = Path(out)
    config = _copy_code(code_dir, out)
    for key in ("id2label", "label2id", "problem_type"):  # the fixture's config is a 3-class fine-tune
        config.pop(key, None)
    config.update(sizes, architectures=["HyenaDNAForCausalLM"])
    (out / "config.json").write_text(json.dumps(config, indent=2))
    shutil.copyfile(TOKENIZER_CODE, out / TOKENIZER_CODE.name)
    tokenizer_config = {"tokenizer_class": "HyenaDNATokenizer", "characters": ["A", "C", "G", "T", "N"],
                        "model_max_length": int(config["max_seq_len"]), "padding_side": padding_side,
                        "auto_map": {"AutoTokenizer": ["tokenization_hyena.HyenaDNATokenizer", None]}}
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))
    _save("AutoModelForCausalLM", out, seed)
    return out
