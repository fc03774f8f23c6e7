"""`genoarmory.read(run_dir)` and `genoarmory.visualize(run_dir)`: the `read` and `visualize` commands'
work, returned as data (a DataFrame of metrics rows, or a transfer folder's TransferResult; the written
plot files)."""

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
    """What `read RUN_DIR` shows, as data: the metrics table, a pandas DataFrame with one row per run at or
    below run_dir (summary.json); or, for a transfer folder (transfer.json and no run: `transfer --out DIR`),
    its TransferResult. A run that also holds transfer.json (`transfer`'s default --out) reads as a run:
    `TransferResult.load(run_dir)` opens its matrix."""
    import pandas as pd

    from genoarmory.api.run_transfer import TransferResult
    from genoarmory.errors import UserError
    from genoarmory.results import SUMMARY, run_folders
    from genoarmory.transferability import REPORT

    folder = Path(run_dir)
    if not folder.is_dir() or run_folders(folder):  # not a folder: find_runs says what is wrong
        return pd.DataFrame(run_rows(folder))
    if (folder / REPORT).is_file():
        return TransferResult.load(folder)
    raise UserError(f"no {SUMMARY} in this folder or below it (a run, or a sweep of runs) and no {REPORT} in it "
                    "(a transfer folder)", str(folder))


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
