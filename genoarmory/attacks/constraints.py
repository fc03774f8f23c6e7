"""The threat model, counted in nucleotides: which candidate edits an attack may make."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from genoarmory.errors import UserError
from genoarmory.sequence import Edit, gc_content


@dataclass
class ThreatModel:
    """Hamming budget (fraction of length), query budget, protected positions, GC-content shift;
    and no position edited twice. Length never changes (substitutions only)."""

    max_perturb_ratio: float = 0.1
    query_budget: int | None = None
    max_gc_shift: float | None = None
    protected: list = field(default_factory=list)  # [[start, end), ...] from config, or 'meta'

    def max_edits(self, length: int) -> int:
        return max(1, math.floor(self.max_perturb_ratio * length + 1e-9))

    def protected_positions(self, meta: dict) -> set[int]:
        spans = meta.get("protected_spans", []) if self.protected in ("meta", None) else self.protected
        try:
            return {p for start, end, *_ in spans for p in range(int(start), int(end))}
        except (TypeError, ValueError):
            raise UserError(f"attack.protected must be 'meta' or a list of [start, end) spans, got {spans!r}") from None

    def admits(self, edits: list[Edit], already: list[Edit], locked: set[int], original: str, candidate: str) -> bool:
        """May `edits` be added to the `already` accepted ones?"""
        if not edits or len(already) + len(edits) > self.max_edits(len(original)):
            return False
        if any(pos in locked for pos, _, _ in edits):  # protected or edited before
            return False
        if self.max_gc_shift is not None and abs(gc_content(candidate) - gc_content(original)) > self.max_gc_shift:
            return False
        return True


def threat_model_from(cfg) -> ThreatModel:
    ratio = float(cfg.max_perturb_ratio)
    if not 0 < ratio <= 1:
        raise UserError(f"attack.max_perturb_ratio={ratio} must be in (0, 1]")
    protected = cfg.get("protected", "meta")
    if protected not in ("meta", None):
        protected = [list(s) for s in protected]
    return ThreatModel(ratio, int(cfg.query_budget) if cfg.get("query_budget") else None,
                       float(cfg.max_gc_shift) if cfg.get("max_gc_shift") is not None else None, protected)
