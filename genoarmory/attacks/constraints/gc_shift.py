"""GC content may move by at most `max_shift` (a fraction, e.g. 0.05) from the original's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original, mask
from genoarmory.sequence import gc_content


@dataclass(frozen=True)
class GCShift:
    max_shift: float

    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        base = original.cache.setdefault("gc", gc_content(original.sequence))
        return mask(abs(gc_content(c.sequence) - base) <= self.max_shift for c in candidates)
