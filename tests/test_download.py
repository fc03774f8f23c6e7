"""`python -m genoarmory download` with the network blocked: --source folders and archives fill the cache that
`fetch` and the loaders read; offline, traversal and unknown targets end in one line and exit code 2."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from genoarmory import hub
from genoarmory.commands import download

REPO_ROOT = Path(__file__).resolve().parents[1]
DNABERT2 = "zhihan1996/DNABERT-2-117M"  # conf/model/dnabert2.yaml's hub_id, revision main


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A real HF model folder: a 2-layer BertForSequenceClassification (safetensors) and a DNA tokenizer."""
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "A", "C", "G", "T"]))
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=False).save_pretrained(folder)
    config = BertConfig(vocab_size=9, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=16, max_position_embeddings=32, num_labels=2)
    BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    return folder


def run(argv, capsys) -> tuple[int, str, str]:
    code = download.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def as_archive(folder: Path, archive: Path) -> Path:
    """The folder inside one wrapping directory, as people pack them."""
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for p in folder.rglob("*"):
                zf.write(p, Path("wrapped") / p.relative_to(folder))
    else:
        with tarfile.open(archive, "w:gz") as tf:
            tf.add(folder, arcname="wrapped")
    return archive


def test_model_from_a_source_folder_is_found_offline_and_loads(tmp_path, tiny_model, capsys, blocked_hub):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    cache = tmp_path / "cache"
    code, out, err = run(["model=dnabert2", "--source", tiny_model, "--cache-dir", cache], capsys)
    assert (code, err) == (0, "")
    snapshot = hub.fetch(DNABERT2, "model", "main", cache)  # what the model loader calls, network blocked
    assert out.strip() == f"model=dnabert2: {DNABERT2}@main -> {snapshot}"
    model = AutoModelForSequenceClassification.from_pretrained(snapshot)
    tokenizer = AutoTokenizer.from_pretrained(snapshot)
    assert model.config.num_hidden_layers == 2
    assert tokenizer("A C G T")["input_ids"] == [2, 5, 6, 7, 8, 3]  # [CLS] A C G T [SEP]


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
def test_model_from_a_source_archive(tmp_path, tiny_model, capsys, no_network, suffix):
    cache = tmp_path / "cache"
    archive = as_archive(tiny_model, tmp_path / f"tiny{suffix}")
    code, out, err = run(["model=dnabert2", "--source", archive, "--cache-dir", cache, "--revision", "v1"], capsys)
    assert (code, err) == (0, "")
    snapshot = hub.fetch(DNABERT2, "model", "v1", cache, offline=True)
    assert sorted(p.name for p in snapshot.iterdir()) == sorted(p.name for p in tiny_model.iterdir())
    assert (snapshot / "model.safetensors").read_bytes() == (tiny_model / "model.safetensors").read_bytes()
    assert [p.name for p in cache.iterdir()] == ["hub"]  # the unpacked archive was cleaned up


