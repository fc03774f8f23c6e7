"""Protected positions: no edit may touch them (the task's label-defining spans, or a fixed list).

`spans='meta'` protects, per example, the spans the example's meta names (`META_KEYS`). A list of
[start, end) spans protects the same positions in every example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original, mask
from genoarmory.errors import UserError

META_KEYS = ("protected_spans",)  # first one present wins


def meta_spans(meta: dict) -> list:
    for key in META_KEYS:
        if meta.get(key) is not None:
            return meta[key]
    return []


def positions(spans) -> frozenset[int]:
    try:
        return frozenset(p for start, end, *_ in spans for p in range(int(start), int(end)))
    except (TypeError, ValueError):
        raise UserError(f"attack.protected must be 'meta', none or a list of [start, end) spans, got {spans!r}") from None


@dataclass(frozen=True)
class ProtectedSpans:
    spans: object = "meta"  # 'meta' | None (nothing) | [[start, end), ...]

    def positions_for(self, meta: dict) -> frozenset[int]:
        if self.spans is None:
            return frozenset()
        return positions(meta_spans(meta) if self.spans == "meta" else self.spans)

    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        locked = original.protected
        return mask(not any(p in locked for p, _, _ in c.new) for c in candidates)
