"""Embedded motif tasks: deterministic, labels defined by real JASPAR PWM hits, spans are the ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from Bio.Seq import Seq

from genoarmory.data.motif import GENOME_GC, make_motif_task, markov_background, sample_background
from genoarmory.data.pwm import _jaspar, encode, load_motif, threshold_for_fpr
from genoarmory.errors import UserError

from genoarmory.config import CONF_DIR as CONF
SMALL = dict(length=100, n_train=300, n_dev=50, n_test=150, seed=3)
BG = tuple(float(x) for x in markov_background()[0])


@pytest.fixture(scope="module")
def tata():
    return make_motif_task("motif/tata", ["MA0108.3"], threshold_fpr=1e-3, **SMALL)


@pytest.fixture(scope="module")
def grammar():
    return make_motif_task("motif/grammar", ["MA0035.5", "MA0091.2"], rule="ordered_pair", gap=(4, 12), **SMALL)


def _motifs(task):
    return {m["matrix_id"]: load_motif(m["matrix_id"], BG, task.info["threshold_fpr"]) for m in task.info["motifs"]}


def _biopython_pssm(matrix_id):
    """An independent scorer: Biopython's own PSSM from the same JASPAR counts and pseudocounts."""
    motif = _jaspar().fetch_motif_by_id(matrix_id)
    bg = dict(zip("ACGT", BG))
    return motif.counts.normalize(pseudocounts={b: 0.8 * bg[b] for b in "ACGT"}).log_odds(bg)


def test_same_seed_same_sequences_and_other_seed_differs():
    a = make_motif_task("t", ["MA0139.2"], **SMALL)
    b = make_motif_task("t", ["MA0139.2"], **SMALL)
    c = make_motif_task("t", ["MA0139.2"], **{**SMALL, "seed": 4})
    for split in ("train", "dev", "test"):
        assert [(e.id, e.sequence, e.label, e.meta) for e in a.split(split)] == \
               [(e.id, e.sequence, e.label, e.meta) for e in b.split(split)]
    assert [e.sequence for e in a.split("test")] != [e.sequence for e in c.split("test")]
    # splits are seeded independently: a bigger train split leaves test untouched
    d = make_motif_task("t", ["MA0139.2"], **{**SMALL, "n_train": 500})
    assert [e.sequence for e in d.split("test")] == [e.sequence for e in a.split("test")]


def test_shape_alphabet_ids_and_balance(tata):
    sizes = {"train": 300, "dev": 50, "test": 150}
    for split, examples in tata.splits.items():
        assert len(examples) == sizes[split]
        assert [e.id for e in examples] == [f"{split}:{i}" for i in range(len(examples))]
        assert all(len(e.sequence) == 100 and set(e.sequence) <= set("ACGT") for e in examples)
        labels = [e.label for e in examples]
        assert sum(labels) == round(len(labels) / 2)
        assert labels != sorted(labels) and labels != sorted(labels, reverse=True)  # shuffled, not blocks


def test_spans_are_real_hits_scored_independently_by_biopython(tata):
    motif = _motifs(tata)["MA0108.3"]
    bio = _biopython_pssm("MA0108.3")
    assert motif.threshold == pytest.approx(7.96, abs=0.02)  # FPR 1e-3 on the background composition
    for e in tata.split("train"):
        if e.label == 0:
            assert e.meta["motif_spans"] == []
            continue
        [[start, end, mid]] = e.meta["motif_spans"]
        assert mid == "MA0108.3" and end - start == motif.width
        site = e.sequence[start:end]
        both = [float(bio.calculate(Seq(site))), float(bio.calculate(Seq(site).reverse_complement()))]
        assert max(both) >= motif.threshold - 1e-9
        # our vectorised scanner agrees with Biopython on both strands
        fwd, rev = motif.strand_scores(encode([site]))
        assert [fwd[0, 0], rev[0, 0]] == pytest.approx(both, abs=1e-4)
        strand = e.meta["motif_strands"][0]
        assert (fwd[0, 0] if strand == "+" else rev[0, 0]) >= motif.threshold


