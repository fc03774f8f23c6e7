"""Edit statistics and motif enrichment: the numbers behind the plots and summary.json's motif_enrichment."""

from __future__ import annotations

import numpy as np
import pytest

from genoarmory.testing import loose_record
from scipy.stats import binom

from genoarmory.analysis.edits import edit_statistics, offsets_from_motifs, span_coverage
from genoarmory.analysis.enrichment import enrichment_summary
from genoarmory.analysis.plots import offset_histogram, position_histogram
from genoarmory.data.pwm import load_motif

COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


def random_sequence(rng, length):
    return "".join(rng.choice(list("ACGT"), length))


def record(seq, positions, spans=None, status="success", alt=None, label=1):
    """An attack record whose edits substitute each position (by default with the complementary base)."""
    edits = [[p, seq[p], alt or COMPLEMENT[seq[p]]] for p in positions]
    adv = list(seq)
    for p, _, a in edits:
        adv[p] = a
    meta = {} if spans is None else {"motif_spans": spans}
    return loose_record(id=f"test:{id(edits)}", label=label, sequence=seq, status=status,
                        adv_sequence="".join(adv) if status == "success" else None,
                        edits=edits if status == "success" else [], meta=meta)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(7)


def test_edits_inside_spans_are_enriched_with_exact_numbers(rng):
    # 100 records of 100 nt, one 10-nt span at [40, 50), two edits inside it each
    records = [record(random_sequence(rng, 100), [42, 47], [[40, 50, "MA0108.3"]]) for _ in range(100)]
    out = enrichment_summary(records)
    assert out["method"] == "ground_truth_spans" and out["n_edits"] == 200
    [row] = out["motifs"]
    assert row["edits_in_motifs"] == 200 and row["observed_fraction"] == 1.0
    assert row["expected_fraction"] == pytest.approx(0.1)
    assert row["fold_enrichment"] == pytest.approx(10.0)
    assert row["p_value"] == pytest.approx(binom.sf(199, 200, 0.1), rel=1e-6) and row["p_value"] < 1e-100
    # per example: P(at least one of 2 distinct edits inside a 10/100 span) = 1 - (90*89)/(100*99)
    assert row["examples_expected_fraction"] == pytest.approx(1 - 90 * 89 / (100 * 99))
    assert row["examples_with_edit_in_motif"] == 100 and row["examples_p_value"] < 1e-50
    assert out["fold_enrichment"] == row["fold_enrichment"] and out["p_value"] == row["p_value"]


def test_uniform_edits_are_not_enriched(rng):
    # every position edited exactly once across 100 records: 10 of 100 edits fall in the 10-nt span
    records = [record(random_sequence(rng, 100), [i], [[40, 50, "MA0108.3"]]) for i in range(100)]
    row = enrichment_summary(records)["motifs"][0]
    assert row["edits_in_motifs"] == 10
    assert row["fold_enrichment"] == pytest.approx(1.0)
    assert row["p_value"] == pytest.approx(binom.sf(9, 100, 0.1)) and row["p_value"] > 0.3


def test_depleted_edits_give_p_near_one_and_motif_free_records_count_as_outside(rng):
    outside = [record(random_sequence(rng, 100), [5, 90], [[40, 50, "MA0108.3"]]) for _ in range(30)]
    free = [record(random_sequence(rng, 100), [45], [], label=0) for _ in range(30)]
    row = enrichment_summary(outside + free)["motifs"][0]
    assert row["n_edits"] == 90 and row["edits_in_motifs"] == 0
    assert row["expected_fraction"] == pytest.approx(60 * 0.1 / 90)  # motif-free records add edits, no coverage
    assert row["fold_enrichment"] == 0.0 and row["p_value"] == 1.0


def test_only_successful_records_count_and_motifs_are_split(rng):
    seqs = [random_sequence(rng, 120) for _ in range(40)]
    spans = [[10, 20, "MA0035.5"], [60, 70, "MA0091.2"]]
    records = [record(s, [12, 15], spans) for s in seqs[:20]]  # edits in X only
    records += [record(s, [61], spans, status="failed") for s in seqs[20:]]
    out = enrichment_summary(records)
    assert out["n_records"] == 20 and out["n_edits"] == 40
    rows = {r["motif"]: r for r in out["motifs"]}
    assert set(rows) == {"any", "MA0035.5", "MA0091.2"}
    assert rows["MA0035.5"]["edits_in_motifs"] == 40 and rows["MA0091.2"]["edits_in_motifs"] == 0
    assert rows["any"]["expected_fraction"] == pytest.approx(20 / 120)
    assert enrichment_summary(records, statuses=("failed",))["n_edits"] == 0  # failed records carry no edits


def test_real_data_scan_finds_a_planted_ctcf_site(rng):
    ctcf = load_motif("MA0139.2")
    consensus = "".join("ACGT"[i] for i in ctcf.probs.argmax(axis=0))
    records = []
    for i in range(60):
        seq = random_sequence(rng, 200)
        start = int(rng.integers(0, 200 - ctcf.width))
        seq = seq[:start] + consensus + seq[start + ctcf.width :]
        records.append(record(seq, [start + 3, start + 9]))  # no spans: real-data mode
    out = enrichment_summary(records)
    assert out["method"] == "jaspar_scan" and len(out["motifs"]) == 5
    top = out["motifs"][0]
    assert top["name"] == "CTCF" and top["sequences_with_hits"] == 60
    assert top["observed_fraction"] == 1.0 and top["fold_enrichment"] > 5
    assert top["p_value_bonferroni"] < 1e-20
    assert out["fold_enrichment"] == top["fold_enrichment"]


