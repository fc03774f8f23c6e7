"""Natural corruptions: seeded sequencing-error profiles applied to a task's sequences (`corrupt` command).

Each profile takes a severity and a generator and returns the corrupted read:
  illumina    substitutions at a mean rate of `severity` per base, rising linearly along the read from half
              to one and a half times the mean (Illumina's quality falls towards the 3' end); the wrong
              base is drawn uniformly from the other three.
  nanopore    homopolymer-length errors, nanopore's dominant error: every run of >= 2 identical bases is,
              with probability `severity`, one base shorter or one base longer (equally likely).
  n_mask      low-quality stretches called N: stretches of geometric length (mean 10 nt) are masked until
              a `severity` fraction of the read is N.
  truncate    the read ends early: the last `severity` fraction of the bases is missing.
Reads may change length (nanopore, truncate): models read any length up to their maximum.
Randomness: one generator per (seed, example id, profile, severity), so every corrupted read can be made
again from its example alone.
"""

from __future__ import annotations

import zlib
from typing import Callable

import numpy as np

from genoarmory.sequence import substitution_noise

MASK_STRETCH = 10  # mean length of an N-masked stretch (nt)


def illumina(sequence: str, severity: float, rng: np.random.Generator) -> str:
    n = len(sequence)
    ramp = np.linspace(0.5, 1.5, n) if n > 1 else np.ones(1)
    hit = rng.random(n) < severity * ramp
    noisy = substitution_noise(sequence, 1.0, 1, rng)[0]  # every base replaced; keep only the hit ones
    return "".join(b if h else a for a, b, h in zip(sequence, noisy, hit))


def nanopore(sequence: str, severity: float, rng: np.random.Generator) -> str:
    out, i = [], 0
    while i < len(sequence):
        j = i
        while j < len(sequence) and sequence[j] == sequence[i]:
            j += 1
        run = j - i
        if run >= 2 and rng.random() < severity:
            run += 1 if rng.random() < 0.5 else -1
        out.append(sequence[i] * run)
        i = j
    return "".join(out)


def n_mask(sequence: str, severity: float, rng: np.random.Generator) -> str:
    chars = np.frombuffer(sequence.encode(), dtype=np.uint8).copy()
    target = int(round(severity * len(chars)))
    masked = np.zeros(len(chars), dtype=bool)
    while (left := target - int(masked.sum())) > 0:
        start = int(rng.integers(0, len(chars)))
        fresh = start + np.flatnonzero(~masked[start:start + int(rng.geometric(1.0 / MASK_STRETCH))])
        masked[fresh[:left]] = True
    chars[masked] = ord("N")
    return chars.tobytes().decode()


def truncate(sequence: str, severity: float, rng: np.random.Generator) -> str:
    keep = max(1, len(sequence) - int(round(severity * len(sequence))))
    return sequence[:keep]


PROFILES: dict[str, Callable[[str, float, np.random.Generator], str]] = {
    "illumina": illumina, "nanopore": nanopore, "n_mask": n_mask, "truncate": truncate}


def corruption_rng(seed: int, example_id: str, profile: str, severity: float) -> np.random.Generator:
    key = f"{example_id}|{profile}|{severity!r}".encode()
    return np.random.default_rng([int(seed), zlib.crc32(key), len(key)])


def corrupt(sequence: str, example_id: str, profile: str, severity: float, seed: int) -> str:
    return PROFILES[profile](sequence, float(severity), corruption_rng(seed, example_id, profile, severity))
