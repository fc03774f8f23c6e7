"""`python -m genoarmory corrupt model=... dataset=...`: accuracy and MCC under natural corruptions.

Every evaluation example is read again under each sequencing-error profile and severity of
`corruption.profiles` (seeded: data/corruptions.py) and scored by the victim. Writes
run_dir/corruptions.jsonl (one row per example and corruption), run_dir/summary.json (clean accuracy and
MCC, accuracy and MCC per profile and severity, their means), the corruption_curves plot, and prints the
table. The work is genoarmory.api.run_corrupt's, the same path `genoarmory.corrupt()` takes.
"""

from __future__ import annotations

from genoarmory.api.run_corrupt import corrupt_configured
from genoarmory.commands.hydra_entry import run_hydra


def main(argv: list[str]) -> int:
    return run_hydra("corrupt", argv, corrupt_configured)
