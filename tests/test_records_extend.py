"""RecordWriter.extend: a batch of records as one write, one flush and one fsync, with append's guarantees.

The same bytes as appending one by one; a duplicated id writes nothing; a kill mid-batch (a prefix of the
batch's bytes on disk) resumes with the whole lines kept, the torn one dropped and nothing written twice;
a full disk is one UserError with `records`/`done` untouched; the engine writes each step's ready records
with one extend and the records are those of one-by-one writing.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from conftest import compose, embedded_default

import genoarmory.results.jsonl as results_jsonl
from genoarmory.attacks.engine import run_attack
from genoarmory.attacks.recipes import build_attack
from genoarmory.errors import UserError
from genoarmory.results import RecordWriter
from genoarmory.testing import record

RECORDS = "records.jsonl"


def batch(n: int, start: int = 0) -> list:
    """Records of different shapes and lengths (successes with edits, failures, non-ASCII meta)."""
    out = []
    for i in range(start, start + n):
        seq = "ACGT" * (3 + i % 5)
        if i % 2:
            adv = "T" + seq[1:-1] + "A"
            out.append(record(f"x{i}", sequence=seq, status="success", adv_sequence=adv, meta={"note": f"é{i}"}))
        else:
            out.append(record(f"x{i}", sequence=seq, meta={"chunk": i, "tag": "µ"}))
    return out


def appended(folder: Path, records: list) -> bytes:
    with RecordWriter(folder) as w:
        for r in records:
            w.append(r)
    return (folder / RECORDS).read_bytes()


class CountingFile:
    """Wraps the writer's real file, counting write calls (a BufferedWriter's own attributes are read-only)."""

    def __init__(self, real):
        self.real, self.writes = real, []

    def write(self, data: bytes) -> int:
        self.writes.append(bytes(data))
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def fsyncs(monkeypatch):
    """Counts os.fsync calls made from results/jsonl.py (the real fsync still runs)."""
    calls = []
    real = os.fsync

    def counting(fd):
        calls.append(fd)
        return real(fd)

    monkeypatch.setattr(results_jsonl.os, "fsync", counting)
    return calls


def test_extend_writes_the_same_bytes_as_appending_one_by_one(tmp_path):
    records = batch(7)
    one_by_one = appended(tmp_path / "a", records)
    with RecordWriter(tmp_path / "b") as w:
        w.extend(records[:3])
        w.extend(iter(records[3:]))  # any iterable
        assert [r.id for r in w.records] == [r.id for r in records] and w.done == {r.id for r in records}
    assert (tmp_path / "b" / RECORDS).read_bytes() == one_by_one
    assert one_by_one.count(b"\n") == 7
    # mixed with append, and resuming a file that already has records
    with RecordWriter(tmp_path / "c") as w:
        w.append(records[0])
        w.extend(records[1:5])
    with RecordWriter(tmp_path / "c") as w:
        w.extend(records[5:])
    assert (tmp_path / "c" / RECORDS).read_bytes() == one_by_one


def test_one_write_and_one_fsync_per_extend(tmp_path, fsyncs):
    records = batch(6)
    with RecordWriter(tmp_path) as w:
        w._file = counting = CountingFile(w._file)
        w.extend(records[:5])
        assert len(fsyncs) == 1 and len(counting.writes) == 1
        w.extend([])  # nothing to write: no write, no fsync
        assert len(fsyncs) == 1 and len(counting.writes) == 1
        w.append(records[5])  # append is a batch of one
        assert len(fsyncs) == 2 and len(counting.writes) == 2
    assert counting.writes[0].count(b"\n") == 5
    assert b"".join(counting.writes) == (tmp_path / RECORDS).read_bytes()


@pytest.mark.parametrize("case", ["repeated in the batch", "already done"])
def test_a_duplicated_id_is_a_value_error_and_writes_nothing(tmp_path, fsyncs, case):
    records = batch(4)
    with RecordWriter(tmp_path) as w:
        w.extend(records[:2])
        before, fsynced = (tmp_path / RECORDS).read_bytes(), len(fsyncs)
        bad = records[2:] + [records[2]] if case == "repeated in the batch" else [records[2], records[1], records[3]]
        with pytest.raises(ValueError, match="written twice"):
            w.extend(bad)
        w._file.flush()  # nothing may even sit in the buffer
        assert (tmp_path / RECORDS).read_bytes() == before and len(fsyncs) == fsynced
        assert [r.id for r in w.records] == ["x0", "x1"] and w.done == {"x0", "x1"}
        w.extend(records[2:])  # the writer is still good
    assert (tmp_path / RECORDS).read_bytes() == appended(tmp_path / "ref", records)


def batch_bytes(tmp_path: Path, records: list) -> bytes:
    with RecordWriter(tmp_path / "scratch") as w:
        w.extend(records)
    return (tmp_path / "scratch" / RECORDS).read_bytes()


def cuts(lines: list[bytes]) -> list[int]:
    """Every line boundary, one byte either side of it, and the middle of each line."""
    ends, at = [0], 0
    for line in lines:
        ends.append(at + len(line) // 2)
        at += len(line)
        ends.append(at)
    return sorted({c for e in ends for c in (e - 1, e, e + 1) if 0 <= c <= at})


def test_a_kill_mid_batch_keeps_the_whole_lines_drops_the_torn_one_and_resumes_without_duplicates(tmp_path):
    earlier, records = batch(2), batch(5, start=2)
    reference = appended(tmp_path / "reference", earlier + records)
    data = batch_bytes(tmp_path, records)
    lines = data.splitlines(keepends=True)
    assert len(lines) == 5 and reference.endswith(data)
    for cut in cuts(lines):
        run = tmp_path / f"cut{cut}"
        appended(run, earlier)  # fsynced before the batch
        with open(run / RECORDS, "ab") as f:  # the kill: the batch's write got only this far
            f.write(data[:cut])
        whole = sum(1 for k in range(len(lines) + 1) if len(b"".join(lines[:k])) <= cut) - 1
        torn = cut != len(b"".join(lines[:whole]))
        if torn:
            with pytest.warns(UserWarning, match=r"torn last record dropped"):
                w = RecordWriter(run)
        else:
            w = RecordWriter(run)
        kept = [r.id for r in earlier + records[:whole]]
        assert [r.id for r in w.records] == kept and w.done == set(kept), cut
        assert (run / RECORDS).read_bytes() == reference[:len(reference) - len(data)] + b"".join(lines[:whole])
        if whole:  # what was kept cannot be written again
            with pytest.raises(ValueError, match="written twice"):
                w.extend(records[whole - 1:])
        w.extend([r for r in records if r.id not in w.done])  # the rerun: only what is missing
        w.close()
        assert (run / RECORDS).read_bytes() == reference, cut
        assert [r.id for r in RecordWriter(run).records] == [r.id for r in earlier + records]


class NoSpace:
    """The writer's file on a full disk: takes `room` bytes (to the real file), then fails with ENOSPC."""

    def __init__(self, real, room: int):
        self.real, self.room = real, room

    def write(self, data: bytes) -> int:
        self.real.write(data[:self.room])
        self.real.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.mark.parametrize("whole", [0, 1, 2])  # whole lines of the batch that fit before the disk filled up