def test_a_traversal_archive_is_refused_and_nothing_is_written(tmp_path, tiny_model, capsys, no_network):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tf:
        tf.add(tiny_model / "config.json", arcname="config.json")
        tf.add(tiny_model / "vocab.txt", arcname="../../evil.txt")
    cache = tmp_path / "cache"
    code, out, err = run(["model=dnabert2", "--source", evil, "--cache-dir", cache], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "'../../evil.txt' points outside the extraction folder: archive refused" in err
    assert not [p for p in cache.rglob("*") if p.is_file()]
    assert not list(tmp_path.parent.rglob("evil.txt"))


def test_a_source_that_is_no_model_folder_is_refused(tmp_path, capsys, no_network):
    (tmp_path / "src").mkdir()
    (tmp_path / "src/notes.txt").write_text("hello")
    code, _, err = run(["model=dnabert2", "--source", tmp_path / "src", "--cache-dir", tmp_path / "c"], capsys)
    assert code == 2 and "no config.json: not a model folder in HF layout" in err


GENOADV_CARD = """---
configs:
- config_name: H3
  data_files:
  - split: train
    path: H3/train.csv
  - split: test
    path: H3/test.csv
---
# GenoAdv (a local copy)
"""


def test_genoadv_from_source_is_found_offline(tmp_path, capsys, blocked_hub):
    src = tmp_path / "GenoAdv"
    (src / "H3").mkdir(parents=True)
    (src / "README.md").write_text(GENOADV_CARD)
    for split in ("train", "test"):
        (src / f"H3/{split}.csv").write_text("sequence,label\nACGT,0\n")
    cache = tmp_path / "cache"
    code, out, err = run(["genoadv", "--source", src, "--cache-dir", cache], capsys)
    assert (code, err) == (0, "")
    snapshot = hub.fetch(hub.GENOADV_REPO, "dataset", "main", cache)
    assert f"-> {snapshot}\n" in out
    assert {s: [f.name for f in fs] for s, fs in hub.config_split_files(snapshot, "H3").items()} == {
        "train": ["train.csv"], "test": ["test.csv"]}


def test_gue_from_its_shipped_zip(tmp_path, capsys, no_network):
    gue = tmp_path / "GUE"
    for task in ("tf/0", "EMP/H3"):
        (gue / task).mkdir(parents=True)
        for split in ("train", "dev", "test"):
            (gue / task / f"{split}.csv").write_text(f"sequence,label\nACGTACGT,{split == 'dev':d}\n")
    (tmp_path / "__MACOSX").mkdir()  # the litter a macOS zip carries beside GUE/
    (tmp_path / "__MACOSX/._GUE").write_text("x")
    archive = tmp_path / "GUE.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in [*gue.rglob("*.csv"), tmp_path / "__MACOSX/._GUE"]:
            zf.write(p, p.relative_to(tmp_path))
    cache = tmp_path / "cache"
    code, out, err = run(["gue", "--source", archive, "--cache-dir", cache], capsys)
    assert (code, err) == (0, "")
    assert f"gue/tf/0: {cache / 'gue/tf/0'}" in out and f"gue/EMP/H3: {cache / 'gue/EMP/H3'}" in out
    assert "not in --source: EMP/H3K14ac" in out  # the other 26 configured tasks are listed as absent
    assert (cache / "gue/EMP/H3/dev.csv").read_text() == "sequence,label\nACGTACGT,1\n"
    assert hub.gue_task_dir("tf/0", cache, offline=True, data_root=tmp_path / "none") == cache / "gue/tf/0"

    code, _, err = run(["gue", "--source", archive, "--task", "tf/3", "--cache-dir", cache], capsys)
    assert code == 2 and "GUE task tf/3: no train/dev/test split" in err


@pytest.mark.parametrize("argv, message", [
    (["model=dnabert2"], f"cannot reach the Hugging Face hub for {DNABERT2}@main"),
    (["model=dnabert2", "--task", "H3"], "magicslabnu/DNABERT-2-117M-finetuned-H3@main"),
    (["gue", "--task", "tf/0"], "cannot reach the Hugging Face hub for dataset leannmlindsey/GUE@main"),
    (["genoadv"], "cannot reach the Hugging Face hub for dataset magicslabnu/GenoAdv@main"),
    (["model=tiny-6mer"], "model=tiny-6mer is embedded (no hub_id): nothing to download"),
    (["model=nope"], "unknown model 'nope'; known: caduceus, dnabert1-6mer, dnabert2"),
    (["everything"], "unknown target 'everything'"),
])
def test_failures_are_one_line_and_exit_2(tmp_path, capsys, blocked_hub, argv, message):
    code, out, err = run([*argv, "--cache-dir", tmp_path / "cache"], capsys)
    assert code == 2 and out == ""
    assert err.startswith("genoarmory: error: ") and err.count("\n") == 1 and message in err
    assert not (tmp_path / "cache").exists()


def test_the_cache_defaults_to_the_configs(monkeypatch, tmp_path):
    monkeypatch.setenv("GENOARMORY_CACHE", str(tmp_path / "ga-cache"))
    assert download.config_cache_dir() == hub.default_cache_dir() == tmp_path / "ga-cache"


@pytest.mark.parametrize("env", [{"HF_HUB_OFFLINE": "1"},
                                 {"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9"}])  # port 9: refused
def test_the_cli_offline_exits_2_without_a_traceback(tmp_path, env):
    environ = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-m", "genoarmory", "download", "model=dnabert2",
                           "--cache-dir", str(tmp_path)], cwd=REPO_ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    assert f"cannot reach the Hugging Face hub for {DNABERT2}@main" in proc.stderr


