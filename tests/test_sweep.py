"""Sweeps (`attack -m ...`): one run dir per job and one summary table (CSV + JSON), on the basic launcher
in-process and on the joblib launcher with 2 jobs in parallel; the cluster launchers compose."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO, run_cli
from genoarmory.commands.hydra_entry import _hydra_args
from genoarmory.config_compose import compose_checked
from genoarmory.sweep import JOB_FILE, write_sweep_summary

KEYS = ("origin_acc", "after_attack_acc", "asr", "average_queries", "n_examples")


@pytest.fixture
def one_thread():
    """One torch thread: on 2 shared cores, OpenMP threads spin against each other's processes."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def quick(model: Path, *extra: str) -> list[str]:
    return ["model=tiny-6mer", f"model.path={model / 'model'}", "dataset.loader.n_train=20", "dataset.loader.n_dev=20",
            "progress=false", *extra]


def read_table(sweep: Path) -> tuple[list[dict], dict]:
    with open(sweep / "sweep_summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, json.loads((sweep / "sweep_summary.json").read_text())


def check_jobs_match_their_runs(sweep: Path, rows: list[dict], table: dict) -> None:
    assert [r["job"] for r in rows] == [str(i) for i in range(len(rows))]
    for row, job in zip(rows, table["jobs"]):
        run_dir = Path(row["run_dir"])
        assert run_dir == (sweep / row["job"]).resolve() and row["status"] == "completed"
        summary = json.loads((run_dir / "summary.json").read_text())
        for key in KEYS:
            assert job[key] == summary[key] and float(row[key]) == pytest.approx(summary[key])
        assert row["overrides"] == " ".join(job["overrides"])


def test_basic_launcher_sweep_writes_one_run_dir_per_job_and_the_table(tmp_path, quick_tiny_model, one_thread):
    sweep = tmp_path / "sweep"
    code = run_cli("attack", "-m", *quick(quick_tiny_model, "attack=random,bertattack", "dataset.limit=4",
                                          f"run_dir={sweep}"))
    assert code == 0
    rows, table = read_table(sweep)
    assert [r["attack"] for r in rows] == ["random", "bertattack"]
    assert ["attack=random" in r["overrides"].split() for r in rows] == [True, False]
    check_jobs_match_their_runs(sweep, rows, table)
    assert table["columns"][:4] == ["job", "status", "overrides", "run_dir"]


def test_joblib_launcher_runs_two_jobs_in_parallel(tmp_path, quick_tiny_model):
    sweep = tmp_path / "sweep"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "genoarmory", "attack", "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
            *quick(quick_tiny_model, "attack=random", "dataset.limit=6", "dataset.shard=0/2,1/2", f"run_dir={sweep}")]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sweep summary" in done.stdout
    rows, table = read_table(sweep)
    check_jobs_match_their_runs(sweep, rows, table)
    jobs = [json.loads((sweep / r["job"] / JOB_FILE).read_text()) for r in rows]
    assert len({j["pid"] for j in jobs}) == 2  # two worker processes ...
    first, second = sorted(jobs, key=lambda j: j["started"])
    assert second["started"] < first["ended"]  # ... running at the same time


def test_the_table_marks_failed_and_unfinished_jobs_and_train_metrics(tmp_path):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / JOB_FILE).write_text(json.dumps({"num": 0, "status": "completed", "overrides": ["model=a"]}))
    (tmp_path / "0" / "metrics.json").write_text(json.dumps({"accuracy": 0.9, "mcc": 0.8, "config": {
        "model": {"name": "a"}, "dataset": {"name": "motif/tata"}}}))
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / JOB_FILE).write_text(json.dumps({"num": 1, "status": "failed", "overrides": ["model=b"],
                                                       "error": "RuntimeError: boom"}))
    (tmp_path / "2").mkdir()  # killed before it ended: no job file
    (tmp_path / ".submitit").mkdir()  # launcher bookkeeping is not a job
    csv_path, json_path = write_sweep_summary(tmp_path)
    rows = list(csv.DictReader(open(csv_path, newline="")))
    assert [(r["job"], r["status"]) for r in rows] == [("0", "completed"), ("1", "failed"), ("2", "unfinished")]
    assert rows[0]["accuracy"] == "0.9" and rows[0]["model"] == "a" and rows[0]["dataset"] == "motif/tata"
    assert rows[1]["error"] == "RuntimeError: boom" and rows[1]["accuracy"] == ""
    assert json.loads(json_path.read_text())["jobs"][2]["overrides"] == []


@pytest.mark.parametrize("argv, overrides, multirun", [
    (["-m", "a=1,2", "b=3"], ["a=1,2", "b=3"], True),
    (["a=1,2", "-m"], ["a=1,2"], True),
    (["--cfg", "job", "a=1"], ["a=1"], False),
    (["a=1", "--info"], ["a=1"], False),
    (["--info", "defaults", "a=1"], ["a=1"], False),
])
def test_hydra_flags_may_come_before_or_after_the_overrides(argv, overrides, multirun):
    args = _hydra_args(argv)  # Hydra's own parser: the command line goes to Hydra as typed
    assert args.overrides == overrides and args.multirun == multirun


def _compose_hydra(overrides: list[str]):
    return compose_checked("attack", overrides, return_hydra_config=True)


@pytest.mark.parametrize("launcher, plugin, target", [
    ("submitit_slurm", "hydra_plugins.hydra_submitit_launcher", "SlurmLauncher"),
    ("ray", "hydra_plugins.hydra_ray_launcher", "RayLauncher"),
])
def test_cluster_launchers_compose_with_the_sweep_summary(launcher, plugin, target):
    pytest.importorskip(plugin, reason=f"the optional extra for hydra/launcher={launcher} is not installed")
    cfg = _compose_hydra([f"hydra/launcher={launcher}", "model=tiny-char", "attack=random"])
    assert cfg.hydra.launcher._target_.endswith(target)
    assert cfg.hydra.callbacks.sweep_summary._target_ == "genoarmory.sweep.SweepSummary"


def test_a_job_with_bad_input_fails_alone_and_the_sweep_exits_2(tmp_path, quick_tiny_model, one_thread, capsys):
    # a split the task does not have: input only the job can find wrong (a bad override VALUE is refused
    # before the sweep starts: test_config_schema.py)
    sweep = tmp_path / "sweep"
    code = run_cli("attack", "-m", *quick(quick_tiny_model, "attack=random", "dataset.limit=3",
                                          "dataset.split=nosuch,test", f"run_dir={sweep}"))
    assert code == 2
    err = capsys.readouterr().err
    assert "sweep job 0: task motif/tata has no split 'nosuch'" in err and "1 of 2 sweep jobs failed" in err
    rows, table = read_table(sweep)
    assert [(r["job"], r["status"]) for r in rows] == [("0", "failed"), ("1", "completed")]
    assert "has no split" in rows[0]["error"] and not (sweep / "0" / "summary.json").exists()
    assert json.loads((sweep / "1" / "summary.json").read_text())["n_examples"] == 3
