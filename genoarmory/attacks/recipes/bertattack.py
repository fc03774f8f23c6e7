"""BERT-Attack (Li et al., EMNLP 2020) over nucleotides.

- importance: mask each of the victim's tokens with N, rank by the rise of the goal score;
- candidates: top-k tokens of a masked LM from one pass over the original (k=48 as the paper), from
  the victim's OWN MLM (tiny models, DNABERT-2, NT, GROVER ship one) or `attack.mlm`, realised as
  nucleotide edits through the MLM's own token spans — never another model's token ids;
- greedy: the best admissible candidate per token, accepted when it raises the goal score.
"""

from __future__ import annotations

from pathlib import Path

from genoarmory.attacks.constraints import threat_model_from
from genoarmory.config import cache_dir, is_offline, own_partial
from genoarmory.attacks.search import AttackSpec
from genoarmory.errors import UserError
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.models.families import adapt
from genoarmory.models.load import check_safety, read_config
from genoarmory.models.victim import pick_device


def mlm_folder(victim, cfg) -> Path:
    """attack.mlm, else the victim's own: mlm/ beside its folder (the tiny models, a folder `train` wrote,
    any model.path that has one), or model.mlm for hub families."""
    source = cfg.attack.get("mlm") or None
    path = victim.info.get("path")
    if source is None and path and (cfg.model.family == "tiny" or cfg.model.get("path")):
        own = Path(path).parent / "mlm"
        if own.is_dir():
            return own
    source = source or cfg.model.get("mlm")
    if not source:
        where = f" (no mlm/ folder beside {path})" if path else ""
        raise UserError(f"BERT-Attack needs a masked LM and model {cfg.model.name} names none{where}: set "
                        "attack.mlm=<local MLM folder or hub id>, or choose attack=textfooler|random|pgd")
    if Path(str(source)).is_dir():
        return Path(str(source))
    from genoarmory.hub import fetch

    try:
        return fetch(str(source), "model", None, cache_dir=cache_dir(cfg), offline=is_offline(cfg))
    except UserError as err:
        if not cfg.model.get("path") or cfg.attack.get("mlm"):
            raise
        # model.path is the user's own folder: the fix is naming its masked LM, not the hub
        raise UserError(f"BERT-Attack needs a masked LM for model.path={cfg.model.path}: set attack.mlm=<local "
                        f"MLM folder or hub id> (the family's default {source} is not available: {err})") from None


def load_mlm(folder: Path, cfg, tokenization: str):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    trust = cfg.model.trust_remote_code
    check_safety(folder, read_config(folder), trust, cfg.model.allow_pickle)
    tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=trust)
    model = AutoModelForMaskedLM.from_pretrained(folder, trust_remote_code=trust)
    adapt(model, tokenizer, pick_device(cfg.device))  # DNABERT-2's MLM: its attention path on this device
    return model, SequenceEncoder(tokenizer, tokenization, cfg.model.max_length)


def build(victim, cfg) -> AttackSpec:
    """attack.transformation (the masked LM's proposals, parts.mlm_proposals) under the shared threat model."""
    a = cfg.attack
    transformation = own_partial(a.transformation, "transformation")(victim, cfg)
    return AttackSpec(name=a.name, threat=threat_model_from(a), transformation=transformation,
                      importance="mask", units="token", accept="improve",
                      targeted=a.targeted, target_label=a.target_label)
