"""Issue #21, item by item: nothing in a folder someone hands you runs code, turns on trust_remote_code or
leaks an environment variable; runs are not corrupted and results are not lost; bad input is one line.

Each test reproduces one item of the issue (the number is in its name); tests elsewhere that already
guard an item are named in the note above its group. Generated hostile inputs: test_fuzz_hostile.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from test_security import ship_code  # a checkpoint with its own code that leaves a marker if it ever runs
from genoarmory.errors import UserError
from genoarmory.results import RECORDS, RecordWriter, read_records

SMALL = ["dataset.limit=6", "dataset.loader.n_train=20", "dataset.loader.n_dev=20", "progress=false", "device=cpu"]
MESSAGE = "genoarmory: interrupted; rerun the same command to resume\n"


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("genoarmory: error: ") and "Traceback" not in err, err
    return err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def attack_run(quick_tiny_model, tmp_path_factory) -> tuple[Path, list[str]]:
    """A finished random attack of 6 examples on the quick tiny model (copy it before changing it)."""
    run = tmp_path_factory.mktemp("trust") / "attack"
    argv = ["attack", "attack=random", f"model.path={quick_tiny_model / 'model'}", f"run_dir={run}", *SMALL]
    assert run_cli(*argv) == 0
    return run, argv


@pytest.fixture
def copied_run(attack_run, tmp_path) -> Path:
    folder = tmp_path / "run"
    shutil.copytree(attack_run[0], folder)
    return folder


# ---- 1. code from a folder you were given (the override `dataset.loader._target_=os.system` and the other
# `_target_` overrides: test_config_schema.py BAD; saved parts: test_a_saved_config_naming_foreign_code...)

def test_item1_genoadv_build_never_runs_a_run_folders_loader(copied_run, tmp_path, capsys, monkeypatch):
    marker = tmp_path / "PWNED"
    config = (copied_run / "config.yaml").read_text()
    (copied_run / "config.yaml").write_text(config.replace(
        "_target_: genoarmory.data.motif.make_motif_task",
        f"_target_: subprocess.getoutput\n    cmd: touch {marker}"))
    assert run_cli("genoadv", "build", f"runs=[{copied_run}]", f"run_dir={tmp_path / 'out'}") == 2
    assert "dataset.loader._target_='subprocess.getoutput' names code" in one_line_error(capsys)
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_item1_no_resolver_runs_on_a_saved_config(copied_run, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GENOARMORY_TEST_SECRET", "s3cret-canary")
    config = (copied_run / "config.yaml").read_text()
    (copied_run / "config.yaml").write_text(config.replace("revision: null", "revision: ${oc.env:GENOARMORY_TEST_SECRET}"))
    assert "${oc.env:GENOARMORY_TEST_SECRET}" in (copied_run / "config.yaml").read_text()
    assert run_cli("genoadv", "build", f"runs=[{copied_run}]", f"run_dir={tmp_path / 'out'}") == 2
    err = one_line_error(capsys)
    assert "model.revision holds an interpolation" in err and "s3cret-canary" not in err
    assert not (tmp_path / "out").exists()


def test_item1_merge_refuses_a_summary_config_naming_code(copied_run, tmp_path, capsys):
    summary = json.loads((copied_run / "summary.json").read_text())
    summary["config"]["dataset"]["shard"] = "0/1"
    summary["config"]["dataset"]["loader"]["_target_"] = "os.system"
    (copied_run / "summary.json").write_text(json.dumps(summary))
    assert run_cli("merge", str(copied_run), "--out", str(tmp_path / "merged")) == 2
    assert "names code that is not one of GenoArmory's own" in one_line_error(capsys)


def test_item1_yaml_alias_bombs_are_refused_not_walked(tmp_path):
    from genoarmory.config import load_saved_config

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]  # 10**9 values
    (tmp_path / "config.yaml").write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match="too large to be a config"):
        load_saved_config(tmp_path / "config.yaml")


# ---- 2. genoadv verify never takes trust_remote_code (or allow_pickle) from a file

def test_item2_verify_ignores_trust_remote_code_in_metrics_json(quick_tiny_model, tmp_path):
    from genoarmory.genoadv.verify import build_victim, transfer_model_config

    train_run = tmp_path / "train"
    shutil.copytree(quick_tiny_model, train_run)
    marker = tmp_path / "PWNED"
    ship_code(train_run / "model", marker)
    metrics = json.loads((train_run / "metrics.json").read_text())
    metrics["config"]["model"].update(trust_remote_code=True, allow_pickle=True)
    (train_run / "metrics.json").write_text(json.dumps(metrics))
    cfg = transfer_model_config(train_run, None)
    assert cfg["trust_remote_code"] is False and cfg["allow_pickle"] is False
    with pytest.raises(UserError, match="ships its own model code"):
        build_victim(cfg, 2, "cpu", "auto", tmp_path / "cache", True)
    assert not marker.exists()
    assert transfer_model_config(train_run, None, trust_remote_code=True)["trust_remote_code"] is True  # the flag


def test_item2_a_genoadv_rows_victim_config_is_data(tmp_path):
    from genoarmory.genoadv.verify import source_model_config

    victim = tmp_path / "victim"
    victim.mkdir()
    honest = {"name": "x", "family": "hf", "trust_remote_code": True, "allow_pickle": True}
    cfg = source_model_config(json.dumps(honest), str(victim), None)
    assert (cfg["trust_remote_code"], cfg["allow_pickle"], cfg["path"]) == (False, False, str(victim))
    for hostile in ({"name": "${oc.env:HOME}", "family": "hf"}, {"name": "x", "loader": {"_target_": "os.system"}}):
        with pytest.raises(UserError, match="interpolation|names code"):
            source_model_config(json.dumps(hostile), str(victim), None)
    with pytest.raises(UserError, match="not a JSON model config"):
        source_model_config("[[[", str(victim), None)


# ---- 3. one writer per run folder (the lock: results/lock.py)

def test_item3_a_second_process_on_a_busy_run_folder_is_told_so(copied_run, capsys):
    # the other process: a real one holding the folder's lock (an OS lock, as a running attack holds it)
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from filelock import FileLock
        lock = FileLock({str(copied_run / '.genoarmory.lock')!r}); lock.acquire(); print('held', flush=True)
        sys.stdin.read()""")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = snapshot(copied_run)
        argv = ["attack", "attack=random", f"run_dir={copied_run}", *SMALL]
        assert run_cli(*argv) == 2
        assert "is busy: another GenoArmory process is writing to it" in one_line_error(capsys)
        assert snapshot(copied_run) == before
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


