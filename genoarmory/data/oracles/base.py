"""What a label oracle is: the rule (or the elements) that decide a task's true label.

Two kinds, because tasks know their truth in two ways:
- `LabelOracle.labels(sequences)`: a label per sequence. Exact on the embedded motif tasks (the very rule
  that generated them); a trusted classifier (`attack.oracle=DIR`) is a label oracle that is NOT exact and
  is reported as such.
- `ElementOracle.elements(sequences)`: per sequence, the set of label-defining sequence elements it holds
  (motif hits, splice sites). An approximation, and named so: a success that destroys or creates one of them
  may have changed the biology, so it is not admitted as label-preserving.
A label-preservation check compares a candidate's signature (its label, or its element set) with the
original's: equal means preserved. Elements carry positions, so after insertions or deletions the
original's elements are compared where the edits moved them (`moved`): an element an indel only shifted
is kept, one an indel cut into is changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from genoarmory.edits import shift


@dataclass(frozen=True, order=True)
class Element:
    """One label-defining element in a sequence: `name` (e.g. a JASPAR id) over [start, end)."""

    name: str
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.name}@{self.start}-{self.end}"


class LabelOracle(Protocol):
    name: str
    exact: bool

    def labels(self, sequences: list[str]) -> np.ndarray: ...

    def describe(self) -> dict: ...


class ElementOracle(Protocol):
    name: str

    def elements(self, sequences: list[str]) -> list[frozenset[Element]]: ...

    def describe(self) -> dict: ...


def element_changes(before: frozenset[Element], after: frozenset[Element]) -> list[str]:
    """Destroyed ('-') and created ('+') elements, sorted: what a record shows of an element change."""
    return [f"-{e}" for e in sorted(before - after)] + [f"+{e}" for e in sorted(after - before)]


def moved(elements: frozenset[Element], edits) -> frozenset[Element]:
    """The original's elements at their places in the edited sequence: shifted over the bases inserted and
    deleted before them (an indel inside an element changes its extent, so it no longer matches a hit)."""
    if all(ref and alt for _, ref, alt in edits):
        return elements
    return frozenset(Element(e.name, shift(edits, e.start), shift(edits, e.end - 1) + 1) for e in elements)
