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
    """attack.mlm, else the victim's own: mlm/ beside a tiny model, or model.mlm for hub families."""
    source = cfg.attack.get("mlm") or None
    if source is None and cfg.model.family == "tiny":
        own = Path(victim.info["path"]).parent / "mlm"
        if own.is_dir():
            return own
    source = source or cfg.model.get("mlm")
    if not source:
        raise UserError(f"model {cfg.model.name} has no masked-LM head; set attack.mlm=<local folder or hub id>")
    if Path(str(source)).is_dir():
        return Path(str(source))
    from genoarmory.hub import fetch

    return fetch(str(source), "model", None, cache_dir=cache_dir(cfg), offline=is_offline(cfg))


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
