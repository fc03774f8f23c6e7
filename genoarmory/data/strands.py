"""Which tasks are strand-agnostic: where a sequence and its reverse complement must get the same answer.

Most labels describe the double-stranded molecule (a transcription-factor site or a histone mark is there
on both strands), so a model that answers the two strands differently is inconsistent. Some labels are
defined along one strand, and there RC consistency is not a requirement (summaries say which in `strand`):

  prom/*            promoters are oriented: GUE's sequences run 5'->3' along the gene, with the TSS at a
                    fixed offset and the TATA box upstream of it; the reverse complement is not a promoter
                    in that frame.
  splice/*          donor (GT) and acceptor (AG) sites are defined on the transcribed strand.
  virus/*           SARS-CoV-2 is a single-stranded (+) RNA genome; its variants are given on that strand.
  motif/grammar     the embedded task's label is an ORDER of two motifs along the + strand
                    (data/oracles/motif_rule.py), which the reverse complement reverses.
Strand-agnostic: tf/*, mouse/* (ChIP-seq peaks of DNA-binding factors), EMP/* (yeast nucleosome histone
marks), motif/tata and motif/ctcf (a motif hit on either strand).
"""

from __future__ import annotations

STRAND_SPECIFIC = {
    "prom": "promoters are oriented along the gene (TSS at a fixed offset)",
    "splice": "splice donor/acceptor sites are defined on the transcribed strand",
    "virus": "a single-stranded (+) RNA genome, given on that strand",
    "motif/grammar": "the label is an order of motifs along the + strand",
}
STRAND_AGNOSTIC = ("tf", "mouse", "EMP", "motif/tata", "motif/ctcf")


def strand_note(dataset_name: str) -> dict:
    """{'agnostic': True | False | None, 'why': ...} for a dataset name such as gue/prom/prom_core_all."""
    name = dataset_name.removeprefix("gue/")
    if name.startswith("genoadv/"):  # genoadv/<group>_<task>, and EMP's marks by name (H3K4me3)
        name = name.removeprefix("genoadv/").replace("_", "/", 1)
        name = f"EMP/{name}" if name[:2] in ("H3", "H4") else name
    group = name.split("/")[0]
    for key, why in STRAND_SPECIFIC.items():
        if name == key or group == key or name.startswith(key + "/"):
            return {"agnostic": False, "why": why}
    if any(name == key or group == key or name.startswith(key + "/") for key in STRAND_AGNOSTIC):
        return {"agnostic": True, "why": "the label describes the double-stranded molecule"}
    return {"agnostic": None, "why": "not known for this dataset: judge rc_consistency by its labels"}
