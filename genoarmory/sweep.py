"""The sweep summary: after a multirun (`-m`), one table of every job, as sweep_summary.csv and .json.

A Hydra Callback (registered by conf/hydra/callbacks/sweep_summary.yaml), so it works the same on every
launcher — basic, joblib, submitit (Slurm), Ray:
- on_job_end runs wherever the launcher ran the job (a joblib worker, a Slurm node, a Ray worker) and
  leaves `sweep_job.json` in the job's run dir: its number, overrides and status;
- on_multirun_end runs once, on the submitting machine, after every job returned: it reads each job's
  sweep_job.json and its results (summary.json of attack/defend, metrics.json of train) and writes the
  table into the sweep folder. Job folders without sweep_job.json (a killed job) appear as `unfinished`.
Run dirs must therefore be on a file system the submitting machine sees, as they must anyway.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from genoarmory.errors import FailedJob, UserError
from genoarmory.metrics.registry import TRAIN_METRICS, keys
from genoarmory.results import write_text_atomic

JOB_FILE = "sweep_job.json"
LAST_SWEEP = {"failed": 0, "jobs": 0}  # set by on_multirun_end, in the submitting process, for the exit code
TABLE = "sweep_summary"
# Key metrics, in the registry's order, when any job has them (attack/defend summaries, then train metrics).
METRICS = keys("table") + keys("table", TRAIN_METRICS)
RESULT_FILES = ("summary.json", "metrics.json")


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def job_row(folder: Path) -> dict[str, Any]:
    """One table row from a job folder: what ran, how it ended, its key metrics."""
    job = _read_json(folder / JOB_FILE) or {}
    row: dict[str, Any] = {"job": job.get("num", int(folder.name) if folder.name.isdigit() else folder.name),
                           "status": job.get("status", "unfinished"),
                           "overrides": job.get("overrides", []), "run_dir": str(folder.resolve())}
    results = next((r for r in map(_read_json, (folder / f for f in RESULT_FILES)) if r), {})
    config = results.get("config") or {}
    row["model"] = (results.get("model") or {}).get("name") or (config.get("model") or {}).get("name")
    row["dataset"] = (results.get("dataset") or {}).get("name") or (config.get("dataset") or {}).get("name")
    row["attack"] = (results.get("attack") or {}).get("name")
    row.update({k: results[k] for k in METRICS if k in results})
    if job.get("error"):
        row["error"] = job["error"]
    return row


def sweep_table(sweep_dir: Path) -> list[dict[str, Any]]:
    jobs = [p for p in Path(sweep_dir).iterdir() if p.is_dir() and (p.name.isdigit() or (p / JOB_FILE).exists())]
    rows = [job_row(p) for p in jobs]
    return sorted(rows, key=lambda r: (not isinstance(r["job"], int), r["job"] if isinstance(r["job"], int) else 0,
                                       str(r["job"])))


def write_sweep_summary(sweep_dir: Path) -> tuple[Path, Path]:
    """Write sweep_summary.csv and sweep_summary.json into `sweep_dir`; returns both paths."""
    sweep_dir = Path(sweep_dir)
    rows = sweep_table(sweep_dir)
    fixed = ["job", "status", "overrides", "run_dir", "model", "dataset", "attack"]
    columns = fixed + [k for k in METRICS if any(k in r for r in rows)]
    if any("error" in r for r in rows):
        columns.append("error")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "overrides": " ".join(r["overrides"])})
    csv_path, json_path = sweep_dir / f"{TABLE}.csv", sweep_dir / f"{TABLE}.json"
    write_text_atomic(csv_path, buffer.getvalue())
    write_text_atomic(json_path, json.dumps({"sweep_dir": str(sweep_dir.resolve()), "columns": columns, "jobs": rows},
                                        indent=2, default=str) + "\n")
    return csv_path, json_path


class SweepSummary(Callback):
    def on_job_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._started = time.time()

    def on_job_end(self, config: DictConfig, job_return, **kwargs: Any) -> None:
        from hydra.types import RunMode

        folder = Path(config.hydra.runtime.output_dir)
        if config.hydra.mode != RunMode.MULTIRUN or not folder.is_dir():
            return  # a single run's output dir is the working directory: leave it alone
        status = getattr(job_return.status, "name", str(job_return.status)).lower()
        bad_input = getattr(job_return, "_return_value", None)  # a job with bad input returns a FailedJob
        record = {"num": int(config.hydra.job.num) if config.hydra.job.get("num") is not None else None,
                  "status": status, "overrides": list(OmegaConf.to_container(config.hydra.overrides.task)),
                  "host": socket.gethostname(), "pid": os.getpid(),
                  "started": getattr(self, "_started", None), "ended": time.time()}
        if status == "failed":
            err = job_return._return_value  # the exception; .return_value would re-raise it
            record["error"] = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        elif isinstance(bad_input, FailedJob):
            record.update(status="failed", error=bad_input.message)
        try:
            write_text_atomic(folder / JOB_FILE, json.dumps(record, indent=2) + "\n")
        except UserError as err:  # a read-only or full run dir must not hide the job's own outcome
            print(f"genoarmory: warning: {err}", file=sys.stderr)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        if not sweep_dir.is_dir():
            return
        try:
            csv_path, _ = write_sweep_summary(sweep_dir)
        except UserError as err:
            print(f"genoarmory: warning: no sweep summary: {err}", file=sys.stderr)
            return
        rows = sweep_table(sweep_dir)
        LAST_SWEEP.update(failed=sum(r["status"] == "failed" for r in rows), jobs=len(rows))
        print(f"genoarmory: sweep summary: {csv_path} (and .json)")
