"""GUE (DNABERT-2's Genome Understanding Evaluation): a local folder under data_root, else the hub."""

from __future__ import annotations

from pathlib import Path

from genoarmory.data.csv_tasks import load_csv_task
from genoarmory.data.example import Task
from genoarmory.data.oracles.gue import gue_oracles
from genoarmory.errors import UserError


def load_gue(task: str, num_labels: int, data_root: str | Path, policy: str = "error",
             max_length: int | None = None, cache_dir: str | Path | None = None,
             offline: bool = False, ambiguous: str = "skip") -> Task:
    """`task` is GUE's own folder name, e.g. 'EMP/H3', 'tf/0', 'prom/prom_300_all'.

    GUE as published holds a few sequences with N (prom_300_all's train split, line 4844): under the
    run-wide default `sequence.policy=error` they are dropped (`ambiguous`, default skip) and counted in
    the task's info and the run's summary, rather than stopping `train`. Skipped, not replaced: a random base
    would put nucleotides in a benchmark's sequences that no genome holds, where every edit is counted.
    `sequence.policy=replace` (or skip) still applies as given; `dataset.loader.ambiguous=error` refuses them.

    Looks for <data_root>/<task>/ first (GUE as it ships: train.csv, dev.csv, test.csv); when that is
    absent, fetches the task from the Hugging Face hub into cache_dir (one clear error line offline).
    """
    folder = Path(data_root) / task
    if not folder.is_dir():
        from genoarmory.hub import gue_task_dir

        folder = gue_task_dir(task, cache_dir=cache_dir, offline=offline, data_root=data_root)
    if ambiguous not in ("skip", "error", "replace"):
        raise UserError(f"dataset.loader.ambiguous={ambiguous!r}: choose skip, error or replace")
    loaded = load_csv_task(f"gue/{task}", folder, num_labels, ambiguous if policy == "error" else policy, max_length)
    loaded.oracles = gue_oracles(task, loaded.splits, Path(cache_dir) if cache_dir else None)
    return loaded
