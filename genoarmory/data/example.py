"""The unit every command passes around: one labelled DNA sequence."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    """`sequence` is upper-case A/C/G/T (N only where the policy allowed it).

    `meta` may carry ground truth: embedded tasks store `motif_spans` as [[start, end, motif_id], ...]
    (0-based, end exclusive); loaders store `source` (file) and `line`.
    """

    id: str
    sequence: str
    label: int
    meta: dict = field(default_factory=dict, compare=False)


class LazySplits(Mapping):
    """Split name -> examples, each generated on first access (a 100k-example training split is not
    built when a command only attacks the test split)."""

    def __init__(self, factories: dict[str, Callable[[], list[Example]]]):
        self._factories, self._made = dict(factories), {}

    def __getitem__(self, name: str) -> list[Example]:
        if name not in self._made:
            self._made[name] = self._factories[name]()
        return self._made[name]

    def __iter__(self):
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)


@dataclass
class Task:
    """A classification task: its name, label count and examples per split ('train', 'dev', 'test'), and
    what it knows of its true labels (`oracles`: data/oracles; empty when nothing is verifiable)."""

    name: str
    num_labels: int
    splits: Mapping[str, list[Example]]  # a dict, or LazySplits
    info: dict = field(default_factory=dict)
    oracles: "Oracles" = None  # noqa: F821 (data/oracles imports this module)

    def __post_init__(self):
        if self.oracles is None:
            from genoarmory.data.oracles import Oracles

            self.oracles = Oracles(note="no label oracle for this task")

    def split(self, name: str) -> list[Example]:
        from genoarmory.errors import UserError

        if name not in self.splits:
            raise UserError(f"task {self.name} has no split {name!r}; it has {', '.join(self.splits)}")
        return self.splits[name]
