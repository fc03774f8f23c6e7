"""`genoarmory.Victim`: the model an attack runs on, from a folder, a hub id, a config name or memory.

- `Victim.from_pretrained(path_or_id)`: a local Hugging Face folder (loaded as itself: `model=local`, its
  family, tokenization and name read from the folder), one of GenoArmory's model configs by name
  (`tiny-6mer`, `dnabert2`, ...), or a hub id (a config's own hub_id, else `model=local`).
- `Victim.wrap(model, tokenizer)`: an in-memory Hugging Face classifier, or any torch.nn.Module mapping token
  ids to logits, with its Hugging Face tokenizer or a plain tokenizer callable (token spans then measured
  base by base: models/callable_encoder.py). It gets exactly what a loaded model gets
  (models/load.prepare_classifier) and the same engine Victim (models/victim.py).

A Victim built from a name or folder loads on first use, through `load_victim`: the CLI's loader, safety
checks included (`trust_remote_code` only when you pass it, safetensors unless `allow_pickle=True`).
"""

from __future__ import annotations

from pathlib import Path

from genoarmory.config import CONF_DIR
from genoarmory.errors import UserError


def _configs_by_hub_id() -> dict[str, str]:
    import yaml

    out = {}
    for path in sorted((CONF_DIR / "model").glob("*.yaml")):
        hub_id = (yaml.safe_load(path.read_text()) or {}).get("hub_id")
        if hub_id:
            out[str(hub_id)] = path.stem
    return out


