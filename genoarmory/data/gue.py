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

        try:
            folder = gue_task_dir(task, cache_dir=cache_dir, offline=offline, data_root=data_root)
        except UserError as err:
            if not Path(data_root).is_dir():
                raise
            raise UserError(layout_problem(Path(data_root), task) + f" (nor could the hub copy be used: {err})") from None
    if ambiguous not in ("skip", "error", "replace"):
        raise UserError(f"dataset.loader.ambiguous={ambiguous!r}: choose skip, error or replace")
    loaded = load_csv_task(f"gue/{task}", folder, num_labels, ambiguous if policy == "error" else policy, max_length)
    loaded.oracles = gue_oracles(task, loaded.splits, Path(cache_dir) if cache_dir else None)
    return loaded


def layout_problem(root: Path, task: str) -> str:
    """What is wrong with a data_root that lacks <root>/<group>/<task>/: the folder GUE's layout needs, and
    where the task is instead when it is close by (data_root one level too high, too low, or at the task)."""
    group, _, name = task.partition("/")
    want = root / group / name
    hint = ""
    for candidate, fix in ((root / "GUE" / task, root / "GUE"), (root / "gue" / task, root / "gue"),
                           (root.parent / task, root.parent),
                           (root.parent.parent / task, root.parent.parent)):
        if candidate.is_dir() and candidate != want:
            hint = f"; it is at {candidate}/: set data_root={fix}"
            break
    else:
        if (root / "train.csv").is_file() or (root / "test.csv").is_file():
            hint = f"; {root} holds one task's CSVs: use dataset=csv dataset.path={root}, or data_root=<folder holding {group}/>"
        else:
            groups = sorted(p.name for p in root.iterdir() if p.is_dir())[:8]
            hint = f"; {root} holds {', '.join(groups) or 'no folders'}"
    return (f"data_root={root}: no {want}/ folder (GUE's layout: <data_root>/<group>/<task>/{{train,dev,test}}.csv)"
            + hint)
