"""What a constraint sees: candidates (edit sets on one example) and the original they come from.

A constraint is a small class with `check_many(candidates, original) -> np.ndarray[bool]`: which of the
candidates it admits. The threat model admits a candidate when every one of its constraints does, so a
new rule of the threat model is one new file with one such class (TextAttack's shape, over nucleotides).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from genoarmory.sequence import Edit


@dataclass
class Original:
    """The example being attacked, with what every constraint may need computed once per example."""

    sequence: str
    meta: dict = field(default_factory=dict)
    protected: frozenset[int] = frozenset()  # positions no edit may touch (ProtectedSpans)
    cache: dict = field(default_factory=dict)  # per-example values a constraint computes once (e.g. GC content)


@dataclass
class Candidate:
    """One candidate: its sequence, every edit it holds against the original (sorted by position), and
    the edits this step adds (`new`, a subset of `edits`). With indels under `attack.length=keep`, `fit`
    holds the edits of `edits` that only fit the length (edits.fit_length; not budgeted) and `chosen` the
    search's own edits before the fit (what the next step builds on)."""

    sequence: str
    edits: list[Edit]
    new: list[Edit]
    fit: list[Edit] = field(default_factory=list)
    chosen: list[Edit] | None = None  # None: the same as `edits` (substitutions)


class Constraint(Protocol):
    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray: ...


def mask(values) -> np.ndarray:
    return np.fromiter(values, dtype=bool)
