"""Protected positions: no edit may touch them (no insertion inside a protected span either) (the task's label-defining spans, or a fixed list).

`spans='meta'` protects, per example, what the task says defines its label: `meta["protected_spans"]`
when a loader sets it, else the ground-truth `meta["motif_spans"]` of the embedded motif tasks, else the
label-defining elements of the original that the attack pipeline finds with the task's element oracle
(`meta["label_spans"]`, attacks/run.py). Motifs sit at different positions in every example, so a fixed
list could not follow them; and protection alone never stops an edit from CREATING an element elsewhere:
that is what label preservation (`attack.preserve`) is for. A list of [start, end) spans protects the same
positions in every example.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Original, mask
from genoarmory.errors import UserError

META_KEYS = ("protected_spans", "motif_spans", "label_spans")  # the first one present wins


def names_spans(meta: dict) -> bool:
    return any(meta.get(key) is not None for key in META_KEYS)


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
    spans: object = None  # None (nothing) | 'meta' | [[start, end), ...]

    def positions_for(self, meta: dict) -> frozenset[int]:
        if self.spans is None:
            return frozenset()
        return positions(meta_spans(meta) if self.spans == "meta" else self.spans)

    def check_many(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        locked = original.protected
        if not locked:  # nothing protected (the default): every candidate passes, without a look at its edits
            return np.ones(len(candidates), dtype=bool)
        return mask(not any(touches(e, locked) for e in c.new) for c in candidates)


def touches(edit, locked: frozenset[int]) -> bool:
    """An edit touches a protected base it substitutes or deletes; an insertion, the span it lands inside
    (between two protected bases: at a span's edge it leaves the span's bases as they were)."""
    pos, ref, _ = edit
    if not ref:
        return pos in locked and pos - 1 in locked
    return any(p in locked for p in range(pos, pos + len(ref)))
