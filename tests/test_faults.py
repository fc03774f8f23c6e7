"""Faults while writing: a full disk, a read-only run dir, a torn last record.

Each ends in one line and exit code 2 with the records already written intact, and a later resume
finishes the run exactly as an uninterrupted one. The full disk is simulated at the file the records go
to (it takes the bytes that fit, then fails with ENOSPC, as write(2) does); the read-only run dir is a
real chmod when not root, and simulated with EROFS as root (root writes through a chmod).
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import shutil
from pathlib import Path

import pytest
import torch

import genoarmory.results.files as results_files
import genoarmory.results.jsonl as results_jsonl
from conftest import run_cli
from genoarmory.errors import UserError
from genoarmory.results import RecordWriter
from genoarmory.results.lock import LOCK_FILE
from genoarmory.testing import read_json_records, record

N = 10


def settings(model: Path, run_dir: Path) -> list[str]:
    return ["attack", "model=tiny-6mer", f"model.path={model / 'model'}", "attack=random", f"dataset.limit={N}",
            "dataset.loader.n_train=20", "dataset.loader.n_dev=20", "progress=false", f"run_dir={run_dir}"]


def comparable(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


@pytest.fixture(scope="module")
def reference(tmp_path_factory, quick_tiny_model) -> Path:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: OpenMP threads would spin against other processes
    run_dir = tmp_path_factory.mktemp("faults") / "reference"
    try:
        assert run_cli(*settings(quick_tiny_model, run_dir)) == 0
    finally:
        torch.set_num_threads(before)
    return run_dir


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def interrupted(reference, tmp_path) -> Path:
    """A copy of the reference run stopped after 4 records (no summary yet)."""
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    lines = (reference / "records.jsonl").read_bytes().splitlines(keepends=True)
    (run_dir / "records.jsonl").write_bytes(b"".join(lines[:4]))
    return run_dir


class FullDisk:
    """Wraps a real buffered file: accepts `room` more bytes, then writes what fits and fails with ENOSPC,
    keeping the rest buffered so that close() fails again — as a BufferedWriter on a full disk does
    (measured on a 12 KiB tmpfs: the record cut at 8192 bytes, then close() raised ENOSPC too)."""

    def __init__(self, real, room: int):
        self.real, self.room, self.pending = real, room, b""

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.real.write(data[: self.room])
            self.real.flush()
            self.room, self.pending = 0, data[self.room:]
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= len(data)
        return self.real.write(data)

    def flush(self):
        if self.pending:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.real.flush()

    def close(self):
        self.real.close()
        self.flush()

    def __getattr__(self, name):
        return getattr(self.real, name)


def patch_records_open(monkeypatch, make):
    """Route results/jsonl.py's open() of records.jsonl for appending through `make(real_open, path, mode)`."""
    def fake_open(path, mode="r", *args, **kwargs):
        if str(path).endswith("records.jsonl") and "a" in mode:
            return make(builtins.open, path, mode, *args, **kwargs)
        return builtins.open(path, mode, *args, **kwargs)

    monkeypatch.setattr(results_jsonl, "open", fake_open, raising=False)