# ---- 4. resume validates every record (a torn line, a corrupt last line: test_faults.py)

def records_lines(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / RECORDS).read_text().splitlines()]


def write_lines(run: Path, lines: list) -> None:
    (run / RECORDS).write_text("".join(json.dumps(x) + "\n" for x in lines))


def edited(lines: list[dict], index: int, **changes) -> list[dict]:
    return [({**x, **changes} if i == index else x) for i, x in enumerate(lines)]


def hand_made_success(x: dict) -> dict:
    return {**x, "status": "success", "adv_sequence": x["sequence"], "edits": [], "adv_pred": 1 - x["label"]}


@pytest.mark.parametrize("change, message", [
    (lambda ls: ls + [ls[0]], r"records.jsonl:7: record '.*' appears twice \(first on line 1\)"),
    (lambda ls: edited(ls, 1, config_hash="0123456789abcdef"), r"records.jsonl:2: record made under another configuration"),
    (lambda ls: [hand_made_success(x) if i == 2 else x for i, x in enumerate(ls)],
     r"records.jsonl:3: invalid record: a success needs an adv_sequence that differs"),
    (lambda ls: edited(ls, 0, perturbation_rate=-5), r"records.jsonl:1: invalid record: perturbation_rate must be"),
    (lambda ls: edited(ls, 4, label=7), r"records.jsonl:5: invalid record: label=7 is not a class of a 2-class task"),
    (lambda ls: edited(ls, 5, id="test:999999"), r"records.jsonl:6: record 'test:999999' is not one of the examples"),
], ids=["duplicate", "hash-of-line-2", "hand-edited-success", "perturbation-rate", "label", "id-outside-subset"])
def test_item4_resume_stops_at_the_line_that_is_wrong(attack_run, copied_run, capsys, change, message):
    _, argv = attack_run
    write_lines(copied_run, change(records_lines(copied_run)))
    before = snapshot(copied_run)
    assert run_cli(*argv[:-len(SMALL) - 1], f"run_dir={copied_run}", *SMALL) == 2
    err = one_line_error(capsys)
    import re
    assert re.search(message, err), err
    assert snapshot(copied_run) == before  # nothing dropped, nothing rewritten


