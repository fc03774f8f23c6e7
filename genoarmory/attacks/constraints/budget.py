"""The nucleotide budget: at most floor(ratio x length) nucleotides edited, and at least one.

Substitutions only: the Hamming budget (edits counted). With insertions and deletions: the edit distance
(edits.cost: each substituted, inserted or deleted base), the length fit of `attack.length=keep` aside —
it is the fixed-length window's view of the mutated sequence, not a mutation (edits.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original, mask
from genoarmory.edits import cost


def max_edits(max_perturb_ratio: float, length: int) -> int:
    return max(1, math.floor(max_perturb_ratio * length + 1e-9))


@dataclass(frozen=True)
class HammingBudget:
    max_perturb_ratio: float

    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        limit = max_edits(self.max_perturb_ratio, len(original.sequence))
        return mask(bool(c.new) and len(c.edits) <= limit for c in candidates)


def budgeted(candidate: Candidate) -> int:
    """The edit distance a candidate spends: its edits but the length fit."""
    return cost(candidate.edits) - cost(candidate.fit)


@dataclass(frozen=True)
class EditDistanceBudget:
    max_edit_distance: float

    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        limit = max_edits(self.max_edit_distance, len(original.sequence))
        return mask(bool(c.new) and budgeted(c) <= limit for c in candidates)
