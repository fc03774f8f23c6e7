"""No position is edited twice: an edit this step adds may not land where an earlier one did."""

from __future__ import annotations

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original, mask


class NoRepeatedPosition:
    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        def ok(c: Candidate) -> bool:
            new = {p for p, _, _ in c.new}
            return len(new) == len(c.new) and sum(p in new for p, _, _ in c.edits) == len(c.new)

        return mask(ok(c) for c in candidates)
