"""The numbers behind every plot: where edits land, what they substitute, how they move GC content.

Positions are nucleotide coordinates of the original sequence (0-based). Only records whose status is in
`statuses` count (by default the successful attacks: the edits that actually fooled the model).
"""

from __future__ import annotations

import numpy as np

from genoarmory.edits import cost
from genoarmory.results.records import AttackRecord

BASES = "ACGT"
TRANSITIONS = {("A", "G"), ("G", "A"), ("C", "T"), ("T", "C")}  # purine<->purine, pyrimidine<->pyrimidine


def selected(records: list[AttackRecord], statuses=("success",)) -> list[AttackRecord]:
    return [r for r in records if r.status.value in statuses]


def edits_of(record: AttackRecord) -> list[tuple[int, str, str]]:
    return [(int(e[0]), str(e[1]), str(e[2])) for e in record.edits]


def gc_fraction(sequence: str) -> float:
    return (sequence.count("G") + sequence.count("C")) / len(sequence) if sequence else 0.0


def spans_of(record: AttackRecord) -> list:
    return record.meta.get("motif_spans") or []


def has_spans(record: AttackRecord) -> bool:
    return isinstance(record.meta.get("motif_spans"), list)


def any_spans(records: list[AttackRecord]) -> bool:
    return any(has_spans(r) for r in records)


def adversarial_sequence(record: AttackRecord) -> str:
    """The stored adversarial sequence, or the original with the edits applied (substitutions)."""
    if record.adv_sequence:
        return record.adv_sequence
    seq = list(record.sequence)
    for pos, _, alt in edits_of(record):
        if 0 <= pos < len(seq) and len(alt) == 1:
            seq[pos] = alt
    return "".join(seq)


def edit_statistics(records: list[AttackRecord], statuses=("success",)) -> dict:
    """Per-edit positions (absolute nt and position / length), the ref->alt count matrix over ACGT,
    the GC shift per example (percentage points, adversarial minus original), and edits per example (their
    edit distance: inserted and deleted bases count one each)."""
    used = selected(records, statuses)
    positions, normalized, lengths = [], [], []
    matrix = np.zeros((4, 4), dtype=int)
    other = 0  # edits that are not single-base ACGT substitutions (indels, N, ref == alt no-ops)
    ref_mismatch = 0  # edits whose ref is not the original base at that position: a broken record
    per_example, gc_shift = [], []
    for r in used:
        seq = r.sequence
        fit = set(r.length_fit or [])  # a fixed length's trim or pad: not the attack's edits (edits.py)
        edits = [e for e in edits_of(r) if e not in fit]
        per_example.append(cost(edits))
        lengths.append(len(seq))
        if seq:
            gc_shift.append(100.0 * (gc_fraction(adversarial_sequence(r)) - gc_fraction(seq)))
        for pos, ref, alt in edits:
            positions.append(pos)
            normalized.append(pos / len(seq) if seq else float("nan"))
            inside = 0 <= pos < len(seq) or (not ref and pos == len(seq))  # an insertion may append
            ref_mismatch += int(not inside or seq[pos : pos + len(ref)] != ref)
            if ref in BASES and alt in BASES and ref != alt:
                matrix[BASES.index(ref), BASES.index(alt)] += 1
            else:
                other += 1
    substitutions = int(matrix.sum())
    transitions = sum(int(matrix[BASES.index(a), BASES.index(b)]) for a, b in TRANSITIONS)
    return {
        "statuses": list(statuses),
        "n_records": len(records),
        "n_used": len(used),
        "n_edits": len(positions),
        "max_length": max(lengths, default=0),
        "positions": positions,
        "normalized_positions": normalized,
        "substitutions": {
            "bases": BASES,
            "matrix": matrix.tolist(),  # rows: reference base, columns: alternative base
            "other": other,
            "ref_mismatch": ref_mismatch,
            # ~2/3 of human SNVs are transitions (Ts/Tv ~2.0-2.1); attacks need not follow that
            "transition_fraction": transitions / substitutions if substitutions else None,
        },
        "gc_shift": {
            "per_example": gc_shift,
            "mean": float(np.mean(gc_shift)) if gc_shift else None,
            "median": float(np.median(gc_shift)) if gc_shift else None,
        },
        # edits of records with ground-truth spans, relative to the nearest span's start (None: no spans)
        "motif_offsets": offsets_from_motifs(used) if any_spans(used) else None,
        "motif_widths": sorted({int(sp[1]) - int(sp[0]) for r in used for sp in spans_of(r)}),
        "edits_per_example": {
            "per_example": per_example,
            "mean": float(np.mean(per_example)) if per_example else None,
            "median": float(np.median(per_example)) if per_example else None,
            "max": max(per_example, default=0),
        },
    }


def _distance(pos: int, span) -> int:
    start, end = int(span[0]), int(span[1])
    return 0 if start <= pos < end else min(abs(pos - start), abs(pos - end + 1))


def offsets_from_motifs(records: list[AttackRecord]) -> list[int]:
    """For every edit of a record with ground-truth spans: its offset from the start of the nearest span
    (0 .. width-1 inside it; negative upstream, beyond the width downstream)."""
    offsets = []
    for r in records:
        spans = spans_of(r)
        for pos, _, _ in edits_of(r) if spans else []:
            offsets.append(pos - int(min(spans, key=lambda span: _distance(pos, span))[0]))
    return offsets


def span_coverage(records: list[AttackRecord], length: int) -> np.ndarray | None:
    """Per position, the fraction of records with a ground-truth motif span covering it (for shading the
    position plot); None when no record carries meta.motif_spans."""
    with_spans = [r for r in records if has_spans(r)]
    if not with_spans or length <= 0:
        return None
    cover = np.zeros(length)
    for r in with_spans:
        mask = np.zeros(length, dtype=bool)
        for start, end, *_ in spans_of(r):
            mask[max(0, int(start)) : min(length, int(end))] = True
        cover += mask
    return cover / len(with_spans)
