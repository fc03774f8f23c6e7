"""Both strands: reverse complement, the both_strands goal, the RC-averaged victim, rc_consistency."""

from __future__ import annotations

import json

import numpy as np
import pytest

from genoarmory.attacks.goal import Goal
from genoarmory.attacks.strands import least_fooled
from genoarmory.data.strands import strand_note
from genoarmory.metrics.compute import strand_metrics
from genoarmory.results import read_records
from genoarmory.sequence import reverse_complement
from genoarmory.testing import embedded_default, record

from conftest import run_cli


def test_reverse_complement_is_the_other_strand():
    assert reverse_complement("AACGTN") == "NACGTT"
    assert reverse_complement("GATTACA") == "TGTAATC"
    rng = np.random.default_rng(0)
    s = "".join(rng.choice(list("ACGTN"), 200))
    assert reverse_complement(reverse_complement(s)) == s


@pytest.mark.parametrize("target", [None, 2])
def test_least_fooled_strand_reaches_the_goal_exactly_when_both_do(target):
    rng = np.random.default_rng(1)
    goal = Goal(label=0, target=target)
    forward, reverse = rng.dirichlet(np.ones(4) * 0.5, 2000), rng.dirichlet(np.ones(4) * 0.5, 2000)
    chosen = least_fooled(goal, forward, reverse)
    both = goal.reached(forward) & goal.reached(reverse)  # judged strand by strand, without least_fooled
    assert (goal.reached(chosen) == both).all()
    assert both.any() and (~both).any()


def test_strand_metrics_from_records():
    same = record("a", "AAACCC", rc_probs=[0.9, 0.1])
    flipped = record("b", "AAACCC", rc_probs=[0.2, 0.8])
    both = record("c", "AAACCC", status="success", adv_sequence="AAACCA", rc_probs=[1.0, 0.0],
                  adv_rc_probs=[0.3, 0.7])
    one = record("d", "AAACCC", status="success", adv_sequence="AAACCA", rc_probs=[1.0, 0.0],
                 adv_rc_probs=[0.6, 0.4])
    recs = [same, flipped, both, one]
    out = strand_metrics(recs, recs, [both, one])
    assert out["rc_consistency"] == 0.75
    assert out["rc_prob_gap"] == pytest.approx((0.1 + 0.8 + 0 + 0) / 4)
    assert out["both_strands_asr"] == 0.25


def test_strand_notes_name_the_oriented_tasks():
    assert strand_note("gue/prom/prom_core_all")["agnostic"] is False
    assert strand_note("gue/splice/reconstructed")["agnostic"] is False
    assert strand_note("motif/grammar")["agnostic"] is False
    assert strand_note("gue/tf/0")["agnostic"] is True
    assert strand_note("motif/tata")["agnostic"] is True
    assert strand_note("fasta")["agnostic"] is None


def test_rc_averaged_victim_is_the_mean_of_both_strands():
    _, _, plain, examples = embedded_default(6)
    _, _, averaged, _ = embedded_default(6, ["model.rc=average"])
    seqs = [e.sequence for e in examples]
    rcs = [reverse_complement(s) for s in seqs]
    expected = (plain.predict_proba(seqs) + plain.predict_proba(rcs)) / 2
    np.testing.assert_allclose(averaged.predict_proba(seqs), expected, atol=1e-5)
    np.testing.assert_allclose(averaged.predict_proba(rcs), averaged.predict_proba(seqs), atol=1e-5)
    assert averaged.info["rc"] == "average"


def test_both_strands_goal_fools_both_strands_end_to_end(tmp_path):
    """CLI run, then every success checked by a plain victim's own passes on both strands."""
    out = tmp_path / "run"
    assert run_cli("attack", "dataset.limit=12", "attack.goal=both_strands", f"run_dir={out}",
                   "progress=false") == 0
    summary = json.loads((out / "summary.json").read_text())
    records = read_records(out / "records.jsonl")  # strict: rebuilds every success from its edits
    wins = [r for r in records if r.succeeded]
    assert wins, "BERT-Attack found no both-strands success: the test would prove nothing"
    _, _, plain, _ = embedded_default(1)
    fwd = plain.predict_proba([r.adv_sequence for r in wins], use_cache=False)
    rev = plain.predict_proba([reverse_complement(r.adv_sequence) for r in wins], use_cache=False)
    labels = np.array([r.label for r in wins])
    assert (fwd.argmax(1) != labels).all() and (rev.argmax(1) != labels).all()
    assert summary["both_strands_asr"] == summary["asr"]
    assert summary["n_rc_checked"] == len(records)
    assert summary["strand"]["agnostic"] is True
    assert run_cli("read", str(out)) == 0


def test_one_strand_records_carry_the_reverse_strand(tmp_path):
    out = tmp_path / "run"
    assert run_cli("attack", "attack=random", "dataset.limit=8", "attack.max_perturb_ratio=0.2",
                   f"run_dir={out}", "progress=false") == 0
    records = read_records(out / "records.jsonl")
    _, _, plain, _ = embedded_default(1)
    rev = plain.predict_proba([reverse_complement(r.sequence) for r in records], use_cache=False)
    np.testing.assert_allclose([r.rc_probs for r in records], rev, atol=1e-5)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rc_consistency"] == pytest.approx(np.mean(
        [np.argmax(r.clean_probs) == np.argmax(p) for r, p in zip(records, rev)]))


def test_both_strands_refuses_textattack_and_rc_average_refuses_gradients(tmp_path, capsys):
    assert run_cli("attack", "attack=textattack", "attack.goal=both_strands", "dataset.limit=2",
                   f"run_dir={tmp_path / 'a'}", "progress=false") == 2
    assert run_cli("attack", "attack=pgd", "model.rc=average", "dataset.limit=2",
                   f"run_dir={tmp_path / 'b'}", "progress=false") == 2
    err = capsys.readouterr().err
    assert "both_strands" in err and "model.rc=average" in err
