"""The attack engine on the embedded default victim: records, budgets, constraints, determinism, resume,
self-check. The default tiny-6mer ships with the package, so no training happens here."""

import json
import math

import numpy as np
import pytest
from conftest import compose, embedded_default, run_cli

from genoarmory.attacks.engine import SelfCheckError, run_attack
from genoarmory.attacks.recipes import build_attack
from genoarmory.errors import UserError
from genoarmory.metrics.compute import attack_metrics
from genoarmory.testing import loose_record
from genoarmory.results import RecordWriter
from genoarmory.testing import read_json_records
from genoarmory.sequence import apply_edits, gc_content

RECORD_FIELDS = {"id", "label", "sequence", "clean_pred", "clean_probs", "status", "adv_sequence", "adv_pred",
                 "adv_probs", "edits", "queries", "perturbation_rate", "seconds"}
SUMMARY_FIELDS = {"origin_acc", "after_attack_acc", "asr", "average_queries", "perturbation_rate", "clean_mcc",
                  "adv_mcc", "n_examples", "model", "attack", "dataset", "config", "versions", "flags"}


@pytest.fixture(scope="module")
def default_setup():
    return embedded_default(8)


def attack(tmp_path, overrides, setup):
    cfg = compose(["dataset.limit=8", *overrides])
    _, task, victim, examples = setup
    with RecordWriter(tmp_path) as writer:
        records = run_attack(build_attack(victim, cfg), victim, examples, writer, int(cfg.seed), "test", 8, False)
    return [r.to_json() for r in records]


def strip(records):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in records]


@pytest.mark.parametrize("name", ["bertattack", "textfooler", "random"])
def test_cli_writes_records_and_summary(tmp_path, name):
    assert run_cli("attack", f"attack={name}", "dataset.limit=8", f"run_dir={tmp_path}", "progress=false") == 0
    records = read_json_records(tmp_path / "records.jsonl")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(records) == 8 and all(RECORD_FIELDS <= set(r) for r in records)
    assert SUMMARY_FIELDS <= set(summary)
    assert summary["model"]["name"] == "tiny-6mer" and summary["model"]["path"]
    assert summary["origin_acc"] >= 0.9  # the shipped default model
    for r in records:
        if r["status"] == "success":
            assert apply_edits(r["sequence"], [tuple(e) for e in r["edits"]]) == r["adv_sequence"]
            assert r["adv_pred"] != r["label"]
            assert len(r["edits"]) <= math.floor(0.1 * len(r["sequence"]))
            assert len({e[0] for e in r["edits"]}) == len(r["edits"])  # no position twice
    if name == "bertattack":  # the planted TATA box is where a working attack strikes
        assert summary["asr"] > 0.5 and summary["motif_enrichment"]


def test_same_seed_same_records(tmp_path, default_setup):
    a = attack(tmp_path / "a", ["attack=bertattack"], default_setup)
    default_setup[2].clear_cache()
    b = attack(tmp_path / "b", ["attack=bertattack"], default_setup)
    assert strip(a) == strip(b)


