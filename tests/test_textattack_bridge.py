"""The TextAttack bridge: offline import, our parts as TextAttack parts, every search, parity with the engine.

textattack is imported once per session (~6-15 s): by the first test below, with the network blocked.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import compose, run_cli

ENV = ("HF_HOME", "XDG_CACHE_HOME", "TA_CACHE_DIR", "TFHUB_CACHE_DIR", "PYTORCH_TRANSFORMERS_CACHE")

OFFLINE_IMPORT = """
import json, logging, os, socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args)[:80])
    raise OSError("network blocked by the test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
probe = logging.getLogger("genoarmory.test.probe")
before = {k: os.environ.get(k) for k in %(env)r}
from genoarmory.attacks.textattack_offline import import_textattack
import_textattack(sys.argv[1])
after = {k: os.environ.get(k) for k in %(env)r}
print(json.dumps({"attempts": attempts, "env_kept": before == after, "probe_enabled": not probe.disabled}))
""" % {"env": ENV}


def test_textattack_imports_with_the_network_blocked_and_leaves_env_and_loggers_alone(tmp_path, monkeypatch):
    if "textattack" in sys.modules:  # imported earlier in this session: check in a fresh interpreter
        out = subprocess.run([sys.executable, "-c", OFFLINE_IMPORT, str(tmp_path)], capture_output=True, text=True,
                             timeout=300, cwd=Path(__file__).resolve().parents[1])
        assert out.returncode == 0, out.stderr[-2000:]
        report = json.loads(out.stdout.strip().splitlines()[-1])
    else:
        attempts = []

        def refuse(*args, **kwargs):
            attempts.append(repr(args)[:80])
            raise OSError("network blocked by the test")

        for obj, name in ((socket.socket, "connect"), (socket, "create_connection"), (socket, "getaddrinfo")):
            monkeypatch.setattr(obj, name, refuse)
        probe = logging.getLogger("genoarmory.test.probe")
        before = {k: os.environ.get(k) for k in ENV}
        from genoarmory.attacks.textattack_offline import import_textattack

        import_textattack(tmp_path)
        report = {"attempts": attempts, "env_kept": before == {k: os.environ.get(k) for k in ENV},
                  "probe_enabled": not probe.disabled}
    assert report == {"attempts": [], "env_kept": True, "probe_enabled": True}
    assert (tmp_path / "textattack" / "post_install_check_3").is_file()
    stopwords = tmp_path / "textattack" / "nltk_data" / "corpora" / "stopwords" / "english"
    assert "the" in stopwords.read_text().split()


@pytest.fixture(scope="module")
def bridge():
    from genoarmory.attacks import textattack_bridge

    return textattack_bridge


def test_constraints_and_transformation_keep_our_threat_model(bridge):
    from textattack.shared import AttackedText

    from genoarmory.attacks.constraints import ThreatModel
    from genoarmory.attacks.transformations import BaseSubstitution

    original = "ACGTACGTACGTACGTACGT"  # 20 nt, budget 10% = 2 edits
    state = bridge.ExampleState(original, protected={0, 1})
    check = bridge.ThreatModelConstraint(ThreatModel(0.1), state)
    text = lambda s: AttackedText(bridge.to_text(s))  # noqa: E731
    assert check._check_constraint(text("ACTTACGTACGAACGTACGT"), text(original))      # 2 edits
    assert not check._check_constraint(text("ACTTACGTACGAACGTACGA"), text(original))  # 3 edits: over budget
    assert not check._check_constraint(text("TCGTACGTACGTACGTACGT"), text(original))  # protected position 0

    current = "ACTTACGTACGTACGTACGT"  # position 2 already edited
    editable = bridge.EditablePositions(state)._get_modifiable_indices(text(current))
    assert editable == set(range(3, 20))
    swap = bridge.TransformationBridge(BaseSubstitution(), state)
    out = swap._get_transformations(text(current), {2, 5})
    assert sorted(bridge.from_text(t) for t in out) == sorted(current[:5] + b + current[6:] for b in "AGT")


def _examples_and_victim(quick_tiny_model, limit):
    from genoarmory.data import evaluation_examples, load_task
    from genoarmory.models.load import load_victim

    cfg = compose([f"model.path={quick_tiny_model / 'model'}", "attack=textattack", f"dataset.limit={limit}"])
    task = load_task(cfg)
    return cfg, evaluation_examples(cfg, task), load_victim(cfg, task)


def test_greedy_wir_through_textattack_matches_the_engine(quick_tiny_model, bridge, tmp_path, monkeypatch):
    """Same goal, budget, masking (N) and candidates (the 3 other bases, in A<C<G<T order): identical
    adversarial sequences, edits, predictions and query counts, example by example.

    The one place they differ, pinned here: TextAttack ranks positions with `(-scores).argsort()`,
    numpy's UNSTABLE sort, so positions with equal leave-one-out scores (scores are rounded to 6
    decimals, and a weak model ties often) come in arbitrary order; the engine breaks ties by position.
    We check that TextAttack's own order equals ours up to tied scores, then give its ranking the
    engine's tie-break and require identical records.
    """
    from textattack.search_methods import GreedyWordSwapWIR
    from textattack.shared import AttackedText

    from genoarmory.attacks.constraints import ThreatModel
    from genoarmory.attacks.engine import run_attack
    from genoarmory.attacks.goal import Goal
    from genoarmory.attacks.recipes.textattack_search import build
    from genoarmory.attacks.search import AttackSpec
    from genoarmory.attacks.transformations import BaseSubstitution
    from genoarmory.results import RecordWriter

    cfg, examples, victim = _examples_and_victim(quick_tiny_model, 12)
    ours = AttackSpec("greedy", ThreatModel(0.1), BaseSubstitution(), importance="mask", units="nucleotide")
    with RecordWriter(tmp_path / "ours") as writer:
        our_records = run_attack(ours, victim, examples, writer, seed=0, config_hash="x", show_progress=False)
    theirs = build(victim, cfg)
    runner = theirs.search.args[0]

    def leave_one_out(ex):
        """(engine's order, TextAttack's own order, scores) of the positions of `ex`."""
        goal = Goal(ex.label)
        probes = [ex.sequence[:i] + "N" + ex.sequence[i + 1:] for i in range(len(ex.sequence))]
        scores = goal.scores(victim.predict_proba(probes))
        runner.state.original, runner.state.protected, runner.goal_function.goal = ex.sequence, set(), goal
        initial = AttackedText(bridge.to_text(ex.sequence))
        runner.goal_function.init_attack_example(initial, ex.label)
        theirs_ = [int(i) for i in runner.attack.search_method._get_index_order(initial)[0]]
        return sorted(range(len(scores)), key=lambda i: (-scores[i], i)), theirs_, scores

    attacked = [ex for ex, r in zip(examples, our_records) if r.attacked]
    assert attacked
    for ex in attacked:
        our_order, their_order, scores = leave_one_out(ex)
        assert [scores[i] for i in their_order] == [scores[i] for i in our_order], ex.id  # only ties may move

    unstable = GreedyWordSwapWIR._get_index_order

    def with_engine_tie_break(self, initial_text, *args, **kwargs):
        order, over = unstable(self, initial_text, *args, **kwargs)
        texts = [initial_text.replace_word_at_index(int(i), self.unk_token) for i in order]
        outputs = self.goal_function._call_model(texts)  # cached: costs no query
        scores = [self.goal_function._get_score(o, t) for o, t in zip(outputs, texts)]
        return np.array([int(i) for _, i in sorted(zip([-x for x in scores], order), key=lambda p: (p[0], p[1]))]), over

    monkeypatch.setattr(GreedyWordSwapWIR, "_get_index_order", with_engine_tie_break)
    with RecordWriter(tmp_path / "textattack") as writer:
        their_records = run_attack(theirs, victim, examples, writer, seed=0, config_hash="x", show_progress=False)
    keys = ("id", "status", "adv_sequence", "edits", "queries", "adv_pred", "clean_pred")
    assert [{k: getattr(r, k) for k in keys} for r in their_records] == [{k: getattr(r, k) for k in keys} for r in our_records]


@pytest.mark.parametrize("search,settings", [
    ("beam", ["attack.searches.beam.beam_width=2"]),
    ("genetic", ["attack.searches.genetic.pop_size=4", "attack.searches.genetic.max_iters=2"]),
    ("pso", ["attack.searches.pso.pop_size=4", "attack.searches.pso.max_iters=2"]),
])
def test_every_textattack_search_runs_within_our_budget(quick_tiny_model, bridge, tmp_path, search, settings):
    run_dir = tmp_path / search
    # a query budget keeps the population searches short (PSO spends thousands of queries otherwise)
    assert run_cli("attack", f"model.path={quick_tiny_model / 'model'}", "attack=textattack", f"attack.search={search}",
                   *settings, "attack.query_budget=400", "dataset.limit=4", f"run_dir={run_dir}", "progress=false") == 0
    records = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    attacked = [r for r in records if r["status"] != "skipped"]
    assert attacked and all(r["attack"] == f"textattack-{search}" and 1 < r["queries"] <= 400 for r in attacked)
    for r in attacked:  # the engine self-checked successes; the budget is ours
        assert len(r["edits"]) <= int(0.1 * len(r["sequence"]))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["attack"]["search"] == search and summary["n_attacked"] == len(attacked)


def test_the_query_budget_stops_textattack(quick_tiny_model, bridge, tmp_path):
    run_dir = tmp_path / "budget"
    assert run_cli("attack", f"model.path={quick_tiny_model / 'model'}", "attack=textattack", "attack.query_budget=40",
                   "dataset.limit=4", f"run_dir={run_dir}", "progress=false") == 0
    records = [json.loads(line) for line in (run_dir / "records.jsonl").read_text().splitlines()]
    attacked = [r for r in records if r["status"] != "skipped"]
    # greedy WIR needs 1 + 100 leave-one-out queries before its first swap: the budget ends it first
    assert attacked and all(r["queries"] == 40 and r["status"] == "failed" for r in attacked)
    assert np.isclose(json.loads((run_dir / "summary.json").read_text())["average_queries"], 40)