def test_an_os_error_during_extend_is_a_user_error_and_leaves_records_and_done_unchanged(tmp_path, monkeypatch,
                                                                                         whole):
    earlier, records = batch(2), batch(4, start=2)
    lines = batch_bytes(tmp_path, records).splitlines(keepends=True)
    room = len(b"".join(lines[:whole])) + len(lines[whole]) // 2
    run = tmp_path / "run"
    w = RecordWriter(run)
    w.extend(earlier)
    monkeypatch.setattr(w, "_file", NoSpace(w._file, room))
    with pytest.raises(UserError, match="No space left on device") as err:
        w.extend(records)
    assert f"cannot append 4 records from x2" in str(err.value)
    assert f"{2 + whole} earlier records are intact" in str(err.value) and str(run / RECORDS) in str(err.value)
    assert [r.id for r in w.records] == ["x0", "x1"] and w.done == {"x0", "x1"}
    w.close()
    with pytest.warns(UserWarning, match="torn last record dropped"):
        again = RecordWriter(run)  # the rerun finds exactly what the message said
    assert len(again.records) == 2 + whole
    again.extend([r for r in records if r.id not in again.done])
    again.close()
    assert (run / RECORDS).read_bytes() == appended(tmp_path / "ref", earlier + records)


def test_a_failed_fsync_counts_only_the_records_before_the_batch(tmp_path, monkeypatch):
    w = RecordWriter(tmp_path)
    w.extend(batch(2))

    def broken(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(results_jsonl.os, "fsync", broken)
    with pytest.raises(UserError, match="2 earlier records are intact"):
        w.extend(batch(3, start=2))  # all written, none known to be on disk
    assert w.done == {"x0", "x1"}
    w.close()


class Batches(RecordWriter):
    """Remembers the size of each batch the engine hands over; `one_by_one` writes them as single appends."""

    def __init__(self, *args, one_by_one: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.sizes, self.one_by_one = [], one_by_one

    def extend(self, records):
        records = list(records)
        self.sizes.append(len(records))
        if self.one_by_one:
            for r in records:
                super().extend([r])
        else:
            super().extend(records)


def test_the_engine_writes_each_steps_ready_records_with_one_extend(tmp_path, fsyncs):
    _, _, victim, examples = embedded_default(8)
    cfg = compose(["dataset.limit=8", "attack=random", "attack.query_budget=40"])
    out = {}
    for one_by_one in (False, True):
        fsyncs.clear()
        with Batches(tmp_path / str(one_by_one), one_by_one=one_by_one) as writer:
            records = run_attack(build_attack(victim, cfg), victim, examples, writer, int(cfg.seed), "test", 8,
                                 False)
        out[one_by_one] = [{k: v for k, v in r.to_json().items() if k != "seconds"} for r in records], writer.sizes
        assert len(fsyncs) == (len(writer.sizes) if not one_by_one else len(records))
        assert [r.id for r in records] == [e.id for e in examples]  # example order
    (batched, sizes), (single, _) = out[False], out[True]
    assert sum(sizes) == 8 and max(sizes) > 1  # some step had several records ready: one fsync for them
    assert batched == single
    on_disk = [json.loads(line) for line in (tmp_path / "False" / RECORDS).read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k != "seconds"} for r in on_disk] == batched
