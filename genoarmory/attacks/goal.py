"""Goal functions: what counts as success, and the score the search climbs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Goal:
    """Untargeted: leave the true label (score = 1 - p(label)).
    Targeted (multi-class): reach `target` (score = p(target))."""

    label: int
    target: int | None = None

    def scores(self, probs: np.ndarray) -> np.ndarray:
        # Rounded so that decisions never hinge on last-bit float noise between batch layouts:
        # a resumed or re-batched run makes exactly the same choices.
        raw = probs[:, self.target] if self.target is not None else 1.0 - probs[:, self.label]
        return np.round(raw.astype(np.float64), 6)

    def reached(self, probs: np.ndarray) -> np.ndarray:
        pred = probs.argmax(-1)
        return pred == self.target if self.target is not None else pred != self.label


def make_goal(label: int, targeted: bool, target_label: int | None, num_labels: int) -> Goal:
    if not targeted:
        return Goal(label)
    from genoarmory.errors import UserError

    if target_label is None or not 0 <= int(target_label) < num_labels:
        raise UserError(f"targeted attack needs attack.target_label in 0..{num_labels - 1}")
    return Goal(label, int(target_label))
