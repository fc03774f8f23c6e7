"""DNA alphabet, the validation/normalisation policy, and nucleotide edits.

Pure Python/numpy (no torch), so data loading and analysis never import a deep-learning stack.
"""

from __future__ import annotations

import random
from typing import Iterable, Sequence

import numpy as np

from genoarmory.edits import Edit, apply_any
from genoarmory.errors import UserError

BASES = "ACGT"
# IUPAC ambiguity codes other than the four bases; N is the common one in real data.
AMBIGUOUS = set("NRYSWKMBDHV")
POLICIES = ("error", "skip", "replace")

_CODE = np.full(256, 255, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _CODE[ord(_b)] = _i
_CODE[ord("N")] = 4


class SkipSequence(Exception):
    """Raised by `normalize` under policy 'skip': the caller drops this example."""


def normalize(
    raw: str,
    policy: str = "error",
    where: str | None = None,
    rng: random.Random | None = None,
) -> str:
    """Upper-case `raw` and apply the policy to anything that is not A/C/G/T.

    error:   any non-ACGT character is a UserError naming `where` (file:line) and the position.
    skip:    raise SkipSequence for a sequence holding an IUPAC code (still an error for non-IUPAC junk).
    replace: each IUPAC code becomes a random base drawn with `rng` (seeded by the caller), so
             sequences stay the same length and the run stays reproducible.
    Empty sequences are always an error: no model can classify them and no attack can edit them.
    """
    if policy not in POLICIES:
        raise UserError(f"unknown sequence policy {policy!r}; choose one of {', '.join(POLICIES)}")
    seq = raw.strip().upper()
    if not seq:
        raise UserError("empty sequence", where)
    bad = [i for i, c in enumerate(seq) if c not in BASES]
    if not bad:
        return seq
    junk = [i for i in bad if seq[i] not in AMBIGUOUS]
    if junk:
        i = junk[0]
        raise UserError(f"character {seq[i]!r} at position {i + 1} is not DNA (A, C, G, T or IUPAC)", where)
    if policy == "error":
        i = bad[0]
        raise UserError(
            f"ambiguous base {seq[i]!r} at position {i + 1}; set sequence.policy=skip or =replace to accept it",
            where,
        )
    if policy == "skip":
        raise SkipSequence(where)
    rng = rng or random.Random(0)
    chars = list(seq)
    for i in bad:
        chars[i] = rng.choice(BASES)
    return "".join(chars)


def encode_bases(sequences: Sequence[str]) -> np.ndarray:
    """Equal-length sequences -> uint8 matrix of base codes (A=0, C=1, G=2, T=3, N=4; anything else 255)."""
    if not sequences:
        return np.zeros((0, 0), dtype=np.uint8)
    # 'replace': a non-ASCII character becomes one '?' (code 255), so shapes hold and callers see junk, not a crash
    raw = np.frombuffer("".join(sequences).encode("ascii", "replace"), dtype=np.uint8)
    return _CODE[raw].reshape(len(sequences), -1)


_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)


def substitution_noise(sequence: str, p: float, copies: int, rng: np.random.Generator) -> list[str]:
    """`copies` noisy copies of `sequence`: every base independently replaced, with probability p, by one of
    the other three (uniformly); N stays N."""
    codes = np.repeat(encode_bases([sequence]), copies, axis=0)
    hit = (rng.random(codes.shape) < p) & (codes < 4)
    shifted = (codes + rng.integers(1, 4, size=codes.shape, dtype=np.uint8)) % 4
    codes = np.where(hit, shifted, codes)
    return [row.tobytes().decode() for row in _LETTERS[codes]]


def apply_edits(sequence: str, edits: Iterable[Edit]) -> str:
    """Apply edits; each edit's reference base must match (guards against stale edit lists). Insertions and
    deletions (an empty ref or alt) go through `edits.apply_any`, which owns their rules."""
    edits = list(edits)
    if any(not ref or not alt for _, ref, alt in edits):
        return apply_any(sequence, edits)
    chars = list(sequence)
    for pos, ref, alt in edits:
        if chars[pos] != ref:
            raise ValueError(f"edit {pos}:{ref}>{alt} does not match base {chars[pos]!r}")
        chars[pos] = alt
    return "".join(chars)


def diff_edits(original: str, changed: str) -> list[Edit]:
    """The substitutions turning `original` into `changed` (same length), in position order."""
    if len(original) != len(changed):
        raise ValueError("substitution-only diff needs equal lengths")
    return [(i, a, b) for i, (a, b) in enumerate(zip(original, changed)) if a != b]


_COMPLEMENT = str.maketrans("ACGTNRYSWKMBDHV", "TGCANYRSWMKVHDB")  # IUPAC codes complement to their own kind


def reverse_complement(sequence: str) -> str:
    """The other strand, read 5' to 3' (N stays N; IUPAC codes map to their complements)."""
    return sequence.translate(_COMPLEMENT)[::-1]


def gc_content(sequence: str) -> float:
    if not sequence:
        return 0.0
    return (sequence.count("G") + sequence.count("C")) / len(sequence)


def other_bases(base: str) -> str:
    """The three substitutions of a base (all four for N)."""
    return BASES.replace(base, "")
