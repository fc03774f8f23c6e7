"""AttackRecord JSONL (append-only, fsynced, resumable), atomic JSON files, and run metadata.

A record is written as one complete line, flushed and fsynced before the next example starts, so a
run killed at any point loses at most the example in flight. On resume a torn last line (the kill hit
mid-write) is dropped with a warning and the file is cut back to its last complete record.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import warnings
from datetime import datetime, timezone
from pathlib import Path

from genoarmory.errors import UserError

RECORDS = "records.jsonl"
SUMMARY = "summary.json"


def _parse_lines(data: bytes, path: Path) -> tuple[list[dict], int]:
    """Complete records and the byte length they occupy; a bad last line is torn, a bad middle line an error."""
    records, good_end, offset = [], 0, 0
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        end = offset + len(line) + 1
        last = i == len(lines) - 1
        if line.strip():
            try:
                if last:  # no newline after it: the write never finished
                    raise ValueError("no line end")
                records.append(json.loads(line))
                good_end = end
            except ValueError:
                if not last and any(l.strip() for l in lines[i + 1:]):
                    raise UserError("corrupt record (not JSON) in the middle of the file", f"{path}:{i + 1}")
                warnings.warn(f"{path}:{i + 1}: torn last record dropped (the run was interrupted mid-write)")
                break
        elif not last:
            good_end = end
        offset = end
    return records, good_end


def read_records(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        return []
    return _parse_lines(path.read_bytes(), path)[0]


class RecordWriter:
    """Appends records to run_dir/records.jsonl; `done` holds the ids already finished (for resume)."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / RECORDS
        self.records: list[dict] = []
        try:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            if self.path.exists():
                self.records, good_end = _parse_lines(self.path.read_bytes(), self.path)
                if good_end < self.path.stat().st_size:
                    os.truncate(self.path, good_end)
            self._file = open(self.path, "ab")
        except OSError as err:
            raise UserError(f"cannot write records ({err.strerror})", str(self.path)) from None
        self.done = {r["id"] for r in self.records}

    def append(self, record: dict) -> None:
        if record["id"] in self.done:
            raise ValueError(f"record {record['id']} written twice")
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        try:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as err:
            raise UserError(f"cannot append record {record['id']} ({err.strerror}); "
                            f"{len(self.records)} earlier records are intact — rerun to resume", str(self.path)) from None
        self.records.append(record)
        self.done.add(record["id"])

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            # Only after a failed append (every good one was flushed and fsynced): on a full disk the
            # buffer still holds the bytes that did not fit, and close() retries them. That failure was
            # already reported as a UserError; raising again here would replace it with a traceback.
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write to a temporary file beside `path`, fsync, then rename: readers never see half a file, and a
    full or read-only disk is a UserError that leaves the old file (if any) and no temporary behind."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as err:
        raise UserError(f"cannot write ({err.strerror})", str(path)) from None


def write_json_atomic(path: str | Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, default=str))


def config_hash(config: dict) -> str:
    """Hash of the settings that define a result (paths and run-location keys left out)."""
    keep = {k: v for k, v in config.items() if k not in ("run_dir", "data_root", "cache_dir", "progress", "hydra")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def versions() -> dict:
    import numpy
    import torch
    import transformers

    import genoarmory

    return {"genoarmory": genoarmory.__version__, "python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "numpy": numpy.__version__}


def device_name(device) -> str:
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def run_metadata(config: dict, device) -> dict:
    return {"config": config, "config_hash": config_hash(config), "versions": versions(),
            "commit": git_commit(), "device": device_name(device),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds")}
