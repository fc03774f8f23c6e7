"""Splice sites (GUE splice/reconstructed, and any donor/acceptor task): an element oracle.

A donor site is the canonical GT at the junction (0-based `donor_at`, the first intron base) inside a
window that matches the published donor consensus MAG|GTRAGT (Mount 1982, NAR 10:459; Shapiro & Senapathy
1987) at >= `DONOR_MIN` of its 9 positions; an acceptor is the canonical AG ending at the junction
(0-based `acceptor_at` = the A) preceded by the consensus YYYYYYYYYYNCAG (a polypyrimidine tract, then CAG)
matching >= `ACCEPTOR_MIN` of its 14 positions. The elements of a sequence are: the dinucleotide of each site
kind (present or not) and the consensus window (passing or not). An example of either class must keep its
site and a "neither" example must not gain one: any change to the element set is refused.

Positions are GUE's: splice/reconstructed is 400 nt, label 0 = acceptor with AG at 198-199 in >99 % of
examples, label 1 = donor with GT at 200-201, label 2 = neither. The UCI splice-junction set (60 nt) has the
donor GT at 30-31 and the acceptor AG at 28-29: pass those positions for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from genoarmory.data.oracles.base import Element

IUPAC = {"A": "A", "C": "C", "G": "G", "T": "T", "R": "AG", "Y": "CT", "M": "AC", "K": "GT", "S": "CG",
         "W": "AT", "N": "ACGT"}
DONOR = "MAGGTRAGT"        # exon -3..-1, intron +1..+6: the GT is at offsets 3-4
DONOR_GT = 3
ACCEPTOR = "YYYYYYYYYYNCAG"  # intron -14..-1: the AG is at offsets 12-13
ACCEPTOR_AG = 12
DONOR_MIN, ACCEPTOR_MIN = 7, 10


def _matches(window: str, consensus: str) -> int:
    return sum(b in IUPAC[c] for b, c in zip(window, consensus))


@dataclass
class SpliceSites:
    donor_at: int = 200
    acceptor_at: int = 198

    @property
    def name(self) -> str:
        return (f"splice sites (donor GT at {self.donor_at}, acceptor AG at {self.acceptor_at}, "
                f"consensus windows {DONOR} >= {DONOR_MIN}/9, {ACCEPTOR} >= {ACCEPTOR_MIN}/14)")

    def _of(self, seq: str) -> frozenset[Element]:
        out = set()
        d, a = self.donor_at, self.acceptor_at
        if seq[d:d + 2] == "GT":
            out.add(Element("donor-GT", d, d + 2))
        start = d - DONOR_GT
        if start >= 0 and _matches(seq[start:start + len(DONOR)], DONOR) >= DONOR_MIN:
            out.add(Element("donor-consensus", start, start + len(DONOR)))
        if seq[a:a + 2] == "AG":
            out.add(Element("acceptor-AG", a, a + 2))
        start = a - ACCEPTOR_AG
        if start >= 0 and _matches(seq[start:start + len(ACCEPTOR)], ACCEPTOR) >= ACCEPTOR_MIN:
            out.add(Element("acceptor-consensus", start, start + len(ACCEPTOR)))
        return frozenset(out)

    def elements(self, sequences: list[str]) -> list[frozenset[Element]]:
        return [self._of(s) for s in sequences]

    def describe(self) -> dict:
        return {"name": self.name, "kind": "elements", "donor_at": self.donor_at, "acceptor_at": self.acceptor_at,
                "donor_consensus": DONOR, "donor_min": DONOR_MIN, "acceptor_consensus": ACCEPTOR,
                "acceptor_min": ACCEPTOR_MIN}