# ---- 5. defend and train never replace a finished result without overwrite=true

def test_item5_defend_in_an_attack_run_folder_keeps_its_records(attack_run, copied_run, quick_tiny_model, capsys):
    before = snapshot(copied_run)
    argv = ["defend", "defense=freelb", f"model.path={quick_tiny_model / 'model'}", f"run_dir={copied_run}", *SMALL]
    assert run_cli(*argv) == 2
    err = one_line_error(capsys)
    assert "holds results this defense did not make here (records.jsonl, summary.json" in err and "overwrite=true" in err
    assert snapshot(copied_run) == before


QUICK = ["model=tiny-6mer", "dataset=motif/tata", "progress=false", "device=cpu", "train.max_train=64", "train.epochs=1",
         "model.pretrain_mlm_epochs=0", "dataset.loader.n_train=64", "dataset.loader.n_dev=16", "dataset.loader.n_test=16",
         "model.arch.hidden_size=16", "model.arch.intermediate_size=16", "model.arch.num_hidden_layers=1",
         "model.arch.num_attention_heads=1"]


def test_item5_train_refuses_a_trained_run_dir_and_a_failure_keeps_the_old_model(quick_tiny_model, tmp_path, capsys,
                                                                               monkeypatch):
    run = tmp_path / "train"
    shutil.copytree(quick_tiny_model, run)
    before = snapshot(run)
    assert run_cli("train", f"run_dir={run}", *QUICK) == 2
    assert "already holds a finished result (model, mlm, metrics.json); pass overwrite=true" in one_line_error(capsys)
    assert snapshot(run) == before

    import genoarmory.models.tiny as tiny

    real, calls = tiny.save_pretrained, []

    def fails_on_the_mlm(model, tokenizer, out):  # the model is saved, then the run dies halfway
        calls.append(out)
        real(model, tokenizer, out)
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(tiny, "save_pretrained", fails_on_the_mlm)
    assert run_cli("train", f"run_dir={run}", "overwrite=true", *QUICK) == 130
    assert capsys.readouterr().err.endswith(MESSAGE)
    assert snapshot(run) == before and not list(run.glob(".staging-*"))  # old weights beside old metrics, whole
    monkeypatch.setattr(tiny, "save_pretrained", real)
    assert run_cli("train", f"run_dir={run}", "overwrite=true", *QUICK) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["config"]["model"]["arch"]["hidden_size"] == 16 and not list(run.glob(".staging-*"))
    assert json.loads((run / "model" / "config.json").read_text())["hidden_size"] == 16


# ---- 6. symlinks are refused; a complete corrupt last line is not a torn write (test_faults.py)

def test_item6_a_symlinked_records_file_is_refused_and_its_target_untouched(copied_run, attack_run, tmp_path, capsys):
    target = tmp_path / "elsewhere.jsonl"
    shutil.move(copied_run / RECORDS, target)
    (copied_run / RECORDS).symlink_to(target)
    before = target.read_bytes()
    _, argv = attack_run
    assert run_cli(*argv[:-len(SMALL) - 1], f"run_dir={copied_run}", *SMALL) == 2
    assert "is a symbolic link" in one_line_error(capsys)
    assert target.read_bytes() == before
    with pytest.raises(UserError, match="symbolic link"):
        read_records(copied_run)


# ---- 7. names used as path parts

@pytest.mark.parametrize("name", ["../../../../elsewhere/x", "/abs/x", "${oc.env:HOME}"])
def test_item7_a_model_name_cannot_leave_the_cache(name, tmp_path, capsys):
    assert run_cli("attack", f"model.name={name}", f"run_dir={tmp_path / 'run'}", f"cache_dir={tmp_path / 'cache'}") == 2
    err = one_line_error(capsys)
    assert "model.name" in err and "becomes part of a path" in err and os.environ["HOME"] not in err.replace(name, "")
    assert list(tmp_path.iterdir()) == []


def test_item7_the_tiny_cache_checks_names_it_is_given_outside_the_schema(tmp_path):
    from omegaconf import OmegaConf

    from genoarmory.models.tiny import cached_tiny_model
    from genoarmory.testing import compose

    cfg = compose([f"cache_dir={tmp_path}"])
    OmegaConf.update(cfg, "model.name", "../../escape")
    with pytest.raises(UserError, match="model.name='../../escape' cannot be used in a file name"):
        cached_tiny_model(cfg, None, "cpu")
    assert list(tmp_path.iterdir()) == []