# --- the real download path, against a local stand-in for the hub's HTTP API ---------------------------------

SHA = "c0ffee0000000000000000000000000000c0ffee"


class FakeHub(ThreadingHTTPServer):
    """Answers the two requests huggingface_hub makes: repo metadata, and files under /resolve/."""

    def __init__(self, repos: dict[str, dict[str, bytes]]):
        super().__init__(("127.0.0.1", 0), FakeHubHandler)
        self.repos, self.served = repos, []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FakeHubHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        api = re.fullmatch(r"/api/(models|datasets)/(.+)/revision/main", self.path)
        if api:
            repo = ("datasets/" if api[1] == "datasets" else "") + api[2]
            siblings = [{"rfilename": name} for name in self.server.repos[repo]]
            return self.reply(json.dumps({"id": api[2], "sha": SHA, "siblings": siblings}).encode())
        data = self.file()
        self.server.served.append(self.path)
        self.reply(data)

    def do_HEAD(self):
        self.reply(self.file(), body=False)

    def file(self) -> bytes:
        repo, name = re.fullmatch(r"/(.+)/resolve/[^/]+/(.+)", self.path).groups()
        return self.server.repos[repo][name]

    def reply(self, data: bytes, body: bool = True):
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("X-Repo-Commit", SHA)
        self.end_headers()
        if body:
            self.wfile.write(data)


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    environ = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}
    environ.pop("HF_HUB_OFFLINE", None)
    return subprocess.run([sys.executable, "-m", "genoarmory", "download", *args], cwd=REPO_ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_hub_downloads_are_found_again_offline(tmp_path, tiny_model, monkeypatch):
    model_files = {p.name: p.read_bytes() for p in tiny_model.iterdir()}
    card = "---\nconfigs:\n- config_name: human_tf_0\n  data_files:\n" + "".join(
        f"  - split: {s}\n    path: GUE/human_tf_0/{s}.csv\n" for s in ("train", "dev", "test")) + "---\n"
    gue = {"README.md": card.encode(), **{f"GUE/{c}/{s}.csv": b"sequence,label\nACGT,1\n"
                                          for c in ("human_tf_0", "emp_H3") for s in ("train", "dev", "test")}}
    server = FakeHub({DNABERT2: {**model_files, "pytorch_model.bin": b"pickle", "tf_model.h5": b"tf"},
                      f"datasets/{hub.GUE_REPO}": gue})
    cache, env = tmp_path / "cache", {"HF_ENDPOINT": server.url, "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    try:
        model = cli(["model=dnabert2", "--cache-dir", str(cache)], env)
        task = cli(["gue", "--task", "tf/0", "--cache-dir", str(cache)], env)
    finally:
        server.shutdown()
    assert (model.returncode, task.returncode) == (0, 0), model.stderr + task.stderr
    assert not [p for p in server.served if p.endswith((".bin", ".h5"))]  # safetensors exist: no pickles fetched
    assert not [p for p in server.served if "emp_H3" in p]  # only the asked task's files

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # later, without network: the same folders come back
    snapshot = hub.fetch(DNABERT2, "model", "main", cache)
    assert model.stdout.strip() == f"model=dnabert2: {DNABERT2}@main -> {snapshot}" and snapshot.name == SHA
    assert {p.name: p.read_bytes() for p in snapshot.iterdir()} == model_files
    assert task.stdout.strip() == f"gue/tf/0: {cache / 'gue/tf/0'}"

    # carried to an air-gapped machine: the repo's cache folder, tarred as is (its snapshot holds links to blobs/)
    carried = tmp_path / "carried.tar.gz"
    with tarfile.open(carried, "w:gz") as tf:
        tf.add(snapshot.parents[1], arcname=snapshot.parents[1].name)
    code = download.main(["model=dnabert2", "--source", str(carried), "--cache-dir", str(tmp_path / "gapped")])
    copy = hub.fetch(DNABERT2, "model", "main", tmp_path / "gapped")
    assert code == 0 and {p.name: p.read_bytes() for p in copy.iterdir()} == model_files
    assert hub.gue_task_dir("tf/0", cache, data_root=tmp_path) == cache / "gue/tf/0"
    assert (cache / "gue/tf/0/test.csv").read_text() == "sequence,label\nACGT,1\n"
