"""The exact oracle of the embedded motif tasks: the rule that generated and labelled them.

Hits are PWM windows scoring >= the task's threshold on either strand (data/pwm.py), exactly as the
generator checked them. Rules (data/motif.py):
  any           label 1 iff any motif of the task has a hit;
  ordered_pair  label 1 iff a hit of X is followed by a hit of Y with gap_min <= gap <= gap_max free bases
                between them (X's end to Y's start): order and spacing along the + strand, each hit on
                either strand, as the generator checks hits (the generator plants both on +, but a
                near-palindromic site such as TAL1::TCF3's E-box often scores higher on -).
The elements are every hit of the task's motifs (what `preserve=elements` keeps unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from genoarmory.data.oracles.base import Element
from genoarmory.data.pwm import PWMMotif, encode


@dataclass
class MotifHits:
    """Hits of a fixed list of motifs: the element oracle of motif sets (motif tasks, promoters, TF tasks)."""

    motifs: list[PWMMotif]
    name: str = "motif hits"
    details: dict | None = None  # how the motifs were chosen (discriminative.py), saved with the run

    def hit_lists(self, sequences: list[str]) -> list[list[list[tuple[int, str, float]]]]:
        """[motif][sequence] -> hits (start, strand, score), scanned per length group (no padding hits)."""
        out = [[[] for _ in sequences] for _ in self.motifs]
        by_length: dict[int, list[int]] = {}
        for i, s in enumerate(sequences):
            by_length.setdefault(len(s), []).append(i)
        for idx in by_length.values():
            codes = encode([sequences[i] for i in idx])
            for m, motif in enumerate(self.motifs):
                for i, hits in zip(idx, motif.hits(codes)):
                    out[m][i] = hits
        return out

    def elements(self, sequences: list[str]) -> list[frozenset[Element]]:
        hits = self.hit_lists(sequences)
        return [frozenset(Element(motif.matrix_id, start, start + motif.width)
                          for motif, per_seq in zip(self.motifs, hits) for start, _, _ in per_seq[i])
                for i in range(len(sequences))]

    def describe(self) -> dict:
        return {"name": self.name, "kind": "elements",
                "motifs": [{"matrix_id": m.matrix_id, "name": m.name, "threshold": round(m.threshold, 4)}
                           for m in self.motifs],
                "rule": "a hit is a window scoring >= threshold on either strand", "details": self.details}


@dataclass
class MotifRule:
    """The label rule of an embedded motif task (exact)."""

    motifs: list[PWMMotif]
    rule: str
    gap: tuple[int, int] | None = None
    exact: bool = True

    @property
    def name(self) -> str:
        ids = ", ".join(m.matrix_id for m in self.motifs)
        return f"motif rule {self.rule} ({ids})"

    def labels(self, sequences: list[str]) -> np.ndarray:
        hits = MotifHits(self.motifs).hit_lists(sequences)
        if self.rule == "any":
            return np.array([int(any(per_motif[i] for per_motif in hits)) for i in range(len(sequences))])
        x, y = self.motifs
        lo, hi = self.gap
        out = np.zeros(len(sequences), dtype=int)
        for i in range(len(sequences)):
            xs = [s for s, _, _ in hits[0][i]]
            ys = [s for s, _, _ in hits[1][i]]
            out[i] = int(any(lo <= sy - (sx + x.width) <= hi for sx in xs for sy in ys))
        return out

    def describe(self) -> dict:
        return {"name": self.name, "kind": "label", "exact": True, "rule": self.rule,
                "gap": list(self.gap) if self.gap else None,
                "motifs": [{"matrix_id": m.matrix_id, "name": m.name, "threshold": round(m.threshold, 4)}
                           for m in self.motifs]}