# ---- 10. Ctrl-C: one line, exit 130, in every command

KEYBOARD = [  # (command line, the function it reaches: Ctrl-C lands there)
    (["attack", "progress=false"], "genoarmory.api.pipeline.load_task"),  # attack and defend select through the API
    (["train", "progress=false"], "genoarmory.commands.train.load_task"),
    (["defend", "defense=at", "progress=false"], "genoarmory.api.pipeline.load_task"),
    (["genoadv", "build", "runs=[x]", "run_dir=y"], "genoarmory.genoadv.build.build_genoadv"),
    (["merge", "."], "genoarmory.commands.merge.find_runs"),
    (["leaderboard", "build", "--out", "site"], "genoarmory.leaderboard.site.build_site"),
    (["read", "."], "genoarmory.commands.read.run_rows"),
    (["visualize", "."], "genoarmory.commands.visualize.find_runs"),
    (["download", "gue"], "genoarmory.commands.download.download_gue"),
]


@pytest.mark.parametrize("argv, where", KEYBOARD, ids=[" ".join(k[0][:2]) for k in KEYBOARD])
def test_item10_ctrl_c_is_one_line_and_exit_130(argv, where, tmp_path, monkeypatch, capsys):
    import importlib

    module, name = where.rsplit(".", 1)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(module), name, interrupted)
    monkeypatch.chdir(tmp_path)
    argv = [a if not a.startswith("run_dir=") else f"run_dir={tmp_path / 'y'}" for a in argv]
    assert run_cli(*argv) == 130
    assert capsys.readouterr().err == MESSAGE
    assert not (tmp_path / "runs").exists() and not (tmp_path / "y").exists()


def test_item10_a_real_sigint_mid_attack_then_the_same_command_resumes(quick_tiny_model, tmp_path):
    """A real process and a real SIGINT, once: the interpreter's own handler, not a patched function."""
    import signal
    import time

    run = tmp_path / "run"
    argv = [sys.executable, "-m", "genoarmory", "attack", "attack=random", f"model.path={quick_tiny_model / 'model'}",
            f"run_dir={run}", "dataset.limit=400", "dataset.loader.n_train=20", "dataset.loader.n_dev=20",
            "dataset.loader.n_test=400", "progress=false", "device=cpu"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (run / RECORDS).is_file() and (run / RECORDS).read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == MESSAGE, err
    done = read_records(run)
    assert 3 <= len(done) < 400 and not (run / "summary.json").exists()
    with RecordWriter(run) as again:  # every line whole: a rerun resumes from them
        assert [r.id for r in again.records] == [r.id for r in done]


# ---- 11. one line, not a traceback (the overrides: test_config_schema.py BAD)

BAD_LINES = [
    (lambda x: {k: v for k, v in x.items() if k != "status"}, "missing field(s) status"),
    (lambda x: {k: v for k, v in x.items() if k != "id"}, "missing field(s) id"),
    (lambda x: [x], "a record must be a JSON object, not list"),
    (lambda x: None, "a record must be a JSON object, not NoneType"),
    (lambda x: {**x, "queries": "lots"}, "queries must be a non-negative integer, not 'lots'"),
]


@pytest.mark.parametrize("change, message", BAD_LINES, ids=["no-status", "no-id", "list", "null", "queries-lots"])
def test_item11_a_bad_record_line_is_one_line_naming_it(copied_run, change, message):
    lines = records_lines(copied_run)
    write_lines(copied_run, lines[:2] + [change(lines[2])] + lines[3:])
    with pytest.raises(UserError, match=r"records.jsonl:3: invalid record: " + message.replace("(", r"\(").replace(")", r"\)")):
        read_records(copied_run, 2)


def test_item11_records_jsonl_a_directory_and_deep_json_are_one_line(copied_run, attack_run, capsys):
    (copied_run / RECORDS).unlink()
    (copied_run / RECORDS).mkdir()
    _, argv = attack_run
    assert run_cli(*argv[:-len(SMALL) - 1], f"run_dir={copied_run}", *SMALL) == 2
    assert "records.jsonl: is not a file" in one_line_error(capsys)
    (copied_run / "summary.json").write_text("[" * 100_000 + "]" * 100_000)
    assert run_cli("read", str(copied_run)) == 2
    assert "JSON nested too deeply" in one_line_error(capsys)
    board = copied_run / "board"
    (board / "data").mkdir(parents=True)
    (board / "data" / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    assert run_cli("read", "leaderboard", "--board", str(board)) == 2
    assert "deep.json: cannot read as JSON (RecursionError)" in one_line_error(capsys)


def model_case(quick_tiny_model, tmp_path, change) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(quick_tiny_model / "model", folder)
    change(folder)
    return folder


def set_config(**changes):
    def change(folder: Path):
        config = json.loads((folder / "config.json").read_text())
        config.update(changes)
        (folder / "config.json").write_text(json.dumps(config))
    return change


def three_labels(folder: Path):
    from safetensors.torch import load_file, save_file

    import torch

    weights = load_file(folder / "model.safetensors")
    weights["classifier.weight"] = torch.zeros(3, weights["classifier.weight"].shape[1])
    weights["classifier.bias"] = torch.zeros(3)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    set_config(id2label={"0": "a", "1": "b", "2": "c"}, label2id={"a": 0, "b": 1, "c": 2})(folder)


def wrong_shape(folder: Path):
    from safetensors.torch import load_file, save_file

    import torch

    weights = load_file(folder / "model.safetensors")
    name = next(k for k in weights if "word_embeddings" in k)
    weights[name] = torch.zeros(7, 3)
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})


