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
