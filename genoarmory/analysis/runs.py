"""Finding and reading attack run folders (run_dir/records.jsonl + run_dir/summary.json)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from genoarmory.errors import UserError, located

RECORDS = "records.jsonl"
SUMMARY = "summary.json"


def is_run(path: Path) -> bool:
    return (path / SUMMARY).is_file() or (path / RECORDS).is_file()


def find_runs(path: str | Path, need: str = SUMMARY) -> list[Path]:
    """`path` itself when it is a run, else every run folder below it (a sweep), sorted.

    `need` is the file a run must have for the caller (summary.json for `read`, records.jsonl to plot)."""
    path = Path(path)
    if not path.exists():
        raise UserError("no such run folder", str(path))
    if not path.is_dir():
        raise UserError("not a folder (give a run folder holding summary.json, or a sweep folder of runs)", str(path))
    if (path / need).is_file():
        return [path]
    runs = sorted(_below(path, need))
    if not runs:
        raise UserError(f"no {need} in this folder or below it (is it an attack run or a sweep of runs?)", str(path))
    return runs


def _below(root: Path, need: str) -> list[Path]:
    """Folders below root holding `need`, following symlinked folders (a sweep assembled from links)
    but visiting each real folder once."""
    found, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        if need in files:
            found.append(Path(folder))
    return found


def read_summary(run_dir: Path) -> dict:
    path = Path(run_dir) / SUMMARY
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"no {SUMMARY} (is the run finished?)", str(path)) from None
    except json.JSONDecodeError as err:
        raise UserError(f"not valid JSON ({err.msg})", located(path, err.lineno)) from None
    if not isinstance(data, dict):
        raise UserError("a summary must be a JSON object", str(path))
    return data


def read_records(run_dir: Path) -> list[dict]:
    """Every record of the run. A torn last line (the run was killed mid-write) is skipped, as the
    resumable writer does; a bad line in the middle is an error naming its line."""
    path = Path(run_dir) / RECORDS
    if not path.is_file():
        raise UserError(f"no {RECORDS} (is this an attack run?)", str(path))
    lines = path.read_text().split("\n")
    records = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if any(rest.strip() for rest in lines[i + 1 :]):
                raise UserError("corrupt record (not JSON)", located(path, i + 1)) from None
            break  # torn last line
        if not isinstance(record, dict):
            raise UserError("a record must be a JSON object", located(path, i + 1))
        records.append(record)
    return records
