"""The unit every command passes around: one labelled DNA sequence."""

from __future__ import annotations

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


@dataclass
class Task:
    """A classification task: its name, label count and examples per split ('train', 'dev', 'test')."""

    name: str
    num_labels: int
    splits: dict[str, list[Example]]
    info: dict = field(default_factory=dict)

    def split(self, name: str) -> list[Example]:
        from genoarmory.errors import UserError

        if name not in self.splits:
            raise UserError(f"task {self.name} has no split {name!r}; it has {', '.join(self.splits)}")
        return self.splits[name]
