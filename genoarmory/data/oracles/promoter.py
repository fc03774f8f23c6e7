"""Core-promoter elements (GUE prom_*): an element oracle, an approximation of what makes a promoter.

The elements are hits of JASPAR's POLII collection of core-promoter matrices (JASPAR2020, the last
release that carries the collection; pyjaspar ships it offline): TATA-Box, INR, CCAAT-box, GC-box, BREu,
DPE and MTE. A hit is a window scoring at or above the threshold that gives a per-window, per-strand false
positive rate of `FPR` on a uniform background. A success that destroys or creates any hit is not
label-preserving: on a promoter task we cannot tell whether that edit changed the promoter.
"""

from __future__ import annotations

from genoarmory.data.oracles.motif_rule import MotifHits
from genoarmory.data.pwm import load_motif

RELEASE = "JASPAR2020"
ELEMENTS = {  # JASPAR POLII collection id -> element
    "POL012.1": "TATA-Box",
    "POL002.1": "INR",
    "POL004.1": "CCAAT-box",
    "POL003.1": "GC-box",
    "POL006.1": "BREu",
    "POL005.1": "DPE",
    "POL001.1": "MTE",
}
FPR = 1e-4


def promoter_elements() -> MotifHits:
    motifs = [load_motif(mid, threshold_fpr=FPR, release=RELEASE) for mid in ELEMENTS]
    return MotifHits(motifs, f"core-promoter elements ({', '.join(ELEMENTS.values())}; {RELEASE} POLII, "
                             f"per-window FPR {FPR:g})")
