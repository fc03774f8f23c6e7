"""Which oracle each GUE task has, by its group (all 28 tasks as GUE publishes them).

  prom/*            core-promoter elements (promoter.py)
  tf/*, mouse/*     the task's discriminative JASPAR motifs, learned from its train split (discriminative.py)
  splice/*          donor / acceptor sites at GUE's junction (splice.py)
  EMP/*, virus/*    none: no sequence element defines a histone mark or a SARS-CoV-2 variant label, so
                    label preservation is not verifiable there (summaries and tables say so)
A task folder outside these groups gets no oracle, with the same note.
"""

from __future__ import annotations

from pathlib import Path

from genoarmory.data.oracles import Oracles

NOT_VERIFIABLE = {
    "EMP": "histone-mark occupancy (EMP) is not defined by a known sequence element",
    "virus": "the SARS-CoV-2 variant label is not defined by a known sequence element",
}


def gue_oracles(task: str, splits, cache_dir: Path | None) -> Oracles:
    """`task` is GUE's folder name ('tf/0', 'prom/prom_300_all', ...); `splits` the task's splits."""
    group = task.split("/", 1)[0]
    if group == "prom":
        from genoarmory.data.oracles.promoter import promoter_elements

        return Oracles(element_factory=promoter_elements, note="approximate: core-promoter elements must survive")
    if group in ("tf", "mouse"):
        from genoarmory.data.oracles.discriminative import discriminative_motifs

        return Oracles(element_factory=lambda: discriminative_motifs(f"gue/{task}", splits["train"], cache_dir),
                       note="approximate: the task's most discriminative JASPAR motifs must survive")
    if group == "splice":
        from genoarmory.data.oracles.splice import SpliceSites

        return Oracles(element_factory=SpliceSites, note="approximate: the splice sites at the junction must survive")
    return Oracles(note=NOT_VERIFIABLE.get(group, f"GUE group {group!r} has no known label-defining element"))
