"""What a model folder or tokenizer says about itself, for `model=local` (`model.path=DIR` with no family
named, and `genoarmory.Victim.wrap`): its name, its architecture and how its tokens map to nucleotides.

The tokenization is read from the tokenizer itself (a probe, not its class name): every real DNA
tokenizer falls in one of the four kinds the SequenceEncoder knows.
- char:  one token per nucleotide (HyenaDNA, Caduceus, tiny-char)
- kmer:  non-overlapping k-mers of one length left to right (Nucleotide Transformer, tiny-6mer)
- overlapping_kmer: a whitespace-separated k-mer vocabulary that cannot read a plain DNA string
  (DNABERT-1 reads "ACGTAC CGTACG ..." and maps a plain string to [UNK])
- bpe:   tokens of several lengths (DNABERT-2, GROVER, GenomeOcean)
"""

from __future__ import annotations

import json
import random
from pathlib import Path

PROBE_LENGTH = 96


def model_type(folder: Path) -> str | None:
    """config.json's `model_type` (bert, esm, hyenadna, ...), None when it is missing or unreadable."""
    try:
        return json.loads((Path(folder) / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None


def _inner_ids(tokenizer, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def infer_tokenization(tokenizer) -> str:
    """char | kmer | overlapping_kmer | bpe, from how the tokenizer splits a random DNA string."""
    rng = random.Random(0)
    seq = "".join(rng.choice("ACGT") for _ in range(PROBE_LENGTH))
    ids = _inner_ids(tokenizer, seq)
    unk = getattr(tokenizer, "unk_token_id", None)
    if not ids or (unk is not None and unk in ids and len(ids) <= 2):
        return "overlapping_kmer"
    tokens = [str(t).replace("▁", "").replace("##", "") for t in tokenizer.convert_ids_to_tokens(ids)]
    widths = {len(t) for t in tokens if t}
    if widths == {1}:
        return "char"
    body = {len(t) for t in tokens[:-1] if t}  # the tail may fall back to shorter tokens
    if len(body) == 1 and "".join(tokens) == seq:
        return "kmer"
    return "bpe"


def classifier_tokenization(folder: Path, trust_remote_code: bool = False) -> str:
    """The tokenization of the tokenizer saved in `folder` (its tokenizer files)."""
    from transformers import AutoTokenizer

    return infer_tokenization(AutoTokenizer.from_pretrained(folder, trust_remote_code=trust_remote_code))


def run_names(model_cfg) -> dict:
    """{"name", "family"} a run records for its model (genoarmory/naming.py's rule). `family` is the model
    config that loaded it (code path, tokenization): conf/model/<family>.yaml, `local` for model=local (read
    from the folder), None when a config's own name was replaced by `model.name=` (that name is kept). A
    folder given to a hub model's config (`model=dnabert2 model.path=DIR`) keeps the config's name only
    when it is the hub cache's snapshot of the config's own hub id; a run does not hash weights, so a copy
    elsewhere is named after its folder (the leaderboard's `filed_model` also accepts a known weights hash)."""
    from genoarmory.config import CONF_DIR
    from genoarmory.naming import hub_snapshot, model_name

    name, path = str(model_cfg.name), model_cfg.get("path")
    if model_cfg.get("family") == "hf" and model_cfg.get("tokenization") == "auto":  # model=local
        return {"name": name, "family": "local"}  # its name was read from the folder (config.py), or is yours
    if not (CONF_DIR / "model" / f"{name}.yaml").is_file():
        return {"name": name, "family": None}
    snapshot = hub_snapshot(path) if path else None
    is_that_model = snapshot is not None and snapshot[0] == model_cfg.get("hub_id")
    return {"name": model_name(name, path, is_that_model), "family": name}
