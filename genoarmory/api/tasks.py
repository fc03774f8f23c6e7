"""`genoarmory.load_task(...)`: a task as the CLI's `dataset=` loads it, remembering how it was configured
(so `genoarmory.attack(victim, task=task)` runs under that dataset's config and its label oracle); and
`sequences_task`, the in-memory task of sequences handed to `genoarmory.attack`."""

from __future__ import annotations

from pathlib import Path

from genoarmory.data.example import Example, Task
from genoarmory.errors import UserError

API_CONFIG = "api_config"  # Task.info key: the groups and settings that built the task


def load_task(name: str = "motif/tata", *, path: str | Path | None = None, data_root: str | Path | None = None,
              policy: str | None = None, **dataset) -> Task:
    """`name`: a dataset config (`motif/tata`, `gue/tf/0`, `csv`, `fasta`, ...); `path`: dataset.path (csv,
    fasta); `data_root`: the folder holding GUE; `policy`: sequence.policy; other keywords are dataset.* keys."""
    from genoarmory.api.settings import build_config
    from genoarmory.data import load_task as load_configured

    settings = {f"dataset.{k}": v for k, v in dataset.items()}
    if path is not None:
        settings["dataset.path"] = str(Path(path).expanduser())
    if data_root is not None:
        settings["data_root"] = str(Path(data_root).expanduser())
    if policy is not None:
        settings["sequence.policy"] = policy
    groups = [f"dataset={name}"]
    cfg = build_config("attack", groups, settings)
    task = load_configured(cfg)
    task.info[API_CONFIG] = {"groups": groups, "settings": settings}
    return task


def sequences_task(sequences, labels, num_labels: int | None, policy: str = "error") -> Task:
    """The task of sequences given in memory: one split, `test`, examples named by their position."""
    import random

    from genoarmory.sequence import SkipSequence, normalize

    sequences, labels = list(sequences), list(labels)
    if len(sequences) != len(labels):
        raise UserError(f"{len(sequences)} sequences but {len(labels)} labels")
    if not sequences:
        raise UserError("no sequences to attack")
    rng, examples, skipped = random.Random(f"sequences:{policy}"), [], 0
    for i, (seq, label) in enumerate(zip(sequences, labels)):
        if int(label) != label or label < 0:
            raise UserError(f"label {label!r} is not a class index (an integer >= 0)", f"sequence {i}")
        try:
            examples.append(Example(str(i), normalize(str(seq), policy, f"sequence {i}", rng), int(label), {}))
        except SkipSequence:
            skipped += 1
    num_labels = num_labels or max(2, 1 + max(e.label for e in examples))
    over = [e for e in examples if e.label >= num_labels]
    if over:
        raise UserError(f"label {over[0].label} out of range for a {num_labels}-class model", f"sequence {over[0].id}")
    return Task("sequences", num_labels, {"test": examples}, {"skipped": {"test": skipped}} if skipped else {})
