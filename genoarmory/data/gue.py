"""GUE (DNABERT-2's Genome Understanding Evaluation): a local folder under data_root, else the hub."""

from __future__ import annotations

from pathlib import Path

from genoarmory.data.csv_tasks import load_csv_task
from genoarmory.data.example import Task
from genoarmory.data.oracles.gue import gue_oracles


def load_gue(task: str, num_labels: int, data_root: str | Path, policy: str = "error",
             max_length: int | None = None, cache_dir: str | Path | None = None,
             offline: bool = False) -> Task:
    """`task` is GUE's own folder name, e.g. 'EMP/H3', 'tf/0', 'prom/prom_300_all'.

    Looks for <data_root>/<task>/ first (GUE as it ships: train.csv, dev.csv, test.csv); when that is
    absent, fetches the task from the Hugging Face hub into cache_dir (one clear error line offline).
    """
    folder = Path(data_root) / task
    if not folder.is_dir():
        from genoarmory.hub import gue_task_dir

        folder = gue_task_dir(task, cache_dir=cache_dir, offline=offline, data_root=data_root)
    loaded = load_csv_task(f"gue/{task}", folder, num_labels, policy, max_length)
    loaded.oracles = gue_oracles(task, loaded.splits, Path(cache_dir) if cache_dir else None)
    return loaded
