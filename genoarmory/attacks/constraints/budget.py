"""The Hamming budget: at most floor(max_perturb_ratio x length) nucleotides edited, and at least one."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original, mask


def max_edits(max_perturb_ratio: float, length: int) -> int:
    return max(1, math.floor(max_perturb_ratio * length + 1e-9))


@dataclass(frozen=True)
class HammingBudget:
    max_perturb_ratio: float

    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        limit = max_edits(self.max_perturb_ratio, len(original.sequence))
        return mask(bool(c.new) and len(c.edits) <= limit for c in candidates)
