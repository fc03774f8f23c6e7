"""`LabelCheck`: which oracle decides whether an attack kept the true label, and whether the search must.

`attack.preserve` (resolved by `resolve_check`):
  auto      the strongest check the task has: its label oracle (a trusted model given as attack.oracle
            first, else the task's exact rule), else its element oracle, else none ("not verifiable");
  oracle    the label oracle's label must not change (an error when the task has none);
  elements  no label-defining element may be destroyed or created (an error when the task has none);
  none      the paper's protocol: nothing is enforced, but every success is still checked with the check
            `auto` would use, so the summary counts the successes that changed the label.
When enforced, the check is a constraint of every attack's search (attacks/constraints/label_preserving.py):
a candidate that fails it is never scored. Every success's record says what the check found.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genoarmory.data.oracles import Oracles
from genoarmory.data.oracles.base import ElementOracle, LabelOracle, element_changes, moved
from genoarmory.errors import UserError

MODES = ("auto", "oracle", "elements", "none")


@dataclass
class LabelCheck:
    requested: str
    mode: str                     # oracle | elements | none: which signature must be kept
    enforced: bool
    label: LabelOracle | None     # used when mode == 'oracle', and reported whenever present
    elements: ElementOracle | None
    note: str | None = None

    @property
    def verifiable(self) -> bool:
        return self.mode != "none"

    @property
    def checker(self):
        return {"oracle": self.label, "elements": self.elements}.get(self.mode)

    def signatures(self, sequences: list[str]) -> list:
        if self.mode == "oracle":
            return [int(x) for x in self.label.labels(sequences)]
        if self.mode == "elements":
            return self.elements.elements(sequences)
        raise ValueError("no check to compute: label preservation is not verifiable here")

    def preserved_many(self, original: str, candidates: list[str]) -> np.ndarray:
        reference, *others = self.signatures([original, *candidates])
        return np.fromiter((s == reference for s in others), dtype=bool, count=len(others))

    def expected(self, reference, edits) -> object:
        """The original's signature as an edited sequence must show it to be preserved: its label, or its
        elements where the edits' insertions and deletions moved them (base.moved)."""
        return moved(reference, edits) if self.mode == "elements" else reference

    def record_fields(self, original: str, adversarial: str, edits=()) -> dict:
        """What a success's record carries: the adversarial sequence's oracle label (label oracles), the
        element changes (element oracles, the original's elements moved over `edits`' indels), and whether
        the checked signature was kept."""
        if not self.verifiable:
            return {}
        out: dict = {}
        if self.label is not None:
            before, after = (int(x) for x in self.label.labels([original, adversarial]))
            out["adv_oracle_label"] = after
            if self.mode == "oracle":
                out["label_preserved"] = after == before
        if self.elements is not None and self.mode == "elements":
            before, after = self.elements.elements([original, adversarial])
            before = moved(before, edits)
            out["element_changes"] = element_changes(before, after)
            out["label_preserved"] = before == after
        return out

    def describe(self) -> dict:
        checker = self.checker
        return {"preserve": self.requested, "mode": self.mode, "enforced": self.enforced,
                "verifiable": self.verifiable,
                "checker": checker.describe() if checker is not None else None,
                "exact": bool(getattr(checker, "exact", False)) if checker is not None else False,
                "note": self.note}


def resolve_check(oracles: Oracles, preserve: str = "auto", model_oracle: LabelOracle | None = None) -> LabelCheck:
    preserve = str(preserve)
    if preserve not in MODES:
        raise UserError(f"attack.preserve={preserve!r}: choose one of {', '.join(MODES)}")
    label = model_oracle or oracles.label
    note = (f"label oracle: {label.name} (a trusted model, not the truth)" if model_oracle is not None
            else oracles.note)
    if preserve == "oracle" and label is None:
        raise UserError(f"attack.preserve=oracle: this task has no label oracle ({oracles.note}); use "
                        f"attack.preserve={'elements' if oracles.element_factory else 'none'} or give a trusted "
                        "classifier with attack.oracle=DIR")
    if preserve == "elements" and oracles.element_factory is None:
        raise UserError(f"attack.preserve=elements: this task has no label-defining elements ({oracles.note}); "
                        "use attack.preserve=none or attack.oracle=DIR")
    if preserve in ("auto", "none"):
        mode = "oracle" if label is not None else "elements" if oracles.element_factory else "none"
    else:
        mode = preserve
    elements = oracles.elements if mode == "elements" else None
    return LabelCheck(preserve, mode, preserve != "none" and mode != "none", label, elements, note)
