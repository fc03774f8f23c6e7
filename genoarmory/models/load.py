"""Model config -> `Victim`: the embedded tiny models, a local HF folder, or a hub checkpoint.

Safety: `trust_remote_code` is only ever what the config says (a checkpoint that ships code is refused
otherwise, naming the flag), and weights load from safetensors unless `model.allow_pickle=true`.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from omegaconf import DictConfig

from genoarmory.data.example import Task
from genoarmory.errors import UserError
from genoarmory.config import cache_dir, is_offline
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.families import adapt
from genoarmory.models.families.code import RemoteCode
from genoarmory.models.saving import REMOTE_CODE
from genoarmory.models.tiny_tokenizers import TOKENIZATION
from genoarmory.models.victim import Victim, pick_device
from genoarmory.models.wrappers import apply_victim_wrapper, apply_wrapper



def model_source(cfg: DictConfig) -> str:
    """What to load: model.path, else the paper's fine-tuned id for this task, else the base hub id."""
    m = cfg.model
    if m.get("path"):
        return str(m.path)
    if m.get("use_finetuned"):
        return str(m.finetuned_id).format(task=cfg.dataset.get("task", cfg.dataset.name))
    if not m.get("hub_id"):
        raise UserError(f"model {m.name} has neither model.path nor model.hub_id")
    return str(m.hub_id)


def model_folder(cfg: DictConfig, task: Task | None = None) -> Path:
    """A local HF-layout folder for the configured model (training the tiny default on first use)."""
    m = cfg.model
    if m.family == "tiny" and not m.get("path"):
        from genoarmory.models.tiny import cached_tiny_model

        if task is None:
            raise UserError("the embedded tiny model needs its task to be trained on first use")
        return cached_tiny_model(cfg, task, pick_device(cfg.device)) / "model"
    source = model_source(cfg)
    if Path(source).expanduser().is_dir():
        return Path(source).expanduser()
    if m.family == "tiny":
        raise UserError("model.path is not a folder", source)
    from genoarmory.hub import fetch

    return fetch(source, "model", m.get("revision"), cache_dir=cache_dir(cfg), offline=is_offline(cfg))


def hub_snapshot(cfg: DictConfig, repo_id: str) -> Path:
    """The local snapshot of a hub repository (cached, or fetched unless offline)."""
    from genoarmory.hub import fetch

    return fetch(repo_id, "model", "main", cache_dir=cache_dir(cfg), offline=is_offline(cfg))


# config.json sizes that must be positive integers when present (transformers would build a tensor with a
# negative dimension from hidden_size=-5, or a model with no layers from num_hidden_layers=-1)
SIZES = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
         "max_position_embeddings", "num_labels", "n_layer", "d_model", "n_embd", "n_head")


def read_config(folder: Path) -> dict:
    path = folder / "config.json"
    if not path.is_file():
        raise UserError("no config.json: not a Hugging Face model folder", str(folder))
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise UserError(f"broken config.json ({err.msg}, line {err.lineno})", str(path)) from None
    except (OSError, UnicodeDecodeError, RecursionError) as err:
        raise UserError(f"cannot read config.json ({type(err).__name__})", str(path)) from None
    if not isinstance(config, dict):
        raise UserError("config.json must hold a JSON object", str(path))
    for key in SIZES:
        value = config.get(key)
        if key in config and not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise UserError(f"{key}={value!r}: expected a positive integer", str(path))
    return config


def check_safety(folder: Path, config: dict, trust_remote_code: bool, allow_pickle: bool) -> None:
    if config.get("auto_map") and not trust_remote_code:
        raise UserError(
            "this checkpoint ships its own model code (auto_map in config.json); if you trust its source, "
            "rerun with model.trust_remote_code=true", str(folder))
    has_safetensors = any(folder.glob("*.safetensors"))
    if not has_safetensors and not allow_pickle:
        pickled = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.pt*")]
        detail = f"only pickle weights ({', '.join(pickled)})" if pickled else "no weight files"
        raise UserError(f"{detail}; GenoArmory loads safetensors only unless model.allow_pickle=true", str(folder))


def load_classifier(folder: Path, num_labels: int, trust_remote_code: bool = False, allow_pickle: bool = False,
                    device: torch.device | str = "cpu", resolve_repo=None, hub_cache_dir: Path | None = None):
    """(model, tokenizer) from a local folder. A base checkpoint gets a new classification head. A model
    built from remote code remembers its code files (saving.py copies them into folders written from it)
    and gets what its family needs on `device` (families/). `resolve_repo(repo_id) -> folder` finds code
    that a fine-tuned folder's auto_map names in another repository; transformers then loads that code from
    `hub_cache_dir` (the project's hub cache, where `download` and `resolve_repo` put it)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    config = read_config(folder)
    check_safety(folder, config, trust_remote_code, allow_pickle)
    code = RemoteCode.of(folder, resolve_repo) if trust_remote_code else None
    fine_tuned = any("ForSequenceClassification" in a for a in config.get("architectures") or [])
    kwargs = {"trust_remote_code": trust_remote_code, "use_safetensors": not allow_pickle or None,
              "cache_dir": hub_cache_dir}
    if not fine_tuned:
        warnings.warn(f"{folder}: base checkpoint, the classification head is new (fine-tune it with `train`)")
        kwargs["num_labels"] = num_labels
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code, cache_dir=hub_cache_dir)
    except ImportError as err:  # the checkpoint's own code imports a package that is not installed (einops)
        raise UserError(f"cannot run the tokenizer's code: {_first_line(err)}", str(folder)) from None
    except Exception as err:  # tokenizers raises a bare Exception for a malformed tokenizer.json
        raise UserError(f"cannot load the tokenizer: {_first_line(err)}", str(folder)) from None
    try:
        model, info = _with_sdpa(AutoModelForSequenceClassification.from_pretrained, folder, config,
                                 {**kwargs, "output_loading_info": True})
    except ImportError as err:
        raise UserError(f"cannot run the model's code: {_first_line(err)}", str(folder)) from None
    except Exception as err:  # truncated safetensors (SafetensorError), wrong shapes (RuntimeError), ...
        raise UserError(f"cannot load model: {_first_line(err)}", str(folder)) from None
    if fine_tuned and info.get("missing_keys"):
        # a classifier whose weights are not all in its files would run half random: not the model it claims
        missing = sorted(info["missing_keys"])
        raise UserError(f"cannot load model: {len(missing)} weight(s) missing from its files ({', '.join(missing[:3])}"
                        f"{', ...' if len(missing) > 3 else ''})", str(folder))
    if code is not None:
        setattr(model, REMOTE_CODE, code)
    prepare_classifier(model, tokenizer, device)
    if model.config.num_labels != num_labels:
        raise UserError(f"model has {model.config.num_labels} labels but the task has {num_labels}", str(folder))
    return model, tokenizer


def prepare_classifier(model: torch.nn.Module, tokenizer, device: torch.device | str = "cpu") -> None:
    """What every classifier gets before it is attacked, loaded from a folder or handed over in memory
    (genoarmory.Victim.wrap): its family's needs on `device`, and a pad token the model knows."""
    adapt(model, tokenizer, torch.device(device))
    if tokenizer.pad_token is None:  # causal LMs (GenomeOcean): pad with EOS, and tell the model
        tokenizer.pad_token = tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id


