"""`genoarmory.read(run_dir)` and `genoarmory.visualize(run_dir)`: the `read` and `visualize` commands'
work, returned as data (a DataFrame of metrics rows, the written plot files)."""

from __future__ import annotations

from pathlib import Path


def run_rows(target: str | Path) -> list[dict]:
    """One metrics row per run at or below `target` (a run folder or a sweep folder), labelled by its folder."""
    from genoarmory.analysis.table import run_row
    from genoarmory.results import Run, find_runs

    target, rows = Path(target), []
    for path in find_runs(target):
        label = path.name if path == target else path.relative_to(target).as_posix()
        rows.append(run_row(Run(path).summary, label))
    return rows


def read(run_dir: str | Path):
    """The metrics table `read RUN_DIR` prints, as a pandas DataFrame (one row per run)."""
    import pandas as pd

    return pd.DataFrame(run_rows(run_dir))


def visualize(run_dir: str | Path, status: str = "success", out_dir: str | Path | None = None) -> list[Path]:
    """`visualize RUN_DIR`: plots of where the edits landed, for every run at or below run_dir; the files written."""
    from genoarmory.analysis.run_plots import STATUSES, visualize_run
    from genoarmory.errors import UserError, suggest
    from genoarmory.results import RECORDS, find_runs

    if status not in STATUSES:
        raise UserError(f"status={status!r}{suggest(status, STATUSES)}")
    runs = find_runs(run_dir, need=RECORDS)
    if out_dir is not None and len(runs) > 1:
        raise UserError(f"out_dir needs a single run; {run_dir} holds {len(runs)} runs")
    return [p for run in runs for p in visualize_run(run, STATUSES[status], Path(out_dir) if out_dir else None)]