def test_resume_ends_with_the_records_of_an_uninterrupted_run(tmp_path, default_setup):
    full = attack(tmp_path / "full", ["attack=random"], default_setup)
    (tmp_path / "part").mkdir()
    lines = (tmp_path / "full" / "records.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "part" / "records.jsonl").write_text("".join(lines[:5]) + lines[5][:17])  # torn 6th line
    with pytest.warns(UserWarning, match="torn last record"):
        resumed = attack(tmp_path / "part", ["attack=random"], default_setup)
    assert strip(resumed) == strip(full)
    assert len(read_json_records(tmp_path / "part" / "records.jsonl")) == len(full)


def test_gc_and_protected_constraints(tmp_path, default_setup):
    for r in attack(tmp_path / "gc", ["attack=random", "attack.max_gc_shift=0.0"], default_setup):
        if r["status"] == "success":
            assert gc_content(r["adv_sequence"]) == gc_content(r["sequence"])
    records = attack(tmp_path / "p", ["attack=random", "attack.protected=[[0,50]]"], default_setup)
    assert any(r["edits"] for r in records)
    assert all(e[0] >= 50 for r in records for e in r["edits"])


def test_query_budget_is_respected(tmp_path, default_setup):
    records = attack(tmp_path, ["attack=bertattack", "attack.query_budget=12"], default_setup)
    assert max(r["queries"] for r in records) <= 12


def test_self_check_rejects_a_success_the_model_does_not_confirm(tmp_path, default_setup, monkeypatch):
    victim = default_setup[2]
    real = victim.predict_proba

    def lying(seqs, use_cache=True):  # a fresh (uncached) pass always says label 0
        return real(seqs, use_cache) if use_cache else np.tile(np.float32([1.0, 0.0]), (len(seqs), 1))

    monkeypatch.setattr(victim, "predict_proba", lying)
    cfg = compose(["dataset.limit=8", "attack=random"])
    examples = [e for e in default_setup[3] if e.label == 0]  # successes flip them to 1; the fresh pass disagrees
    with pytest.raises(SelfCheckError), RecordWriter(tmp_path) as writer:
        run_attack(build_attack(victim, cfg), victim, examples, writer, 0, "t", 8, False)


def test_targeted_goal_needs_a_valid_target(tmp_path, default_setup):
    with pytest.raises(UserError, match="target_label"):
        attack(tmp_path, ["attack=random", "attack.targeted=true", "attack.target_label=5"], default_setup)


def test_metrics_definitions():
    def rec(label, clean, status, adv=None, q=10, edits=(), rate=0.0):
        return loose_record(label=label, clean_pred=clean, status=status, adv_pred=adv if adv is not None else clean,
                            queries=q, edits=list(edits), perturbation_rate=rate)

    records = [rec(1, 1, "success", 0, q=20, edits=[(0, "A", "C")], rate=0.01), rec(0, 0, "failed", q=40),
               rec(1, 0, "skipped", q=1), rec(0, 0, "success", 1, q=30, edits=[(1, "A", "G")] * 3, rate=0.03)]
    m = attack_metrics(records, 2)
    assert m["origin_acc"] == 0.75 and m["after_attack_acc"] == 0.25
    assert m["asr"] == 2 / 3  # successes over originally-correct examples
    assert m["average_queries"] == 30.0  # over attacked examples, successes and failures
    assert m["perturbation_rate"] == 0.02 and m["average_edits"] == 2.0


def test_the_heap_alive_at_the_start_is_frozen_for_the_attack_only(tmp_path, default_setup):
    """host_state.frozen_heap: during the attack the objects alive at its start are out of the collector's walks
    (gc.freeze), afterwards back; the same records either way; a heap frozen in part beforehand is frozen whole,
    and an error inside still unfreezes."""
    import gc

    from genoarmory.attacks import host_state

    cfg, _, victim, examples = default_setup
    spec = build_attack(victim, compose(["dataset.limit=6", "attack=random"]))
    seen = []
    spec.annotators.append(lambda records: seen.append(gc.get_freeze_count()))
    out = []
    for freeze in (True, False):
        host_state.FREEZE_HEAP = freeze
        seen.clear()
        try:
            with RecordWriter(tmp_path / str(freeze)) as writer:
                records = run_attack(spec, victim, examples[:6], writer, 0, "t", 4, False)
        finally:
            host_state.FREEZE_HEAP = True
        out.append([{k: v for k, v in r.to_json().items() if k != "seconds"} for r in records])
        assert seen and (min(seen) > 0) == freeze and gc.get_freeze_count() == 0
    assert out[0] == out[1]
    # a heap other code froze in part (on the H200, 375 objects) is frozen whole all the same: skipping the
    # freeze then left every object made since to the collector (RESULTS.md, run 11)
    gc.freeze()
    try:
        partly = gc.get_freeze_count()
        late = [[] for _ in range(1000)]
        with host_state.frozen_heap():
            assert gc.get_freeze_count() >= partly + len(late)
            assert not any(x is late[0] for x in gc.get_objects())  # the collector no longer walks it
        assert gc.get_freeze_count() == 0 and any(x is late[0] for x in gc.get_objects())
    finally:
        gc.unfreeze()
    del late
    with pytest.raises(RuntimeError):
        with host_state.frozen_heap():
            raise RuntimeError("boom")
    assert gc.get_freeze_count() == 0


def test_full_collections_rarer_inside_the_attack_loop_and_its_cyclic_garbage_freed_at_the_end(tmp_path,
                                                                                             default_setup):
    """host_state: inside the loop the collector's oldest generation waits FULL_COLLECTION_THRESHOLD middle
    collections (Python's own: 10), the young ones are as before; when the attack ends the threshold is back,
    and cyclic garbage the attack made and kept past the young collections is gone, without waiting for
    Python's next full collection. With None the threshold is left alone; the records are the same."""
    import gc
    import weakref

    from genoarmory.attacks import host_state

    class Cycle:
        def __init__(self):
            self.me = self

    cfg, _, victim, examples = default_setup
    spec = build_attack(victim, compose(["dataset.limit=6", "attack=random"]))
    thresholds, cycles = [], []

    def annotate(records):
        thresholds.append(gc.get_threshold())
        cycle = Cycle()
        cycles.append(weakref.ref(cycle))
        gc.collect(1)  # the young generations: the cycle, still alive here, moves to the oldest
        del cycle

    spec.annotators.append(annotate)
    before = gc.get_threshold()
    product = host_state.FULL_COLLECTION_THRESHOLD
    assert product is not None and product > before[2]
    out = []
    for setting in (product, None):
        host_state.FULL_COLLECTION_THRESHOLD = setting
        thresholds.clear(), cycles.clear()
        gc.disable()  # no automatic collection of any kind in this test: only what frozen_heap does
        try:
            with RecordWriter(tmp_path / str(setting)) as writer:
                records = run_attack(spec, victim, examples[:6], writer, 0, "t", 4, False)
        finally:
            gc.enable()
            host_state.FULL_COLLECTION_THRESHOLD = product
        inside = before if setting is None else (before[0], before[1], setting)
        assert thresholds and all(t == inside for t in thresholds)
        assert gc.get_threshold() == before
        assert cycles and all(ref() is None for ref in cycles)  # collected when the attack ended
        out.append([{k: v for k, v in r.to_json().items() if k != "seconds"} for r in records])
    assert out[0] == out[1]


def test_the_switch_interval_is_shortened_only_beside_a_launcher_thread_and_put_back(tmp_path, default_setup):
    """host_state.quick_handoff: a victim with a launcher thread (CUDA) attacks under LAUNCH_SWITCH_INTERVAL,
    one without (CPU) under Python's own interval; afterwards, and after an error, the interval is as before;
    the records are the same either way."""
    import sys

    from genoarmory.attacks import host_state

    cfg, _, victim, examples = default_setup
    spec = build_attack(victim, compose(["dataset.limit=4", "attack=random"]))
    seen = []
    spec.annotators.append(lambda records: seen.append(sys.getswitchinterval()))
    before = sys.getswitchinterval()
    out = []
    host_state.LAUNCH_SWITCH_INTERVAL = 2e-4
    try:
        for threaded in (False, True):
            victim.launch_thread = threaded  # as on CUDA: this CPU victim's passes then run on a launcher thread
            seen.clear()
            with RecordWriter(tmp_path / str(threaded)) as writer:
                records = run_attack(spec, victim, examples[:4], writer, 0, "t", 4, False)
            assert seen and all(v == pytest.approx(2e-4 if threaded else before) for v in seen)
            assert sys.getswitchinterval() == before
            out.append([{k: v for k, v in r.to_json().items() if k != "seconds"} for r in records])
        with pytest.raises(RuntimeError):
            with host_state.quick_handoff(victim):
                assert sys.getswitchinterval() == pytest.approx(2e-4)
                raise RuntimeError("boom")
        assert sys.getswitchinterval() == before
    finally:
        host_state.LAUNCH_SWITCH_INTERVAL = None
        victim.launch_thread = False
    assert out[0] == out[1]