def test_negatives_have_no_hit_and_positives_only_the_planted_one(tata):
    motif = _motifs(tata)["MA0108.3"]
    bio = _biopython_pssm("MA0108.3")
    for e in tata.split("test"):
        hits = {start for start, _, _ in motif.hits(encode([e.sequence]))[0]}
        assert hits == {s for s, _, _ in e.meta["motif_spans"]}
        if e.label == 0:  # cross-check the whole negative sequence with Biopython, both strands
            seq = Seq(e.sequence)
            worst = max(bio.calculate(seq).max(), bio.calculate(seq.reverse_complement()).max())
            assert worst < motif.threshold


def test_grammar_labels_follow_order_and_spacing_of_the_spans(grammar):
    motifs = _motifs(grammar)
    x, y = "MA0035.5", "MA0091.2"
    cases = set()
    for e in grammar.split("train"):
        spans = e.meta["motif_spans"]
        cases.add(e.meta["case"])
        found = set()
        for mid, motif in motifs.items():
            found |= {(s, s + motif.width, mid) for s, _, _ in motif.hits(encode([e.sequence]))[0]}
        assert found == {tuple(s) for s in spans}  # spans are every hit, and nothing else hits
        xs = [s for s in spans if s[2] == x]
        ys = [s for s in spans if s[2] == y]
        rule = any(4 <= b[0] - a[1] <= 12 for a in xs for b in ys)
        assert e.label == int(rule)
        if e.meta["case"] == "wrong_order":
            assert ys[0][1] <= xs[0][0]
        if e.meta["case"] == "wrong_spacing":
            assert ys[0][0] - xs[0][1] >= 22
    assert cases == {"pair", "none", "x_only", "y_only", "wrong_order", "wrong_spacing"}


def test_background_is_human_like():
    p, transition = markov_background()
    codes = sample_background(2000, 100, np.random.default_rng(0), p, transition)
    freq = np.bincount(codes.ravel(), minlength=4) / codes.size
    assert freq[1] + freq[2] == pytest.approx(GENOME_GC, abs=0.01)
    first, second = codes[:, :-1].ravel(), codes[:, 1:].ravel()
    cpg = np.mean((first == 1) & (second == 2)) / (freq[1] * freq[2])
    tpg = np.mean((first == 3) & (second == 2)) / (freq[3] * freq[2])
    assert cpg == pytest.approx(0.22, abs=0.03) and tpg == pytest.approx(1.2, abs=0.05)


def test_threshold_matches_biopython_distribution():
    motif = load_motif("MA0139.2", BG, 1e-4)
    bio = _biopython_pssm("MA0139.2")
    expected = bio.distribution(background=dict(zip("ACGT", BG)), precision=10**3).threshold_fpr(1e-4)
    assert motif.threshold == pytest.approx(expected, abs=0.1)
    assert threshold_for_fpr(motif.log_odds, BG, 1e-6) > motif.threshold > threshold_for_fpr(motif.log_odds, BG, 1e-2)


def test_configs_load_through_hydra_at_full_size():
    from hydra import compose, initialize_config_dir

    from genoarmory.data import evaluation_examples, load_task

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        for name in ("tata", "ctcf", "grammar"):
            cfg = compose("attack", overrides=[f"dataset=motif/{name}"])
            task = load_task(cfg)
            assert task.name == f"motif/{name}" and task.num_labels == 2
            assert {k: len(task.split(k)) for k in ("dev", "test")} == {"dev": 500, "test": 500}
            if name != "tata":  # tata's 100k training split is generated lazily, only when training
                assert len(task.split("train")) == cfg.dataset.loader.n_train == 4000
            assert len(evaluation_examples(cfg, task)) == 100
        assert compose("attack").dataset.loader.n_train == 100000
        assert compose("attack").dataset.name == "motif/tata"  # the embedded default


@pytest.mark.parametrize("kwargs, message", [
    (dict(motifs=["MA0108.3"], rule="nearby"), "unknown rule"),
    (dict(motifs=["MA0108.3"], rule="ordered_pair"), "two motifs"),
    (dict(motifs=["MA9999.9"]), "not found"),
    (dict(motifs=["MA0035.5", "MA0091.2"], rule="ordered_pair", length=30), "too short"),
])
def test_bad_parameters_are_user_errors(kwargs, message):
    with pytest.raises(UserError, match=message):
        make_motif_task("bad", **{**SMALL, **kwargs})
