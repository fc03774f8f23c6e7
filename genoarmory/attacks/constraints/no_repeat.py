"""No position is edited twice: an edit this step adds may not land where an earlier one did (a position is
an original base, or the insertion slot before one: edits.keys)."""

from __future__ import annotations

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original, mask
from genoarmory.edits import keys


class NoRepeatedPosition:
    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        def ok(c: Candidate) -> bool:
            if all(ref and alt for _, ref, alt in c.edits):  # substitutions only: one position each
                new = {p for p, _, _ in c.new}
                return len(new) == len(c.new) and sum(p in new for p, _, _ in c.edits) == len(c.new)
            new = [k for e in c.new for k in keys(e)]
            return len(set(new)) == len(new) and sum(k in set(new) for e in c.edits for k in keys(e)) == len(new)

        return mask(ok(c) for c in candidates)
