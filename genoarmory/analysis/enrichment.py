"""Do attacks edit motifs more often than chance? Motif enrichment of adversarial edits.

`enrichment_summary(records)` is what `attack` stores in summary.json under "motif_enrichment".

Motif regions per record:
  - embedded tasks: the ground-truth `meta.motif_spans` (the planted sites that define the label);
  - real data (no spans): hits of a bounded panel of JASPAR CORE vertebrate PWMs (`SCAN_PANEL`) in the
    original sequences, both strands, at a per-window false-positive rate of `threshold_fpr` against the
    scanned sequences' own base composition; the `top_k` motifs with hits in the most sequences are reported.

Null model (per edit): each edit of record r lands on a position drawn uniformly from r's own sequence,
so it falls inside a motif region with probability c_r = (motif-covered nt) / (sequence length).
The expected fraction is the edit-weighted mean of c_r. The number of edits inside, k, is then a sum of
independent Bernoulli(c_r) (without replacement within one record: hypergeometric, same mean, smaller
variance); we test k against Binomial(n_edits, mean c), one-sided (more edits inside than chance).
For k >= n_edits * mean c + 1 the binomial tail bounds the true (Poisson-binomial) tail from above
(Hoeffding 1956, Ann. Math. Stat. 27:713), so there the p-value is conservative. Repeated positions
within one record count once.

Null model (per example, robust to edits of one example being chosen jointly by the search): example r
with m_r edits has at least one inside with probability 1 - C(L - s, m_r) / C(L, m_r) (s = covered nt);
the count of such examples is tested the same way (Binomial with the mean of those probabilities).

On embedded tasks, successful attacks on motif-free examples are summarised apart ("created_sites"):
the best-window PWM score of each task motif before and after the edits, and the fraction of adversarial
sequences reaching the motif's threshold (descriptive: did the attack build the motif it was fooled by?).

Caveat: an attack chooses edits, so "independent uniform edits" is what we reject, not a sampling claim;
per-motif p-values on real data carry a Bonferroni factor for the `top_k` motifs reported.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from genoarmory.analysis.edits import any_spans, edits_of, selected, spans_of
from genoarmory.results.records import AttackRecord

NULL_MODEL = ("each edit uniform over its own sequence, independent; one-sided binomial test of edits inside "
              "motif regions against the edit-weighted mean motif coverage (conservative, Hoeffding 1956)")

CREATED_SITE_FPR = 1e-3  # the loosest threshold the embedded tasks use (TBP in motif/tata: 7.96 bits)

# A bounded panel of well-characterised vertebrate factors covering the major TF families
# (promoter: TBP, SP1, NFY, YY1, NRF1, ETS, CREB, E2F; insulator: CTCF; enhancer/lineage: AP-1, GATA,
# FOX, HNF, CEBP, SOX/OCT, nuclear receptors, MEF2, TEAD, RUNX, KLF, PU.1, bHLH). Unversioned ids resolve
# to the latest version in the pinned JASPAR release, so the panel is fixed for a given pyjaspar release.
SCAN_PANEL = (
    "MA0108", "MA0139", "MA0079", "MA0060", "MA0095", "MA0506", "MA0028", "MA0098", "MA0062", "MA0018",
    "MA0099", "MA0147", "MA0058", "MA0093", "MA0024", "MA0106", "MA0105", "MA0107", "MA0144", "MA0050",
    "MA0035", "MA0148", "MA0047", "MA0046", "MA0114", "MA0466", "MA0143", "MA1115", "MA0138", "MA0113",
    "MA0112", "MA0007", "MA0083", "MA0052", "MA0090", "MA0002", "MA0039", "MA0088", "MA0014", "MA0080",
    "MA0523", "MA0150", "MA0499", "MA0091",
)


def _binomial_test(k: int, n: int, p: float) -> float:
    """P(X >= k), X ~ Binomial(n, p)."""
    if n == 0 or k == 0:
        return 1.0
    return float(min(1.0, binom.sf(k - 1, n, min(max(p, 0.0), 1.0))))


def _ratio(a, b):
    return float(a / b) if b else None


def _enrichment(masks: list[np.ndarray], edit_positions: list[list[int]]) -> dict:
    """Enrichment of edits inside the True positions of `masks` (one boolean array per record)."""
    n_edits = inside = 0
    expected = 0.0
    ex_n = ex_hit = 0
    ex_expected = 0.0
    for mask, positions in zip(masks, edit_positions):
        length = len(mask)
        positions = sorted({p for p in positions if 0 <= p < length})
        if not positions or not length:
            continue
        covered = int(mask.sum())
        coverage = covered / length
        k = int(mask[positions].sum())
        n_edits += len(positions)
        inside += k
        expected += coverage * len(positions)
        m = len(positions)
        p_none = float(np.prod([(length - covered - i) / (length - i) for i in range(m)])) if covered < length else 0.0
        p_none = max(p_none, 0.0)
        ex_n += 1
        ex_hit += int(k > 0)
        ex_expected += 1.0 - p_none
    exp_fraction = expected / n_edits if n_edits else None
    ex_exp_fraction = ex_expected / ex_n if ex_n else None
    return {
        "n_edits": n_edits,
        "edits_in_motifs": inside,
        "observed_fraction": _ratio(inside, n_edits),
        "expected_fraction": exp_fraction,
        "fold_enrichment": _ratio(inside / n_edits, exp_fraction) if n_edits else None,
        "p_value": _binomial_test(inside, n_edits, exp_fraction or 0.0),
        "n_examples": ex_n,
        "examples_with_edit_in_motif": ex_hit,
        "examples_expected_fraction": ex_exp_fraction,
        "examples_p_value": _binomial_test(ex_hit, ex_n, ex_exp_fraction or 0.0),
    }


def _span_masks(records: list[AttackRecord], motif_id: str | None) -> list[np.ndarray]:
    masks = []
    for r in records:
        mask = np.zeros(len(r.sequence), dtype=bool)
        for start, end, mid, *_ in spans_of(r):
            if motif_id is None or mid == motif_id:
                mask[max(0, int(start)) : int(end)] = True
        masks.append(mask)
    return masks


def _ground_truth(used: list[AttackRecord], positions: list[list[int]]) -> list[dict]:
    ids = sorted({s[2] for r in used for s in spans_of(r)})
    rows = [{"motif": "any", "name": "all ground-truth motif spans", **_enrichment(_span_masks(used, None), positions)}]
    if len(ids) > 1:
        rows += [{"motif": mid, **_enrichment(_span_masks(used, mid), positions)} for mid in ids]
    return rows


def _composition(codes: np.ndarray) -> tuple[float, ...]:
    """Base composition of coded sequences (rounded, so the loaded PWMs are cached across calls)."""
    counts = np.bincount(codes.ravel(), minlength=5)[:4].astype(float) + 1
    rounded = np.maximum(np.round(counts / counts.sum(), 2), 0.01)  # a base never seen still gets 1 %
    return tuple(float(b) for b in rounded / rounded.sum())


def _created_sites(used: list[AttackRecord], motif_ids: list[str], fpr: float) -> list[dict]:
    """Descriptive, for successful attacks on motif-free examples (label flipped towards 'has motif'):
    did the edits build the motif? Best-window PWM score before/after, and how many adversarial sequences
    reach the threshold at per-window FPR `fpr` (no p-value: the edits were chosen to fool the model)."""
    from genoarmory.analysis.edits import adversarial_sequence
    from genoarmory.data.motif import markov_background
    from genoarmory.data.pwm import encode, load_motif

    free = [r for r in used if not spans_of(r)]
    if not free:
        return []
    before = encode([r.sequence for r in free])
    after = encode([adversarial_sequence(r) for r in free])
    # the embedded tasks' own background, so thresholds match the ones that defined their labels
    background = tuple(float(x) for x in markov_background()[0])
    rows = []
    for motif_id in motif_ids:
        motif = load_motif(motif_id, background, fpr)
        old, new = motif.max_scores(before), motif.max_scores(after)
        ok = np.isfinite(old) & np.isfinite(new)  # sequences shorter than the motif have no window
        if not ok.any():
            continue
        old, new = old[ok], new[ok]
        rows.append({"motif": motif.matrix_id, "name": motif.name, "n_examples": int(ok.sum()),
                     "max_score_before": float(old.mean()), "max_score_after": float(new.mean()),
                     "examples_with_higher_score": float((new > old).mean()),
                     "hit_threshold": round(motif.threshold, 2), "hit_threshold_fpr": fpr,
                     "hits_before": float((old >= motif.threshold).mean()),
                     "hits_after": float((new >= motif.threshold).mean())})
    return rows


def _scan(used: list[AttackRecord], positions: list[list[int]], panel, threshold_fpr: float, top_k: int) -> list[dict]:
    from genoarmory.data.pwm import encode, load_motif

    sequences = [r.sequence for r in used]
    codes = encode(sequences)
    background = _composition(codes)  # the scanned sequences' own composition
    lengths = np.array([len(s) for s in sequences])
    found = []
    for motif_id in panel:
        motif = load_motif(motif_id, background, threshold_fpr)
        hit = motif.scores(codes) >= motif.threshold  # (n, L - w + 1); N/padding never hits
        if not hit.any():
            continue
        # position p is covered when a hit starts in [p - w + 1, p]: a running window sum over hit starts
        padded = np.concatenate([np.zeros((len(codes), 1)), np.cumsum(hit, axis=1)], axis=1)
        starts = np.arange(codes.shape[1])
        hi = np.minimum(starts, hit.shape[1] - 1) + 1
        lo = np.clip(starts - motif.width + 1, 0, hit.shape[1])
        covered = (padded[:, hi] - padded[:, lo]) > 0
        masks = [covered[i, : lengths[i]] for i in range(len(codes))]
        found.append((int(hit.any(axis=1).sum()), int(hit.sum()), motif, masks))
    found.sort(key=lambda f: (-f[0], -f[1], f[2].matrix_id))
    rows = []
    for seqs_with_hits, n_hits, motif, masks in found[:top_k]:
        row = {"motif": motif.matrix_id, "name": motif.name, "sequences_with_hits": seqs_with_hits,
               "hits": n_hits, "threshold": round(motif.threshold, 2), **_enrichment(masks, positions)}
        row["p_value_bonferroni"] = min(1.0, row["p_value"] * min(top_k, len(found)))
        rows.append(row)
    return rows


def enrichment_summary(records: list[AttackRecord], statuses=("success",), panel=SCAN_PANEL,
                       threshold_fpr: float = 1e-4, top_k: int = 5) -> dict:
    """Motif enrichment of the edits of records whose status is in `statuses` (see the module docstring
    for the null model). Ground-truth spans are used when the records carry meta.motif_spans, else a
    JASPAR scan. The headline fields repeat the first row ('any' span, or the motif with most hits)."""
    used = [r for r in selected(records, statuses) if r.sequence and edits_of(r)]
    positions = [[p for p, _, _ in edits_of(r)] for r in used]
    with_truth = any_spans(records)
    out = {
        "method": "ground_truth_spans" if with_truth else "jaspar_scan",
        "null_model": NULL_MODEL,
        "statuses": list(statuses),
        "n_records": len(used),
        "n_edits": sum(len(p) for p in positions),
    }
    if not used:
        out["motifs"] = []
        return out
    if with_truth:
        rows = _ground_truth(used, positions)
        motif_ids = sorted({sp[2] for r in records for sp in spans_of(r)})
        out["created_sites"] = _created_sites(used, motif_ids, CREATED_SITE_FPR)
    else:
        from genoarmory.data.pwm import JASPAR_RELEASE

        out.update(panel_size=len(panel), threshold_fpr=threshold_fpr, jaspar_release=JASPAR_RELEASE)
        rows = _scan(used, positions, panel, threshold_fpr, top_k)
    out["motifs"] = rows
    if rows:
        headline = ("motif", "observed_fraction", "expected_fraction", "fold_enrichment", "p_value")
        out.update({k: rows[0][k] for k in headline})
    return out
