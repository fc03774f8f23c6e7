"""genoarmory.hub with the network blocked: local folders, the cache, one-line hub errors, safe archives, GUE."""

from __future__ import annotations

import io
import tarfile
import zipfile
from types import SimpleNamespace

import huggingface_hub
import pytest
from huggingface_hub import constants
from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError

from genoarmory import hub
from genoarmory.errors import UserError

DNABERT2 = "zhihan1996/DNABERT-2-117M"


def hf_folder(root, files: dict[str, str]):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_a_local_folder_is_returned_as_is(tmp_path, no_network):
    assert hub.fetch(str(tmp_path), "model") == tmp_path
    assert no_network == []


def test_a_hub_id_with_no_network_fails_at_once_with_one_line(tmp_path, blocked_hub):
    with pytest.raises(UserError) as err:
        hub.fetch(DNABERT2, "model", "main", tmp_path / "cache")
    message = str(err.value)
    assert "\n" not in message
    why = "offline" if blocked_hub.mode == "offline" else "unreachable"
    assert f"cannot reach the Hugging Face hub for {DNABERT2}@main ({why}) and it is not in the cache" in message
    assert "python -m genoarmory download model=<name>" in message and "--source DIR" in message
    assert "model.path=DIR" in message
    # offline: no connection at all; online: one refused metadata request, no retries
    assert len(blocked_hub.attempts) == (0 if blocked_hub.mode == "offline" else 1)


def test_an_imported_snapshot_is_found_again_without_network(tmp_path, blocked_hub):
    src = hf_folder(tmp_path / "src", {"config.json": '{"model_type": "bert"}', "sub/vocab.txt": "A\nC\n"})
    cache = tmp_path / "cache"
    snapshot = hub.import_snapshot(src, "org/tiny", "model", "main", cache)
    assert snapshot.parent.parent == cache / "hub" / "models--org--tiny"
    assert (cache / "hub/models--org--tiny/refs/main").read_text() == snapshot.name
    assert hub.fetch("org/tiny", "model", "main", cache) == snapshot
    assert (snapshot / "sub/vocab.txt").read_text() == "A\nC\n"
    assert hub.import_snapshot(src, "org/tiny", "model", "main", cache) == snapshot  # same content, same id

    commit = "0123456789abcdef0123456789abcdef01234567"  # a pinned commit is the snapshot id itself
    assert hub.import_snapshot(src, "org/tiny", "model", commit, cache).name == commit
    assert hub.fetch("org/tiny", "model", commit, cache).name == commit
    with pytest.raises(UserError, match="org/tiny@v2 .* not in the cache"):
        hub.fetch("org/tiny", "model", "v2", cache)  # never imported under that revision: not silently another


@pytest.mark.parametrize("error, expected", [
    (GatedRepoError("403 Client Error: Cannot access gated repo"), "is gated: accept its conditions at "
                                                                   "https://huggingface.co/datasets/org/data, then "
                                                                   "run `huggingface-cli login` or set HF_TOKEN"),
    (RepositoryNotFoundError("404 Client Error: Repository Not Found"), "not found on the Hugging Face hub"),
    (RevisionNotFoundError("404 Client Error: Revision Not Found"), "revision 'v9' not found in dataset org/data"),
    (HfHubHTTPError("500 Server Error: Internal Server Error"), "the Hugging Face hub refused dataset org/data@v9"),
])
@pytest.mark.parametrize("step", ["metadata", "download"])
def test_hub_errors_become_one_line_saying_what_to_do(tmp_path, monkeypatch, no_network, error, expected, step):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)

    def fail(*args, **kwargs):
        raise error

    if step == "metadata":
        monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", fail)
    else:  # gated files fail only when downloaded: repo_info answers, the file request is refused
        monkeypatch.setattr(huggingface_hub.HfApi, "repo_info", lambda *a, **k: SimpleNamespace(siblings=[]))
        monkeypatch.setattr(huggingface_hub, "snapshot_download", fail)
    with pytest.raises(UserError) as err:
        hub.fetch("org/data", "dataset", "v9", tmp_path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_a_missing_local_path_is_not_sent_to_the_hub(tmp_path, no_network):
    with pytest.raises(UserError, match="neither an existing folder nor a Hugging Face repo id"):
        hub.fetch(str(tmp_path / "runs/train/model"), "model")
    assert no_network == []


# --- archives ------------------------------------------------------------------------------------------------


def tar_with(path, members: list[tuple[str, str, str]]):
    """members: (name, kind 'file' | 'sym' | 'hard', data or link target)."""
    with tarfile.open(path, "w:gz") as tf:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload.encode()))
            else:
                info.type, info.linkname = (tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE), payload
                tf.addfile(info)
    return path


def zip_with(path, members: list[tuple[str, str]], symlinks: dict[str, str] = {}):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
        for name, target in symlinks.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # S_IFLNK: a symlink member as unzip would create it
            zf.writestr(info, target)
    return path


def test_safe_archives_extract(tmp_path):
    tar_with(tmp_path / "m.tar.gz", [("m/config.json", "file", "{}"), ("m/link", "sym", "config.json")])
    hub.extract_archive(tmp_path / "m.tar.gz", tmp_path / "t")
    assert (tmp_path / "t/m/config.json").read_text() == "{}"
    zip_with(tmp_path / "m.zip", [("m/config.json", "{}"), ("m/a/b.txt", "x")])
    hub.extract_archive(tmp_path / "m.zip", tmp_path / "z")
    assert (tmp_path / "z/m/a/b.txt").read_text() == "x"


