"""SIGKILL an attack at 10 seeded random points, resume after each: the records equal one uninterrupted run.

Every run is a real process killed with SIGKILL. To keep ~12 runs fast on 2 cores, they are forked from
one server process that has imported torch/transformers/genoarmory but run nothing (so nothing is
inherited but imported code): a fork starts in milliseconds instead of ~10 s of imports. The kill
points are seeded: after k records (k drawn at random over the attack, one at k=0 so a run also dies
before writing anything) plus a random 0-50 ms delay, so kills land mid-step, between a record's write
and its fsync, or during start-up.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genoarmory.testing import read_json_records

REPO = Path(__file__).resolve().parents[1]
N_EXAMPLES, N_KILLS, SEED = 200, 10, 20261129

# Forks one attack per stdin line (a JSON argv); prints the child's pid, then its wait status.
SERVER = r"""
import json, os, sys
os.environ["TOKENIZERS_PARALLELISM"] = "false"
import torch, transformers, sklearn.metrics
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForSequenceClassification
import genoarmory.__main__, genoarmory.commands.attack, genoarmory.attacks.engine, genoarmory.models.load
import genoarmory.attacks.recipes.random_mutation, genoarmory.summary, genoarmory.report, genoarmory.data.motif
import genoarmory.analysis.enrichment
print("ready", flush=True)
for line in sys.stdin:
    argv, log = json.loads(line)
    pid = os.fork()
    if pid == 0:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        os.dup2(fd, 1); os.dup2(fd, 2)
        try:
            code = genoarmory.__main__.main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        except BaseException:
            import traceback; traceback.print_exc(); code = 3
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(int(code or 0))
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    print(json.dumps({"status": status}), flush=True)
os._exit(0)  # skip interpreter teardown (seconds with torch loaded)
"""


class AttackServer:
    def __init__(self, log: Path):
        # One torch thread per run: on 2 shared cores, OpenMP threads spin against each other (measured:
        # 200 examples took 17 s with 2 threads under load, 2.4 s with 1).
        env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=REPO, env=env)
        self.log = log
        assert self.proc.stdout.readline().strip() == "ready"

    def start(self, argv: list[str]) -> int:
        self.proc.stdin.write(json.dumps([argv, str(self.log)]) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["pid"]

    def wait(self) -> int:
        return json.loads(self.proc.stdout.readline())["status"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def count_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def comparable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "seconds"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = AttackServer(tmp_path_factory.mktemp("server") / "children.log")
    yield s
    s.close()


def test_sigkill_at_random_points_then_resume_equals_one_uninterrupted_run(tmp_path, server, quick_tiny_model):
    argv = ["attack", "model=tiny-6mer", f"model.path={quick_tiny_model / 'model'}", "attack=random",
            "+attack.parallel=8", f"dataset.limit={N_EXAMPLES}", "dataset.loader.n_train=20",
            "dataset.loader.n_dev=20", "progress=false"]
    reference_dir, killed_dir = tmp_path / "reference", tmp_path / "killed"

    server.start([*argv, f"run_dir={reference_dir}"])
    assert server.wait() == 0, server.log.read_text()[-3000:]
    reference = read_json_records(reference_dir / "records.jsonl")
    assert len(reference) == N_EXAMPLES

    rng = random.Random(SEED)
    targets = [0] + sorted(rng.sample(range(1, N_EXAMPLES - 50), N_KILLS - 1))
    kills, progress_at_kill = 0, []
    records = killed_dir / "records.jsonl"
    for target in targets:
        pid = server.start([*argv, f"run_dir={killed_dir}"])
        while count_lines(records) < target:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        os.kill(pid, signal.SIGKILL)
        status = server.wait()
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
            f"run finished before the kill at {target} records (status {status}); choose earlier kill points"
        kills += 1
        progress_at_kill.append(count_lines(records))
    server.start([*argv, f"run_dir={killed_dir}"])  # the final resume runs to the end
    assert server.wait() == 0, server.log.read_text()[-3000:]

    resumed = read_json_records(records)
    ids = [r["id"] for r in resumed]
    assert kills == N_KILLS
    assert len(ids) == len(set(ids)) == N_EXAMPLES, "records lost or duplicated"
    assert [comparable(r) for r in resumed] == [comparable(r) for r in reference]
    assert progress_at_kill == sorted(progress_at_kill) and progress_at_kill[-1] < N_EXAMPLES
    summary, expected = (json.loads((d / "summary.json").read_text()) for d in (killed_dir, reference_dir))
    for key in ("n_examples", "n_attacked", "n_success", "origin_acc", "after_attack_acc", "asr", "average_queries",
                "perturbation_rate", "clean_mcc", "adv_mcc", "config_hash"):
        assert summary[key] == expected[key], key
    print(f"kills survived: {kills}; records at each kill: {progress_at_kill}")
