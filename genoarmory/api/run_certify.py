"""Certified robustness: the `certify` command and `genoarmory.certify()`, one path.

The smoothed classifier (defense=smoothing's noise over the configured model: the clean classifier, or a
folder written by `defend defense=smoothing`) is certified on the evaluation examples
(defenses/certify.py): one row per example (its vote, count, bound and certified Hamming radius) and the
summary (certified accuracy at each of `defense.radii`, the base classifier's clean accuracy,
abstentions). A guarantee, not an attack outcome: each example's radius holds with probability
>= 1 - defense.alpha.
"""

from __future__ import annotations

import time
from pathlib import Path

from genoarmory.api.evaluation import EvaluationResult, prepare_run, evaluation_summary
from genoarmory.errors import UserError


class CertifyResult(EvaluationResult):
    ROWS = "certificates.jsonl"

    def certified_accuracy(self) -> dict[int, float]:
        """{radius: certified accuracy}, for every radius asked for."""
        return {int(r): v for r, v in self.summary["certified_accuracy"].items()}

    def print(self) -> None:
        from genoarmory.report import print_summary

        print_summary(self.summary)
        if self.run_dir is not None:
            from genoarmory.results import SUMMARY

            print(f"certificates: {self.run_dir / self.ROWS}   summary: {self.run_dir / SUMMARY}")

    def __repr__(self) -> str:
        s, d = self.summary, self.summary["defense"]
        radii = ", ".join(f"r{r}={v:.3f}" for r, v in self.certified_accuracy().items())
        return (f"CertifyResult({s['model']['name']} · {s['dataset']['name']} · noise={d['noise']} n={d['n']} "
                f"alpha={d['alpha']}: {len(self.rows)} examples, certified accuracy {radii})")


def needs_smoothing(cfg) -> None:
    if cfg.defense.name != "smoothing":
        raise UserError(f"certify needs defense=smoothing (got defense={cfg.defense.name})")


def smoothed_victim(cfg, victim):
    """defense.* smoothing around the loaded victim; a smoothing folder's own noise must agree."""
    from genoarmory.defenses.smoothing import SmoothedVictim, smoothed

    d = cfg.defense
    if isinstance(victim, SmoothedVictim):
        if abs(victim.noise - float(d.noise)) > 1e-12:
            raise UserError(f"model.path was fine-tuned for smoothing at noise {victim.noise}, not defense.noise="
                            f"{d.noise}: certify it at its own noise", victim.info.get("path"))
        victim = victim.plain()
    return smoothed(victim, float(d.noise), int(d.votes), int(cfg.seed))


def certify_run(cfg, victim, examples) -> CertifyResult:
    """Certify `examples` with the configured smoothing around `victim` (nothing written)."""
    from omegaconf import OmegaConf

    from genoarmory.config import plain_config
    from genoarmory.defenses.certify import certified_summary, certify_examples
    from genoarmory.progress import progress

    needs_smoothing(cfg)
    started = time.perf_counter()
    d, radii = cfg.defense, [int(r) for r in cfg.defense.radii]
    smooth = smoothed_victim(cfg, victim)
    bar = progress(len(examples), "certify", bool(cfg.progress))
    rows = certify_examples(smooth, examples, int(d.n0), int(d.n), float(d.alpha), max(radii), bar)
    bar.close()
    summary = evaluation_summary(certified_summary(rows, radii), plain_config(cfg), smooth, "certify", started)
    return CertifyResult(rows, summary, OmegaConf.to_yaml(cfg, resolve=True))


def certify_configured(cfg, run_dir: Path) -> dict:
    """The `certify` command: the configured task's selected examples, certified into run_dir."""
    from genoarmory.api.pipeline import selected_examples
    from genoarmory.models.load import load_victim
    from genoarmory.results import run_lock

    needs_smoothing(cfg)  # before any data is read
    task, examples = selected_examples(cfg)
    with run_lock(run_dir):
        result = certify_run(cfg, load_victim(cfg, task), examples)
        result.write(run_dir)
    result.print()
    return result.summary


def certify(victim, sequences=None, labels=None, *, task=None, noise: float | None = None, n: int | None = None,
            n0: int | None = None, alpha: float | None = None, radii=None, split: str | None = None,
            limit: int | None = None, seed: int | None = None, run_dir: str | Path | None = None,
            progress: bool = False, overrides: list[str] | tuple = ()) -> CertifyResult:
    """Certified accuracy of `victim` smoothed at `noise` (each base replaced with that probability) on
    `sequences`/`labels` or a `task` from `load_task`: `n0` noisy copies choose each prediction, `n` more
    bound it (Clopper-Pearson at level 1 - `alpha`), certified at each Hamming radius in `radii`. None keeps
    conf/defense/smoothing.yaml's value. With `run_dir` the run folder is written, as the CLI's."""
    settings = {f"defense.{k}": v for k, v in {"noise": noise, "n": n, "n0": n0, "alpha": alpha}.items()
                if v is not None}
    if radii is not None:
        settings["defense.radii"] = [int(r) for r in radii]
    settings["progress"] = bool(progress)
    cfg, _, examples, engine = prepare_run("certify", victim, task, sequences, labels, split, limit, seed,
                                                settings, ["defense=smoothing"], overrides)
    result = certify_run(cfg, engine, examples)
    if run_dir is not None:
        result.save(run_dir)
    return result
