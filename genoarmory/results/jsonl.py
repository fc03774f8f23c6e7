"""records.jsonl: append-only, fsynced, resumable, and checked line by line when read back.

A record is written as one complete line, flushed and fsynced before the next example is recorded, so a
run killed at any point loses at most the examples in flight. On resume:
- a last line with no line end is a torn write (the kill hit mid-write): dropped with a warning, and the
  file is cut back to its last complete record;
- any other bad line — not JSON, not a valid `AttackRecord`, a duplicated id, another configuration's
  hash, an id outside the selected examples, a line over `MAX_LINE_BYTES` — stops with a one-line error
  naming the file and line. Nothing is dropped silently.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Callable, Iterable

from genoarmory.errors import UserError, located
from genoarmory.results.records import AttackRecord, RecordError

RECORDS = "records.jsonl"
MAX_LINE_BYTES = 8 << 20  # 8 MiB: a 32 kb sequence's record is ~100 kB; anything near this is not ours


def parse_records(data: bytes, path: Path, num_labels: int | None = None,
                  config_hash: str | None = None, allowed_ids: Iterable[str] | None = None,
                  invalid: Callable[[int, str], None] | None = None) -> tuple[list[AttackRecord], int]:
    """Checked records and the byte length they occupy (a torn last line excluded). `invalid(line, why)`,
    when given, receives each JSON object that is not a valid record instead of stopping there (GenoAdv
    rejects such records with a count); anything that is not a JSON line still stops."""
    allowed = None if allowed_ids is None else set(allowed_ids)
    records: list[AttackRecord] = []
    seen: dict[str, int] = {}
    good_end, offset = 0, 0
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        where = located(path, i + 1)
        terminated = i < len(lines) - 1
        end = offset + len(line) + terminated
        offset = end
        if len(line) > MAX_LINE_BYTES:
            raise UserError(f"record of {len(line)} bytes (over {MAX_LINE_BYTES}): not a GenoArmory record", where)
        if not line.strip():
            if terminated:
                good_end = end
            continue
        if not terminated:
            warnings.warn(f"{where}: torn last record dropped (the run was interrupted mid-write)")
            break
        try:
            raw = json.loads(line)
        except (ValueError, RecursionError):
            raise UserError("corrupt record (not JSON)", where) from None
        try:
            record = AttackRecord.from_json(raw, num_labels)
        except RecordError as err:
            if invalid is None:
                raise UserError(f"invalid record: {err}", where) from None
            invalid(i + 1, str(err))
            good_end = end
            continue
        if record.id in seen:
            raise UserError(f"record {record.id!r} appears twice (first on line {seen[record.id]})", where)
        if config_hash is not None and record.config_hash != config_hash:
            raise UserError(f"record made under another configuration (config_hash {record.config_hash} != "
                            f"{config_hash}); choose another run_dir or delete it", where)
        if allowed is not None and record.id not in allowed:
            raise UserError(f"record {record.id!r} is not one of the examples this run selects", where)
        seen[record.id] = i + 1
        records.append(record)
        good_end = end
    return records, good_end


def _read_bytes(path: Path) -> bytes:
    if path.is_symlink():
        raise UserError("is a symbolic link; run folders must hold their own records", str(path))
    if path.exists() and not path.is_file():
        raise UserError("is not a file", str(path))
    try:
        return path.read_bytes()
    except OSError as err:
        raise UserError(f"cannot read ({err.strerror})", str(path)) from None


def read_records(path: str | Path, num_labels: int | None = None,
                 invalid: Callable[[int, str], None] | None = None) -> list[AttackRecord]:
    """Every checked record of a records.jsonl (or of run_dir/records.jsonl); [] when there is none."""
    path = Path(path)
    if path.is_dir() and not path.name.endswith(".jsonl"):
        path = path / RECORDS
    if not path.exists() and not path.is_symlink():
        return []
    return parse_records(_read_bytes(path), path, num_labels, invalid=invalid)[0]


class RecordWriter:
    """Appends records to run_dir/records.jsonl; `done` holds the ids already finished (for resume).

    What it finds there is checked (see the module note) against `config_hash`, `allowed_ids` and
    `num_labels` when given."""

    def __init__(self, run_dir: Path, config_hash: str | None = None, allowed_ids: Iterable[str] | None = None,
                 num_labels: int | None = None):
        self.path = Path(run_dir) / RECORDS
        self.records: list[AttackRecord] = []
        try:
            Path(run_dir).mkdir(parents=True, exist_ok=True)
            if self.path.exists() or self.path.is_symlink():
                self.records, good_end = parse_records(_read_bytes(self.path), self.path, num_labels, config_hash,
                                                       allowed_ids)
                if good_end < self.path.stat().st_size:
                    os.truncate(self.path, good_end)
            self._file = open(self.path, "ab")
        except OSError as err:
            raise UserError(f"cannot write records ({err.strerror})", str(self.path)) from None
        self.done = {r.id for r in self.records}

    def append(self, record: AttackRecord) -> None:
        if record.id in self.done:
            raise ValueError(f"record {record.id} written twice")
        line = (json.dumps(record.to_json(), separators=(",", ":")) + "\n").encode()
        try:
            self._file.write(line)
            self._file.flush()
            os.fsync(self._file.fileno())
        except OSError as err:
            raise UserError(f"cannot append record {record.id} ({err.strerror}); "
                            f"{len(self.records)} earlier records are intact — rerun to resume", str(self.path)) from None
        self.records.append(record)
        self.done.add(record.id)

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


def write_records(path: Path, records: list[AttackRecord]) -> None:
    """A whole records file at once (merge, tests), atomically."""
    from genoarmory.results.files import write_text_atomic

    write_text_atomic(path, "".join(json.dumps(r.to_json(), separators=(",", ":")) + "\n" for r in records))