def _with_sdpa(from_pretrained, folder: Path, config: dict, kwargs: dict):
    """Load with PyTorch's scaled-dot-product attention where the architecture has it (fused kernels on
    CUDA and CPU; transformers 4.57 already picks it by default, this keeps it so whatever the version's
    default: on an H200 issue 18 measured 1.07-1.24x the eager queries/s, benchmarks/RESULTS.md run 5
    1.00-1.01x at batch 4096); remote code keeps its own attention (DNABERT-2's,
    models/families/dnabert2.py), and a built-in class without SDPA its default."""
    if config.get("auto_map"):
        return from_pretrained(folder, **kwargs)
    try:
        return from_pretrained(folder, attn_implementation="sdpa", **kwargs)
    except ValueError as err:
        if "sdpa" not in str(err).lower() and "scaled_dot_product" not in str(err).lower():
            raise
        return from_pretrained(folder, **kwargs)


def _first_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return (" ".join(lines[:2]) if lines else type(err).__name__)[:300]


@dataclass
class LoadedModel:
    """A classifier as loaded from its folder, before any wrapper or quantization: what `train` and the
    defenses fine-tune, and what `load_victim` wraps."""

    model: torch.nn.Module
    tokenizer: object
    encoder: SequenceEncoder
    folder: Path


def tokenization(model_cfg, tokenizer=None) -> str:
    """How the model's tokens map to nucleotides: the tiny tokenizer's kind, the config's, or (`auto`, the
    `model=local` default) read from the tokenizer itself (models/derive.py)."""
    if model_cfg.family == "tiny":
        return TOKENIZATION[model_cfg.tokenizer]
    if model_cfg.tokenization == "auto":
        from genoarmory.models.derive import infer_tokenization

        return infer_tokenization(tokenizer)
    return model_cfg.tokenization


def load_model(cfg: DictConfig, task: Task) -> LoadedModel:
    """The configured classifier (the embedded tiny model is trained and cached here on first use)."""
    from genoarmory.hub import hub_cache

    m = cfg.model
    folder = model_folder(cfg, task)
    model, tokenizer = load_classifier(folder, task.num_labels, bool(m.get("trust_remote_code", False)),
                                       bool(m.get("allow_pickle", False)), pick_device(cfg.device),
                                       resolve_repo=lambda repo: hub_snapshot(cfg, repo),
                                       hub_cache_dir=hub_cache(cache_dir(cfg)))
    encoder = SequenceEncoder(tokenizer, tokenization(m, tokenizer), int(m.max_length), cfg.sequence.too_long)
    return LoadedModel(model, tokenizer, encoder, folder)


def load_victim(cfg: DictConfig, task: Task) -> Victim:
    """The victim an attack runs on: the loaded classifier, inside the wrapper its folder names (a defense's
    detector, or a victim-level wrapper such as randomized smoothing), quantized when model.quantize asks,
    scored on both strands when model.rc=average."""
    m = cfg.model
    loaded = load_model(cfg, task)
    model = apply_wrapper(loaded.model, loaded.folder)
    if m.get("quantize"):
        from genoarmory.models.quantize import quantize

        model = quantize(model, str(m.quantize), pick_device(cfg.device))
    from genoarmory.models.derive import model_type, run_names

    names = run_names(m)  # a folder given to a hub model's config is named after itself (genoarmory/naming.py)
    info = {**names, "path": str(loaded.folder.resolve()), "quantize": m.get("quantize")}
    if names["family"] == "local":  # what the folder says it is
        info.update(model_type=model_type(loaded.folder), tokenization=loaded.encoder.tokenization)
    victim = apply_victim_wrapper(Victim(model, loaded.encoder, names["name"], pick_device(cfg.device), cfg.batch_size, info,
                                         compile=m.get("compile", False)), loaded.folder)
    if m.get("rc", "none") == "average":
        from genoarmory.models.rc_average import rc_averaged

        if type(victim) is not Victim:
            raise UserError(f"model.rc=average cannot wrap a {type(victim).__name__} (its folder names its own "
                            "victim wrapper)", str(loaded.folder))
        victim = rc_averaged(victim)
    return victim
