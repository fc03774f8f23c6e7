"""Accuracy and MCC under natural corruptions: the `corrupt` command and `genoarmory.corrupt()`, one path.

Every evaluation example is read again under each sequencing-error profile and severity of
`corruption.profiles` (seeded: data/corruptions.py) and scored by the victim in one batched pass. The rows
(corruptions.jsonl: one per example and corruption: the corrupted read, its prediction, whether the task's
label check says its true label survived: a corruption can destroy the element a label means), the
summary (clean accuracy and MCC, the table per profile and severity, their means in the metric registry:
corrupted_acc_mean, corrupted_mcc_mean, corrupted_acc_worst; metrics/corruption.py rebuilds them from the
rows) and the corruption_curves plot.
"""

from __future__ import annotations

import time
from pathlib import Path

from genoarmory.api.evaluation import EvaluationResult, prepare_run, evaluation_summary
from genoarmory.metrics.corruption import CLEAN


class CorruptionResult(EvaluationResult):
    ROWS = "corruptions.jsonl"
    PLOT = "corruption_curves.png"

    def table(self):
        """One row per profile x severity: accuracy, MCC, label_changed, valid_accuracy (a DataFrame)."""
        import pandas as pd

        return pd.DataFrame(self.summary["corruptions"])

    def write(self, run_dir: Path) -> None:
        from genoarmory.analysis.curves import plot_corruption_curves

        super().write(run_dir)
        s = self.summary
        plot_corruption_curves(s["corruptions"], s["origin_acc"], s["clean_mcc"], Path(run_dir),
                               f"{s['model']['name']} · {s['dataset']['name']}")

    def print(self) -> None:
        from rich.console import Console

        from genoarmory.analysis.track_tables import corruption_table

        Console().print(corruption_table(self.summary))
        if self.run_dir is not None:
            from genoarmory.results import SUMMARY

            run_dir = self.run_dir
            print(f"rows: {run_dir / self.ROWS}   summary: {run_dir / SUMMARY}   plot: {run_dir / self.PLOT}")

    def __repr__(self) -> str:
        s = self.summary
        return (f"CorruptionResult({s['model']['name']} · {s['dataset']['name']}: {s['n_examples']} examples, "
                f"{len(s['corruptions'])} corruptions, clean acc {s['origin_acc']:.3f}, mean corrupted acc "
                f"{s.get('corrupted_acc_mean', float('nan')):.3f})")


def label_signatures(check, sequences: list[str]) -> list | None:
    """What must survive for the true label to survive: the oracle's label, or the label-defining elements
    by name (positions move under indels and truncation); None where the task cannot tell."""
    if not check.verifiable:
        return None
    found = check.signatures(sequences)
    return found if check.mode == "oracle" else [sorted(x.name for x in els) for els in found]


def corrupted_rows(victim, examples, profiles: dict, seed: int, check) -> list[dict]:
    from genoarmory.data.corruptions import corrupt as corrupt_read

    jobs = [(e, CLEAN, 0.0, e.sequence) for e in examples]
    jobs += [(e, p, float(s), corrupt_read(e.sequence, e.id, p, float(s), seed))
             for p, severities in profiles.items() for s in severities for e in examples]
    probs = victim.predict_proba([seq for *_, seq in jobs])
    signatures = label_signatures(check, [seq for *_, seq in jobs])
    original = dict(zip([e.id for e in examples], signatures or []))
    return [{"id": e.id, "label": int(e.label), "profile": p, "severity": s, "sequence": seq,
             "pred": int(pr.argmax()), "probs": [round(float(x), 6) for x in pr],
             "label_preserved": None if signatures is None else sig == original[e.id]}
            for (e, p, s, seq), pr, sig in zip(jobs, probs, signatures or [None] * len(jobs))]


def corruption_run(cfg, task, victim, examples) -> CorruptionResult:
    """Score `examples` under every configured corruption (nothing written)."""
    from omegaconf import OmegaConf

    from genoarmory.config import plain_config
    from genoarmory.data.oracles.check import resolve_check
    from genoarmory.metrics.corruption import corruption_summary

    started = time.perf_counter()
    profiles = OmegaConf.to_container(cfg.corruption.profiles, resolve=True)
    check = resolve_check(task.oracles, "auto")
    rows = corrupted_rows(victim, examples, profiles, int(cfg.seed), check)
    summary = evaluation_summary({**corruption_summary(rows), "label_check": check.describe()}, plain_config(cfg),
                                 victim, "corruption", started)
    return CorruptionResult(rows, summary, OmegaConf.to_yaml(cfg, resolve=True))


def corrupt_configured(cfg, run_dir: Path) -> dict:
    """The `corrupt` command: the configured task's selected examples, scored under every corruption."""
    from genoarmory.api.pipeline import selected_examples
    from genoarmory.models.load import load_victim
    from genoarmory.results import run_lock

    task, examples = selected_examples(cfg)
    with run_lock(run_dir):
        result = corruption_run(cfg, task, load_victim(cfg, task), examples)
        result.write(run_dir)
    result.print()
    return result.summary


def corrupt(victim, sequences=None, labels=None, *, task=None, profiles: dict | None = None,
            split: str | None = None, limit: int | None = None, seed: int | None = None,
            run_dir: str | Path | None = None, overrides: list[str] | tuple = ()) -> CorruptionResult:
    """Accuracy and MCC of `victim` on `sequences`/`labels` or a `task` from `load_task`, read again under
    each sequencing-error profile: `profiles` {profile: [severities]} (illumina, nanopore, n_mask,
    truncate; None: conf/corrupt.yaml's). `seed` is the selection's (dataset.seed); the corruptions are seeded
    by the run's `seed` (overrides=["seed=7"]), as on the command line."""
    settings = {"corruption.profiles": {p: [float(s) for s in sev] for p, sev in profiles.items()}} if profiles else {}
    cfg, task, examples, engine = prepare_run("corrupt", victim, task, sequences, labels, split, limit, seed,
                                                   settings, [], overrides)
    result = corruption_run(cfg, task, engine, examples)
    if run_dir is not None:
        result.save(run_dir)
    return result