def files(folder: Path) -> dict[str, bytes]:
    """What a run folder holds (its lock file aside: taking the lock is not writing a result)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != LOCK_FILE}


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("genoarmory: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_full_disk_mid_record_is_one_line_keeps_records_and_resumes(reference, interrupted, quick_tiny_model,
                                                                    monkeypatch, capsys):
    before = (interrupted / "records.jsonl").read_bytes()
    line = len((reference / "records.jsonl").read_bytes().splitlines()[4]) + 1
    patch_records_open(monkeypatch, lambda real, *a, **k: FullDisk(real(*a, **k), room=line + line // 2))
    assert run_cli(*settings(quick_tiny_model, interrupted)) == 2
    error = one_line_error(capsys)
    assert "No space left on device" in error and "5 earlier records are intact" in error
    assert str(interrupted / "records.jsonl") in error

    data = (interrupted / "records.jsonl").read_bytes()
    assert data.startswith(before) and not data.endswith(b"\n")  # old records untouched; a torn tail
    with pytest.warns(UserWarning, match="torn last record dropped"):
        kept = read_json_records(interrupted / "records.jsonl")
    expected = read_json_records(reference / "records.jsonl")
    assert comparable(kept) == comparable(expected[:5])

    monkeypatch.undo()
    with pytest.warns(UserWarning, match="torn last record dropped"):
        assert run_cli(*settings(quick_tiny_model, interrupted)) == 0
    assert comparable(read_json_records(interrupted / "records.jsonl")) == comparable(expected)


def test_a_disk_already_full_keeps_every_file_whole_and_leaves_no_temp_file(reference, tmp_path, quick_tiny_model,
                                                                           monkeypatch, capsys):
    """Nothing fits (every fsync fails): the rewrite of config.yaml and summary.json must not cut them."""
    run_dir = tmp_path / "run"
    shutil.copytree(reference, run_dir)
    before = files(run_dir)

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(results_files.os, "fsync", no_space)
    assert run_cli(*settings(quick_tiny_model, run_dir)) == 2
    error = one_line_error(capsys)
    assert "No space left on device" in error and str(run_dir / "config.yaml") in error
    assert files(run_dir) == before


def test_read_only_run_dir_is_one_line_and_changes_nothing(reference, interrupted, quick_tiny_model, monkeypatch,
                                                           capsys):
    before = files(interrupted)
    if os.geteuid() == 0:  # root writes through permissions: simulate the file system refusing
        def read_only(real, *args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

        patch_records_open(monkeypatch, read_only)
    else:
        (interrupted / "records.jsonl").chmod(0o444)
        interrupted.chmod(0o555)
    try:
        assert run_cli(*settings(quick_tiny_model, interrupted)) == 2
    finally:
        interrupted.chmod(0o755)
    error = one_line_error(capsys)
    assert "cannot write records" in error and str(interrupted / "records.jsonl") in error
    assert files(interrupted) == before


def line(i: int) -> bytes:
    return json.dumps(record(f"x{i}").to_json(), separators=(",", ":")).encode()


def test_a_torn_last_line_is_dropped_with_a_warning_and_the_file_cut_back(tmp_path):
    with RecordWriter(tmp_path) as w:
        for i in range(3):
            w.append(record(f"x{i}"))
    good = (tmp_path / "records.jsonl").read_bytes()
    with open(tmp_path / "records.jsonl", "ab") as f:
        f.write(line(3)[:30])
    with pytest.warns(UserWarning, match=r"records.jsonl:4: torn last record dropped"):
        w = RecordWriter(tmp_path)
    assert w.done == {"x0", "x1", "x2"} and (tmp_path / "records.jsonl").read_bytes() == good
    w.append(record("x3"))
    w.close()
    assert [r["id"] for r in read_json_records(tmp_path / "records.jsonl")] == ["x0", "x1", "x2", "x3"]


def test_a_complete_json_without_its_line_end_is_still_torn(tmp_path):
    (tmp_path / "records.jsonl").write_bytes(line(0) + b"\n" + line(1))
    with pytest.warns(UserWarning, match="torn"):
        assert [r.id for r in RecordWriter(tmp_path).records] == ["x0"]


def test_a_corrupt_line_in_the_middle_is_an_error_naming_it(tmp_path):
    data = line(0) + b"\nnot json\n" + line(2) + b"\n"
    (tmp_path / "records.jsonl").write_bytes(data)
    with pytest.raises(UserError, match=r"records.jsonl:2: corrupt record"):
        RecordWriter(tmp_path)
    assert (tmp_path / "records.jsonl").read_bytes() == data


def test_a_corrupt_last_line_with_its_line_end_is_an_error_not_a_torn_write(tmp_path):
    data = line(0) + b"\n" + line(1)[:-5] + b"\n"
    (tmp_path / "records.jsonl").write_bytes(data)
    with pytest.raises(UserError, match=r"records.jsonl:2: corrupt record"):
        RecordWriter(tmp_path)
    assert (tmp_path / "records.jsonl").read_bytes() == data