def truncate(name: str, keep: int):
    def change(folder: Path):
        (folder / name).write_bytes((folder / name).read_bytes()[:keep])
    return change


MODEL_CASES = [
    (three_labels, "model has 3 labels but the task has 2"),
    (wrong_shape, "cannot load model: Error(s) in loading state_dict"),
    (truncate("model.safetensors", 3000), "cannot load model: Error while deserializing header"),
    (truncate("tokenizer.json", 200), "cannot load the tokenizer: EOF while parsing"),
    (set_config(hidden_size=-5), "config.json: hidden_size=-5: expected a positive integer"),
    (set_config(num_hidden_layers=-1), "config.json: num_hidden_layers=-1: expected a positive integer"),
]


@pytest.mark.parametrize("change, message", MODEL_CASES,
                         ids=["3-labels", "wrong-shape", "truncated-safetensors", "bad-tokenizer", "hidden-5", "layers-1"])
def test_item11_a_broken_model_folder_is_one_line(quick_tiny_model, tmp_path, capsys, change, message):
    folder = model_case(quick_tiny_model, tmp_path, change)
    run = tmp_path / "run"
    assert run_cli("attack", "attack=random", f"model.path={folder}", f"run_dir={run}", *SMALL) == 2
    err = one_line_error(capsys)
    assert message in err and str(folder) in err, err
    assert not run.exists()


# ---- 12. silent acceptance (query_budget=-1 and +attack.bogus=1: test_config_schema.py BAD)

def test_item12_a_killed_tiny_build_leaves_nothing_for_ever(tmp_path, monkeypatch):
    import genoarmory.models.tiny as tiny
    from genoarmory.data import load_task
    from genoarmory.testing import compose

    cfg = compose([f"cache_dir={tmp_path}", *[o for o in QUICK if not o.startswith(("progress", "device"))]])
    task = load_task(cfg)
    name = f"tiny-6mer-motif-tata-{tiny.cache_key(cfg)}"
    killed = tmp_path / "tiny" / f".staging-{name}.x1y2z3"  # what a SIGKILLed build leaves
    (killed / "model").mkdir(parents=True)
    real = tiny.train_tiny

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(tiny, "train_tiny", interrupted)
    with pytest.raises(KeyboardInterrupt):
        tiny.cached_tiny_model(cfg, task, "cpu")
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [f".{name}.lock"]  # both builds' remains gone
    monkeypatch.setattr(tiny, "train_tiny", real)
    folder = tiny.cached_tiny_model(cfg, task, "cpu")
    assert folder == tmp_path / "tiny" / name and (folder / "metrics.json").is_file()
    assert sorted(p.name for p in (tmp_path / "tiny").iterdir()) == [f".{name}.lock", name]


def test_item12_a_50_mb_record_line_is_refused(copied_run):
    with open(copied_run / RECORDS, "ab") as f:
        f.write(b'{"id": "' + b"A" * (50 << 20) + b'"}\n')
    with pytest.raises(UserError, match=r"records.jsonl:7: record of 52428\d+ bytes \(over 8388608\)"):
        RecordWriter(copied_run)
