"""An independent path to the embedded tasks' labels and motif hits: Biopython's own PSSM search (not
genoarmory.data.pwm's numpy scan), with the thresholds each task reports. Tests re-check what the label
check decided with this, so a bug in the product's scanner cannot hide itself."""

from __future__ import annotations

from functools import lru_cache

from Bio.Seq import Seq

PSEUDOCOUNT_TOTAL = 0.8  # as the task generator (Nishida et al. 2009)


@lru_cache(maxsize=None)
def _pssm(matrix_id: str, background: tuple, release: str = "JASPAR2026"):
    from pyjaspar import jaspardb

    motif = jaspardb(release=release).fetch_motif_by_id(matrix_id)
    bg = dict(zip("ACGT", background))
    return motif.counts.normalize(pseudocounts={b: PSEUDOCOUNT_TOTAL * bg[b] for b in "ACGT"}).log_odds(bg), motif.length


def hits(sequence: str, matrix_id: str, threshold: float, background=(0.25, 0.25, 0.25, 0.25),
         release: str = "JASPAR2026") -> set[int]:
    """Start positions of windows scoring >= threshold on either strand."""
    pssm, width = _pssm(matrix_id, tuple(background), release)
    found = set()
    for position, _ in pssm.search(Seq(sequence), threshold=threshold - 1e-6, both=True):
        found.add(position if position >= 0 else len(sequence) + position)
    return found


def task_label(sequence: str, info: dict) -> int:
    """The embedded task's rule (data/motif.py), from its info: any hit, or X then Y within the gap."""
    bg = tuple(info["background"]["probs"])
    motifs = info["motifs"]
    if info["rule"] == "any":
        return int(any(hits(sequence, m["matrix_id"], m["threshold"], bg) for m in motifs))
    x, y = motifs
    lo, hi = info["gap"]
    xs, ys = hits(sequence, x["matrix_id"], x["threshold"], bg), hits(sequence, y["matrix_id"], y["threshold"], bg)
    return int(any(lo <= sy - (sx + x["width"]) <= hi for sx in xs for sy in ys))
