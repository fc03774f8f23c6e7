"""Label preservation as a constraint: a candidate whose oracle label (or label-defining element set)
differs from the original's is not admitted, so no attack can win by changing the biology.

The check comes from the task (data/oracles/check.py). The original's signature is computed once per
example (`Original.cache`); candidates are checked in one batched call per step. After insertions or
deletions an element oracle's signature is compared where the edits moved the original's elements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original
from genoarmory.data.oracles.check import LabelCheck


@dataclass
class PreservesLabel:
    check: LabelCheck

    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        if "label_signature" not in original.cache:
            original.cache["label_signature"] = self.check.signatures([original.sequence])[0]
        reference = original.cache["label_signature"]
        signatures = self.check.signatures([c.sequence for c in candidates])
        return np.fromiter((s == self.check.expected(reference, c.edits) for s, c in zip(signatures, candidates)),
                           dtype=bool, count=len(candidates))