EVIL = {
    "tar dot-dot": lambda p: tar_with(p / "e.tar.gz", [("ok.txt", "file", "ok"), ("../evil.txt", "file", "x")]),
    "tar absolute": lambda p: tar_with(p / "e.tar.gz", [("ok.txt", "file", "ok"), (str(p / "evil.txt"), "file", "x")]),
    "tar symlink out": lambda p: tar_with(p / "e.tar.gz", [("ok.txt", "file", "ok"), ("a/l", "sym", "../../evil.txt")]),
    "tar absolute symlink": lambda p: tar_with(p / "e.tar.gz", [("ok.txt", "file", "ok"), ("l", "sym", "/etc/passwd")]),
    "tar hardlink out": lambda p: tar_with(p / "e.tar.gz", [("ok.txt", "file", "ok"), ("h", "hard", "../evil.txt")]),
    "tar through a link": lambda p: tar_with(p / "e.tar.gz", [("a/l", "sym", ".."), ("a/l/l2", "sym", ".."),
                                                              ("a/l/l2/evil.txt", "file", "x")]),
    "zip dot-dot": lambda p: zip_with(p / "e.zip", [("ok.txt", "ok"), ("../evil.txt", "x")]),
    "zip absolute": lambda p: zip_with(p / "e.zip", [("ok.txt", "ok"), ("/evil.txt", "x")]),
    "zip windows dot-dot": lambda p: zip_with(p / "e.zip", [("ok.txt", "ok"), ("..\\evil.txt", "x")]),
    "zip symlink out": lambda p: zip_with(p / "e.zip", [("ok.txt", "ok")], {"l": "../../etc/passwd"}),
}


@pytest.mark.parametrize("kind", EVIL)
def test_traversal_archives_are_refused_whole(tmp_path, kind):
    archive = EVIL[kind](tmp_path)
    with pytest.raises(UserError, match="archive refused"):
        hub.extract_archive(archive, tmp_path / "out" / "dest")
    assert not (tmp_path / "out").exists()  # checked before anything was written, ok.txt included
    assert not list(tmp_path.rglob("evil.txt"))


def test_a_file_that_is_no_archive_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="neither a folder nor a .zip"):
        hub.extract_archive(tmp_path / "notes.txt", tmp_path / "out")


# --- GUE -------------------------------------------------------------------------------------------------------

TF0 = {s: "sequence,label\nACGTACGTAC,0\nTTTTGGGGCC,1\n" for s in ("train", "dev", "test")}
CARD = """---
configs:
- config_name: human_tf_0
  data_files:
  - split: train
    path: GUE/human_tf_0/train.csv
  - split: test
    path: GUE/human_tf_0/test.csv
  - split: dev
    path: GUE/human_tf_0/dev.csv
- config_name: emp_H3
  data_files:
  - split: train
    path: emp_H3/train/*.parquet
  - split: validation
    path: emp_H3/validation/*.parquet
  - split: test
    path: emp_H3/test/*.parquet
---
# GUE (a copy in the hub's layout)
"""


def gue_hub_copy(root):
    """A GUE copy shaped like the hub's: a card with configs, CSVs for tf/0 and Parquet for EMP/H3."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    hf_folder(root, {"README.md": CARD, **{f"GUE/human_tf_0/{s}.csv": t for s, t in TF0.items()}})
    for split in ("train", "validation", "test"):
        (root / f"emp_H3/{split}").mkdir(parents=True)
        table = pa.table({"sequence": ["ACGTAC", "GGGCCC", "TTAACC"], "label": [0, 1, 0], "extra": [1, 2, 3]})
        pq.write_table(table, root / f"emp_H3/{split}/0000.parquet")
    return root


def test_gue_from_the_hub_cache_lays_out_csvs_the_loader_reads(tmp_path, blocked_hub):
    from genoarmory.data.gue import load_gue

    cache = tmp_path / "cache"
    hub.import_snapshot(gue_hub_copy(tmp_path / "src"), hub.GUE_REPO, "dataset", hub.GUE_REVISION, cache)
    folder = hub.gue_task_dir("tf/0", cache, offline=False, data_root=tmp_path / "no-gue-here")
    assert folder == cache / "gue/tf/0"
    assert {p.name: p.read_text() for p in folder.iterdir()} == {f"{s}.csv": t for s, t in TF0.items()}
    task = load_gue("EMP/H3", 2, data_root=tmp_path / "no-gue-here", cache_dir=cache)  # Parquet -> CSV
    assert [e.sequence for e in task.split("dev")] == ["ACGTAC", "GGGCCC", "TTAACC"]
    assert [e.label for e in task.split("test")] == [0, 1, 0]


def test_gue_prefers_data_root_and_fails_clearly_when_absent_offline(tmp_path, no_network):
    hf_folder(tmp_path / "data", {f"tf/0/{s}.csv": t for s, t in TF0.items()})
    assert hub.gue_task_dir("tf/0", tmp_path / "cache", True, tmp_path / "data") == tmp_path / "data/tf/0"
    with pytest.raises(UserError) as err:
        hub.gue_task_dir("tf/1", tmp_path / "cache", True, tmp_path / "data")
    assert "dataset leannmlindsey/GUE@main (offline)" in str(err.value)
    assert "download gue" in str(err.value) and "data_root=DIR" in str(err.value)
    with pytest.raises(UserError, match="unknown GUE task 'foo/0'"):
        hub.gue_task_dir("foo/0", tmp_path / "cache", True, tmp_path / "data")
