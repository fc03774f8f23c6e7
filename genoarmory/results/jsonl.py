"""records.jsonl: append-only, fsynced, resumable, and checked line by line when read back.

Records are written as complete lines, a batch at a time (`RecordWriter.extend`: the attack engine's
records that became ready in one step): the batch's lines in one write, then one flush and one fsync
before the engine goes on, so a run killed at any point loses at most the examples in flight (those not
yet fsynced). On resume:
- a last line with no line end is a torn write (the kill hit mid-write, possibly mid-batch): dropped with
  a warning, and the file is cut back to its last complete record; the batch's complete lines before it
  are kept like any other;
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
            self._end = os.fstat(self._file.fileno()).st_size  # where the next batch starts
        except OSError as err:
            raise UserError(f"cannot write records ({err.strerror})", str(self.path)) from None
        self.done = {r.id for r in self.records}

    def append(self, record: AttackRecord) -> None:
        self.extend([record])

    def extend(self, records: Iterable[AttackRecord]) -> None:
        """Write `records` in order: their lines in ONE write, then one flush and one fsync (the same bytes
        as appending them one by one; none given: nothing written, no fsync). An id already done, or
        repeated among them, is a ValueError before anything is written. On OSError a UserError says how
        many records are intact (those before the batch, plus, when the write itself failed, the batch's
        lines that reached the file whole), and neither `records` nor `done` takes any of the batch; the
        file may then end in a torn line, which the next open drops."""
        records = list(records)
        ids: set[str] = set()
        for record in records:
            if record.id in self.done or record.id in ids:
                raise ValueError(f"record {record.id} written twice")
            ids.add(record.id)
        if not records:
            return
        lines = [(json.dumps(r.to_json(), separators=(",", ":")) + "\n").encode() for r in records]
        data = b"".join(lines)
        written = False
        try:
            self._file.write(data)
            self._file.flush()
            written = True
            os.fsync(self._file.fileno())
        except OSError as err:
            # a failed fsync may have lost what it was syncing: only the records before the batch count then
            intact = len(self.records) if written else self._intact(lines)
            what = f"record {records[0].id}" if len(records) == 1 else \
                f"{len(records)} records from {records[0].id}"
            raise UserError(f"cannot append {what} ({err.strerror}); {intact} earlier records are intact — "
                            f"rerun to resume", str(self.path)) from None
        self._end += len(data)
        self.records.extend(records)
        self.done.update(ids)

    def _intact(self, lines: list[bytes]) -> int:
        """After a failed batch: the records before it plus its lines that are whole in the file (a full
        disk takes the bytes that fit, so the batch's first lines may be there; resume keeps them)."""
        intact = len(self.records)
        try:
            written = os.fstat(self._file.fileno()).st_size - self._end
        except OSError:
            return intact
        for line in lines:
            written -= len(line)
            if written < 0:
                break
            intact += 1
        return intact

    def close(self) -> None:
        try:
            self._file.close()
        except OSError:
            # Only after a failed append/extend (every good batch was flushed and fsynced): on a full disk the
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
