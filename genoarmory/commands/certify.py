"""`python -m genoarmory certify model=... dataset=... defense.noise=0.1`: certified robustness.

The smoothed classifier (defense=smoothing's noise over the configured model: the clean classifier, or a
folder written by `defend defense=smoothing`) is certified on the evaluation examples
(defenses/certify.py). Writes run_dir/certificates.jsonl (one row per example: its vote, count, bound and
certified Hamming radius), run_dir/config.yaml and run_dir/summary.json (certified accuracy at each of
`defense.radii`, the base classifier's clean accuracy, abstentions), and prints them. A guarantee, not an
attack outcome: each example's radius holds with probability >= 1 - defense.alpha.
"""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig

from genoarmory.commands.common import seeded_selection, write_evaluation
from genoarmory.commands.hydra_entry import run_hydra
from genoarmory.errors import UserError
from genoarmory.results import SUMMARY, run_lock

CERTIFICATES = "certificates.jsonl"


def smoothed_victim(cfg: DictConfig, task):
    """defense.* smoothing around the configured model; a smoothing folder's own noise must agree."""
    from genoarmory.defenses.smoothing import SmoothedVictim, smoothed
    from genoarmory.models.load import load_victim

    d = cfg.defense
    victim = load_victim(cfg, task)
    if isinstance(victim, SmoothedVictim):
        if abs(victim.noise - float(d.noise)) > 1e-12:
            raise UserError(f"model.path was fine-tuned for smoothing at noise {victim.noise}, not defense.noise="
                            f"{d.noise}: certify it at its own noise", victim.info.get("path"))
        victim = victim.plain()
    return smoothed(victim, float(d.noise), int(d.votes), int(cfg.seed))


def certify(cfg: DictConfig, run_dir: Path) -> dict:
    from genoarmory.defenses.certify import certified_summary, certify_examples
    from genoarmory.progress import progress
    from genoarmory.report import print_summary

    if cfg.defense.name != "smoothing":
        raise UserError(f"certify needs defense=smoothing (got defense={cfg.defense.name})")
    task, examples = seeded_selection(cfg)
    d, radii = cfg.defense, [int(r) for r in cfg.defense.radii]
    started = time.perf_counter()
    with run_lock(run_dir):
        smooth = smoothed_victim(cfg, task)
        bar = progress(len(examples), "certify", bool(cfg.progress))
        rows = certify_examples(smooth, examples, int(d.n0), int(d.n), float(d.alpha), max(radii), bar)
        bar.close()
        summary = write_evaluation(run_dir, CERTIFICATES, rows, cfg, certified_summary(rows, radii), smooth,
                                   "certify", started)
    print_summary(summary)
    print(f"certificates: {run_dir / CERTIFICATES}   summary: {run_dir / SUMMARY}")
    return summary


def main(argv: list[str]) -> int:
    return run_hydra("certify", argv, certify)