class Victim:
    """A classifier to attack. `groups`/`settings` are what it adds to the attack's config (its model)."""

    def __init__(self, groups: list[str], settings: dict, engine=None):
        self.groups, self.settings = list(groups), dict(settings)
        self._engine = engine            # models.victim.Victim, built now (wrap) or on first use
        self._engine_key = None

    # -- construction ------------------------------------------------------------------------------
    @classmethod
    def from_pretrained(cls, path_or_id: str | Path, *, name: str | None = None, trust_remote_code: bool = False,
                        allow_pickle: bool = False, mlm: str | Path | None = None, revision: str | None = None,
                        max_length: int | None = None, device: str | None = None) -> "Victim":
        source = str(path_or_id)
        settings: dict = {"model.trust_remote_code": trust_remote_code, "model.allow_pickle": allow_pickle}
        if Path(source).expanduser().is_dir():
            groups = ["model=local"]
            settings["model.path"] = str(Path(source).expanduser().resolve())
        elif (CONF_DIR / "model" / f"{source}.yaml").is_file() and "/" not in source:
            groups = [f"model={source}"]
        elif source.count("/") == 1 and not source.startswith((".", "/", "~")):  # org/name: a hub id
            known = _configs_by_hub_id().get(source)
            groups = [f"model={known}"] if known else ["model=local"]
            if not known:
                settings["model.hub_id"] = source
        else:
            from genoarmory.errors import suggest

            options = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml") if p.stem != "local")
            if "/" in source or Path(source).suffix:
                raise UserError(f"Victim.from_pretrained({source!r}): no such folder")
            raise UserError(f"Victim.from_pretrained({source!r}): not a folder, a hub id (org/name) or a model "
                            f"config{suggest(source, options)}")
        for key, value in (("name", name), ("mlm", mlm), ("revision", revision), ("max_length", max_length)):
            if value is not None:
                settings[f"model.{key}"] = str(value) if key in ("mlm",) else value
        if device is not None:
            settings["device"] = device
        return cls(groups, settings)

    @classmethod
    def wrap(cls, model, tokenizer, *, name: str = "in-memory", tokenization: str | None = None,
             max_length: int = 512, mlm: str | Path | None = None, device: str = "auto",
             batch_size: int | str = "auto", pad_id: int = 0) -> "Victim":
        """`model`: a Hugging Face sequence classifier or any torch.nn.Module (ids -> logits).

        `tokenizer`: its Hugging Face tokenizer, or any callable `tokenize(sequences) -> ids` (a mapping with
        `input_ids` and optionally `attention_mask`, or the ids alone: a tensor or a list of id lists). A
        Hugging Face tokenizer's offsets give each token's nucleotides, and `tokenization` (char | kmer |
        bpe | overlapping_kmer) is read from it unless given. A callable's spans are measured by changing one
        base at a time (models/callable_encoder.py: exact for char and k-mer tokens, BPE-like callables
        refused), its tokenization read from them (`tokenization`, if given, must agree), its rows padded
        with `pad_id`; having no vocabulary, it runs attack=random and bertattack with `mlm`.
        `mlm`, a masked-LM folder or hub id, is what BERT-Attack proposes with."""
        from transformers import PreTrainedTokenizerBase

        from genoarmory.models.adapter import as_classifier
        from genoarmory.models.derive import infer_tokenization
        from genoarmory.models.encoding import SequenceEncoder
        from genoarmory.models.load import prepare_classifier
        from genoarmory.models.victim import Victim as EngineVictim, pick_device

        target = pick_device(device)
        if isinstance(tokenizer, PreTrainedTokenizerBase):
            kind = tokenization or infer_tokenization(tokenizer)
            classifier = as_classifier(model, tokenizer("ACGT" * 8, return_tensors="pt")["input_ids"])
            prepare_classifier(classifier, tokenizer, target)  # before the encoder: it may set the pad token
            encoder = SequenceEncoder(tokenizer, kind, max_length)
        else:
            from genoarmory.models.callable_encoder import CallableEncoder

            encoder = CallableEncoder(tokenizer, max_length, pad_id, tokenization=tokenization)
            classifier = as_classifier(model, encoder.encode(["ACGT" * 8])["input_ids"])
            prepare_classifier(classifier, encoder.tokenizer, target)  # a family's padding side: honoured
            kind = encoder.tokenization
        info = {"name": name, "family": None, "path": None, "in_memory": type(model).__name__, "tokenization": kind}
        engine = EngineVictim(classifier, encoder, name, target, batch_size, info)
        settings = {"model.name": name, "model.tokenization": kind, "model.max_length": int(encoder.max_length),
                    "device": str(device), "batch_size": batch_size}
        if mlm is not None:
            settings["model.mlm"] = str(mlm)
        return cls(["model=local"], settings, engine)

    # -- use ---------------------------------------------------------------------------------------
    @property
    def in_memory(self) -> bool:
        return self._engine is not None and self._engine_key is None

    def num_labels_hint(self) -> int | None:
        """The model's label count when it is already loaded (an in-memory model), else None."""
        return self._engine.num_labels if self._engine is not None else None

    def engine(self, cfg, task):
        """The engine Victim (models/victim.py) for this config and task, loaded once and reused; its
        probability cache is emptied so every attack counts its own queries, as a fresh CLI run does."""
        import json

        from genoarmory.config import plain_config
        from genoarmory.models.load import load_victim

        if self.in_memory:
            self._engine.clear_cache()
            return self._engine
        plain = plain_config(cfg)
        key = json.dumps([plain["model"], plain["device"], plain["batch_size"],
                          task.name if plain["model"]["family"] == "tiny" else None], sort_keys=True, default=str)
        if self._engine is None or key != self._engine_key:
            self._engine, self._engine_key = load_victim(cfg, task), key
        self._engine.clear_cache()
        return self._engine

    def __repr__(self) -> str:
        what = self.settings.get("model.path") or self.settings.get("model.hub_id") or ", ".join(self.groups)
        return f"Victim({self.settings.get('model.name') or what})"


def embedded_model(name: str = "tiny-6mer", dataset: str = "motif/tata") -> Path:
    """The folder holding an embedded tiny model (model/, its masked LM mlm/, metrics.json) for `dataset`:
    the one shipped in the package when it matches, else trained and cached on first use, as the CLI does."""
    from genoarmory.api.settings import build_config
    from genoarmory.data import load_task as load_configured
    from genoarmory.models.load import model_folder

    cfg = build_config("attack", [f"model={name}", f"dataset={dataset}"], {})
    if cfg.model.family != "tiny":
        raise UserError(f"model={name} is not an embedded tiny model (tiny-6mer, tiny-char, tiny-bpe)")
    return model_folder(cfg, load_configured(cfg)).parent
