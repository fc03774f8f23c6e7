"""The threat model, counted in nucleotides: budgets plus a list of constraints on candidate edits.

Each constraint is one file with one class (`check_many(candidates, original) -> mask`):
  budget.py      Hamming budget (fraction of the length)
  protected.py   protected positions
  no_repeat.py   no position edited twice
  gc_shift.py    bounded GC-content shift
Length never changes (substitutions only). The query budget is counted by the engine, per example.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Constraint, Original
from genoarmory.attacks.constraints.budget import HammingBudget, max_edits
from genoarmory.attacks.constraints.gc_shift import GCShift
from genoarmory.attacks.constraints.no_repeat import NoRepeatedPosition
from genoarmory.attacks.constraints.protected import ProtectedSpans
from genoarmory.errors import UserError

__all__ = ["Candidate", "Constraint", "GCShift", "HammingBudget", "NoRepeatedPosition", "Original", "ProtectedSpans",
           "ThreatModel", "max_edits", "threat_model_from"]


@dataclass
class ThreatModel:
    """Hamming budget (fraction of length), query budget, protected positions, GC-content shift, no
    position edited twice; `extra` holds further constraints (any object with `check_many`)."""

    max_perturb_ratio: float = 0.1
    query_budget: int | None = None
    max_gc_shift: float | None = None
    protected: object = None  # None, 'meta' (each example's label-defining spans), or [[start, end), ...]
    extra: list = field(default_factory=list)

    def __post_init__(self):
        self._protection = ProtectedSpans(self.protected)
        self.constraints: list[Constraint] = [HammingBudget(self.max_perturb_ratio), self._protection,
                                              NoRepeatedPosition()]
        if self.max_gc_shift is not None:
            self.constraints.append(GCShift(self.max_gc_shift))
        self.constraints += list(self.extra)

    def max_edits(self, length: int) -> int:
        return max_edits(self.max_perturb_ratio, length)

    def protected_positions(self, meta: dict) -> frozenset[int]:
        return self._protection.positions_for(meta)

    def original(self, sequence: str, meta: dict | None = None) -> Original:
        meta = meta or {}
        return Original(sequence, meta, self.protected_positions(meta))

    def admit(self, candidates: list[Candidate], original: Original) -> np.ndarray:
        """Which candidates every constraint admits (each constraint sees only those still in)."""
        keep = np.ones(len(candidates), dtype=bool)
        for constraint in self.constraints:
            idx = np.flatnonzero(keep)
            if not len(idx):
                break
            keep[idx] = constraint.check_many([candidates[i] for i in idx], original)
        return keep


def threat_model_from(cfg) -> ThreatModel:
    try:
        ratio = float(cfg.max_perturb_ratio)
    except (TypeError, ValueError):
        raise UserError(f"attack.max_perturb_ratio={cfg.max_perturb_ratio!r} must be a number in (0, 1]") from None
    if not 0 < ratio <= 1:
        raise UserError(f"attack.max_perturb_ratio={ratio} must be in (0, 1]")
    budget = cfg.get("query_budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
        raise UserError(f"attack.query_budget={budget!r} must be a positive integer (or null: unlimited)")
    gc = cfg.get("max_gc_shift")
    if gc is not None and (isinstance(gc, bool) or not isinstance(gc, (int, float)) or not 0 <= gc <= 1):
        raise UserError(f"attack.max_gc_shift={gc!r} must be a fraction in [0, 1] (or null: unconstrained)")
    protected = cfg.get("protected", None)
    if protected not in ("meta", None):
        protected = [list(s) for s in protected]
    return ThreatModel(ratio, budget, None if gc is None else float(gc), protected)
