"""The threat model, counted in nucleotides: budgets plus a list of constraints on candidate edits.

Each constraint is one file with one class (`check_many(candidates, original) -> mask`):
  budget.py      Hamming budget, or edit distance with indels (fraction of the length)
  protected.py   protected positions
  no_repeat.py   no position edited twice
  gc_shift.py    bounded GC-content shift
`edits` says which edit kinds the search may make (substitution | indel | all, edits.py) and `length` what
happens to the length with indels: keep (fitted at the 3' end, edits.fit_length) or change. The query budget
is counted by the engine, per example.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from genoarmory.attacks.constraints.base import Candidate, Constraint, Original
from genoarmory.attacks.constraints.budget import EditDistanceBudget, HammingBudget, budgeted, max_edits
from genoarmory.attacks.constraints.gc_shift import GCShift
from genoarmory.attacks.constraints.no_repeat import NoRepeatedPosition
from genoarmory.attacks.constraints.protected import ProtectedSpans
from genoarmory.sequence import Edit
from genoarmory.edits import apply_any, fit_length, merge
from genoarmory.errors import UserError

EDIT_KINDS = {"substitution": ("substitution",), "indel": ("insertion", "deletion"),
              "all": ("substitution", "insertion", "deletion")}
LENGTHS = ("keep", "change")

__all__ = ["Candidate", "Constraint", "EditDistanceBudget", "GCShift", "HammingBudget", "NoRepeatedPosition", "Original", "ProtectedSpans",
           "ThreatModel", "max_edits", "substitutions_only", "threat_model_from"]


@dataclass
class ThreatModel:
    """Nucleotide budget (fraction of length), query budget, protected positions, GC-content shift, no
    position edited twice; `extra` holds further constraints (any object with `check_many`).
    `max_edit_distance` (None: `max_perturb_ratio`) is the budget as an edit distance; `edits` and `length`
    as in the module note."""

    max_perturb_ratio: float = 0.1
    query_budget: int | None = None
    max_gc_shift: float | None = None
    protected: object = None  # None, 'meta' (each example's label-defining spans), or [[start, end), ...]
    extra: list = field(default_factory=list)
    edits: str = "substitution"
    length: str = "keep"
    max_edit_distance: float | None = None

    def __post_init__(self):
        self._protection = ProtectedSpans(self.protected)
        budget = HammingBudget(self.ratio) if not self.indels else EditDistanceBudget(self.ratio)
        self.constraints: list[Constraint] = [budget, self._protection, NoRepeatedPosition()]
        if self.max_gc_shift is not None:
            self.constraints.append(GCShift(self.max_gc_shift))
        self.constraints += list(self.extra)

    @property
    def ratio(self) -> float:
        return self.max_perturb_ratio if self.max_edit_distance is None else self.max_edit_distance

    @property
    def indels(self) -> bool:
        return self.edits != "substitution"

    @property
    def kinds(self) -> tuple[str, ...]:
        return EDIT_KINDS[self.edits]

    def max_edits(self, length: int) -> int:
        return max_edits(self.ratio, length)

    def spent(self, candidate: Candidate) -> int:
        """The budget a candidate has used (edits, or edit distance without the length fit)."""
        return budgeted(candidate) if self.indels else len(candidate.edits)

    def extend(self, original: Original, current: Candidate, proposals: list[list[Edit]]) -> list[Candidate]:
        """Candidates of edits of any kind: each proposal (original coordinates) added to the search's own
        edits, fitted to the length under `length=keep`; proposals overlapping an edit already made drop out.
        A candidate's `new` holds its fit's new edits too, so the fit never trims a protected base either."""
        seq, prior = original.sequence, set(current.edits)
        out = []
        for new in proposals:
            chosen = merge(current.chosen if current.chosen is not None else current.edits, new)
            if chosen is None:
                continue
            edits, fit = fit_length(seq, chosen, len(seq)) if self.length == "keep" else (chosen, [])
            out.append(Candidate(apply_any(seq, edits), edits, [e for e in edits if e not in prior], fit, chosen))
        return out

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
    edits, length, distance = cfg.get("edits", "substitution"), cfg.get("length", "keep"), cfg.get("max_edit_distance")
    if edits not in EDIT_KINDS:
        raise UserError(f"attack.edits={edits!r}: choose one of {', '.join(EDIT_KINDS)}")
    if length not in LENGTHS:
        raise UserError(f"attack.length={length!r}: choose one of {', '.join(LENGTHS)}")
    if distance is not None and (isinstance(distance, bool) or not isinstance(distance, (int, float))
                                 or not 0 < distance <= 1):
        raise UserError(f"attack.max_edit_distance={distance!r} must be a fraction in (0, 1] (or null: max_perturb_ratio)")
    return ThreatModel(ratio, budget, None if gc is None else float(gc), protected, edits=edits, length=length,
                       max_edit_distance=None if distance is None else float(distance))


def substitutions_only(threat: ThreatModel, attack: str, why: str) -> None:
    """A recipe that cannot make insertions or deletions refuses them in one line."""
    if threat.indels:
        raise UserError(f"attack.edits={threat.edits}: {attack} makes substitutions only ({why}); use "
                        "attack.edits=substitution, or attack=random|bertattack|fimba for indels")