def test_created_sites_on_motif_free_examples(rng):
    tbp = "TATAAAA"
    spans_record = record(random_sequence(rng, 100), [3], [[0, 7, "MA0108.3"]])
    free = []
    for _ in range(10):
        seq = "G" * 30 + random_sequence(rng, 40).replace("T", "C") + "G" * 30  # no T: no TATA anywhere
        adv = seq[:50] + tbp + seq[57:]
        edits = [[50 + i, seq[50 + i], tbp[i]] for i in range(7) if seq[50 + i] != tbp[i]]
        free.append(loose_record(**{"id": "x", "label": 0, "sequence": seq, "status": "success", "adv_sequence": adv,
                     "edits": edits, "meta": {"motif_spans": []}}))
    [row] = enrichment_summary([spans_record] + free)["created_sites"]
    assert row["motif"] == "MA0108.3" and row["n_examples"] == 10
    assert row["hits_before"] == 0.0 and row["hits_after"] == 1.0 and row["examples_with_higher_score"] == 1.0


def test_edit_statistics_numbers():
    seq = "ACGT" * 25  # 100 nt, GC 50 %
    records = [
        loose_record(**{"status": "success", "sequence": seq, "edits": [[0, "A", "G"], [1, "C", "T"], [99, "T", "G"]]}),
        loose_record(**{"status": "success", "sequence": seq, "edits": [[4, "A", "C"]], "meta": {"motif_spans": [[2, 8, "M"]]}}),
        loose_record(**{"status": "failed", "sequence": seq, "edits": []}),
        loose_record(**{"status": "success", "sequence": seq, "edits": [[5, "A", "C"], [6, "G", "G"]]}),  # bad ref, no-op
    ]
    stats = edit_statistics(records)
    assert stats["n_used"] == 3 and stats["n_edits"] == 6
    assert stats["positions"] == [0, 1, 99, 4, 5, 6]
    assert stats["normalized_positions"] == pytest.approx([0.0, 0.01, 0.99, 0.04, 0.05, 0.06])
    m = np.array(stats["substitutions"]["matrix"])
    assert m[0, 2] == 1 and m[1, 3] == 1 and m[3, 2] == 1 and m[0, 1] == 2 and m.sum() == 5
    assert stats["substitutions"]["other"] == 1 and stats["substitutions"]["ref_mismatch"] == 1
    assert stats["substitutions"]["transition_fraction"] == pytest.approx(2 / 5)  # A>G, C>T
    # A>G +1, C>T -1, T>G +1 => +1 pp; A>C +1 pp; the last record's base 5 is already C, 6 a no-op => 0
    assert stats["gc_shift"]["per_example"] == pytest.approx([1.0, 1.0, 0.0])
    assert stats["edits_per_example"]["per_example"] == [3, 1, 2] and stats["edits_per_example"]["max"] == 3
    assert stats["motif_offsets"] == [2] and stats["motif_widths"] == [6]
    counts, edges = position_histogram(stats)
    assert counts.sum() == 6 and np.diff(edges).tolist() == [1] * 100 and counts[99] == 1


def test_position_bins_scale_with_length_and_offsets():
    stats = edit_statistics([loose_record(**{"status": "success", "sequence": "A" * 500, "edits": [[0, "A", "C"], [499, "A", "C"]]})])
    counts, edges = position_histogram(stats)
    assert np.diff(edges)[0] == 5 and counts.sum() == 2 and counts[0] == 1 and counts[-1] == 1
    recs = [loose_record(**{"status": "success", "sequence": "A" * 50, "edits": [[10, "A", "C"], [30, "A", "G"], [2, "A", "T"]],
             "meta": {"motif_spans": [[10, 16, "M"], [25, 31, "N"]]}})]
    assert offsets_from_motifs(recs) == [0, 5, -8]
    counts, edges = offset_histogram({"motif_offsets": [0, 5, -8]})
    assert counts.sum() == 3 and edges[0] == -8 and edges[-1] == 6
    cover = span_coverage(recs + [loose_record(**{"sequence": "A" * 50, "meta": {"motif_spans": []}})], 50)
    assert cover[10] == 0.5 and cover[16] == 0 and cover[:10].sum() == 0 and cover.sum() == pytest.approx(6)


def test_degenerate_inputs_stay_json_safe(rng):
    import json

    failed_only = [record(random_sequence(rng, 50), [], [[0, 7, "MA0108.3"]], status="failed")]
    out = enrichment_summary(failed_only)
    assert out["n_edits"] == 0 and out["motifs"] == []
    short = [record("ACGTA", [1]), record(random_sequence(rng, 30), [4])]  # shorter than most motifs, no spans
    out = enrichment_summary(short)
    assert out["method"] == "jaspar_scan" and out["n_edits"] == 2
    tiny_free = [record("ACG", [1], [], label=0), record(random_sequence(rng, 20), [2], [[0, 7, "MA0108.3"]])]
    for result in (enrichment_summary(short), enrichment_summary(tiny_free), edit_statistics(short)):
        json.dumps(result, allow_nan=False)
