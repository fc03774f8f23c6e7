"""Label oracles: what a task knows about its true labels (see base.py), attached to every Task.

`Oracles` holds a task's label oracle and element oracle, each built on first use (a TF task's element
oracle learns its motifs from the training split, which an attack of the test split should not pay for
unless it checks labels), and the note that says why a task has none ("not verifiable").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from genoarmory.data.oracles.base import Element, ElementOracle, LabelOracle, element_changes

__all__ = ["Element", "ElementOracle", "LabelOracle", "Oracles", "element_changes"]


@dataclass
class Oracles:
    label_factory: Callable[[], LabelOracle] | None = None
    element_factory: Callable[[], ElementOracle] | None = None
    note: str | None = None  # why there is no oracle, or what the approximation is
    _made: dict = field(default_factory=dict, repr=False)

    def _get(self, kind: str, factory):
        if factory is None:
            return None
        if kind not in self._made:
            self._made[kind] = factory()
        return self._made[kind]

    @property
    def label(self) -> LabelOracle | None:
        return self._get("label", self.label_factory)

    @property
    def elements(self) -> ElementOracle | None:
        return self._get("elements", self.element_factory)

    @property
    def available(self) -> list[str]:
        return [k for k, f in (("oracle", self.label_factory), ("elements", self.element_factory)) if f is not None]
