"""`python -m genoarmory certify model=... dataset=... defense.noise=0.1`: certified robustness.

The smoothed classifier (defense=smoothing's noise over the configured model: the clean classifier, or a
folder written by `defend defense=smoothing`) is certified on the evaluation examples. Writes
run_dir/certificates.jsonl (one row per example: its vote, count, bound and certified Hamming radius),
run_dir/config.yaml and run_dir/summary.json (certified accuracy at each of `defense.radii`, the base
classifier's clean accuracy, abstentions), and prints them. The work is genoarmory.api.run_certify's, the same
path `genoarmory.certify()` takes.
"""

from __future__ import annotations

from genoarmory.api.run_certify import certify_configured
from genoarmory.commands.hydra_entry import run_hydra


def main(argv: list[str]) -> int:
    return run_hydra("certify", argv, certify_configured)
