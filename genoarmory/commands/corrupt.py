"""`python -m genoarmory corrupt model=... dataset=...`: accuracy and MCC under natural corruptions.

Every evaluation example is read again under each sequencing-error profile and severity of
`corruption.profiles` (seeded: data/corruptions.py) and scored by the victim in one batched pass. Writes
run_dir/corruptions.jsonl (one row per example and corruption: the corrupted read, its prediction, whether
the task's label check says its true label survived: a corruption can destroy the element a label means),
run_dir/summary.json (clean accuracy and MCC, the table of accuracy and MCC per profile and severity, their
means in the metric registry: corrupted_acc_mean, corrupted_mcc_mean, corrupted_acc_worst), the
corruption_curves plot, and prints the table. `corruption_summary` rebuilds the numbers from the rows.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from genoarmory.commands.common import seeded_selection, write_evaluation
from genoarmory.commands.hydra_entry import run_hydra
from genoarmory.data.corruptions import corrupt
from genoarmory.data.oracles.check import resolve_check
from genoarmory.metrics.compute import classification_metrics
from genoarmory.results import SUMMARY, run_lock

ROWS = "corruptions.jsonl"
CLEAN = "clean"


def corruption_summary(rows: list[dict]) -> dict:
    """Clean accuracy/MCC and one {profile, severity, accuracy, mcc, n, label_changed, valid_accuracy} per
    corruption, from the rows. `label_changed`: corrupted reads whose true label the task's check says did
    not survive (a truncated read that lost its TATA box is a negative); `valid_accuracy`: accuracy over the
    others (None where the task cannot tell)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["profile"], r["severity"]), []).append(r)
    scores = {key: classification_metrics([r["label"] for r in g], [r["pred"] for r in g]) for key, g in groups.items()}
    clean = scores.get((CLEAN, 0.0), classification_metrics([], []))
    table = []
    for (p, s), m in scores.items():
        if p == CLEAN:
            continue
        checked = [r for r in groups[p, s] if r["label_preserved"] is not None]
        kept = [r for r in checked if r["label_preserved"]]
        table.append({"profile": p, "severity": s, "accuracy": m["accuracy"], "mcc": m["mcc"], "n": m["n_test"],
                      "label_changed": len(checked) - len(kept) if checked else None,
                      "valid_accuracy": float(np.mean([r["pred"] == r["label"] for r in kept])) if kept else None})
    out = {"n_examples": clean["n_test"], "origin_acc": clean["accuracy"], "clean_mcc": clean["mcc"],
           "corruptions": table}
    if table:
        out.update(corrupted_acc_mean=float(np.mean([t["accuracy"] for t in table])),
                   corrupted_mcc_mean=float(np.mean([t["mcc"] for t in table])),
                   corrupted_acc_worst=float(min(t["accuracy"] for t in table)))
        valid = [t["valid_accuracy"] for t in table if t["valid_accuracy"] is not None]
        out["corrupted_valid_acc_mean"] = float(np.mean(valid)) if len(valid) == len(table) else None
    return out


def label_signatures(check, sequences: list[str]) -> list | None:
    """What must survive for the true label to survive: the oracle's label, or the label-defining elements
    by name (positions move under indels and truncation); None where the task cannot tell."""
    if not check.verifiable:
        return None
    found = check.signatures(sequences)
    return found if check.mode == "oracle" else [sorted(x.name for x in els) for els in found]


def corrupted_rows(victim, examples, profiles: dict, seed: int, check) -> list[dict]:
    jobs = [(e, CLEAN, 0.0, e.sequence) for e in examples]
    jobs += [(e, p, float(s), corrupt(e.sequence, e.id, p, float(s), seed))
             for p, severities in profiles.items() for s in severities for e in examples]
    probs = victim.predict_proba([seq for *_, seq in jobs])
    signatures = label_signatures(check, [seq for *_, seq in jobs])
    original = dict(zip([e.id for e in examples], signatures or []))
    return [{"id": e.id, "label": int(e.label), "profile": p, "severity": s, "sequence": seq,
             "pred": int(pr.argmax()), "probs": [round(float(x), 6) for x in pr],
             "label_preserved": None if signatures is None else sig == original[e.id]}
            for (e, p, s, seq), pr, sig in zip(jobs, probs, signatures or [None] * len(jobs))]


def corrupt_command(cfg: DictConfig, run_dir: Path) -> dict:
    from genoarmory.analysis.curves import plot_corruption_curves
    from genoarmory.models.load import load_victim

    task, examples = seeded_selection(cfg)
    started = time.perf_counter()
    profiles = OmegaConf.to_container(cfg.corruption.profiles, resolve=True)
    with run_lock(run_dir):
        victim = load_victim(cfg, task)
        check = resolve_check(task.oracles, "auto")
        rows = corrupted_rows(victim, examples, profiles, int(cfg.seed), check)
        summary = write_evaluation(run_dir, ROWS, rows, cfg,
                                   {**corruption_summary(rows), "label_check": check.describe()}, victim,
                                   "corruption", started)
        plot_corruption_curves(summary["corruptions"], summary["origin_acc"], summary["clean_mcc"], run_dir,
                               f"{victim.name} · {cfg.dataset.name}")
    print_table(summary, run_dir)
    return summary


def print_table(summary: dict, run_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from genoarmory.metrics.registry import BY_KEY, CORRUPTION_ROW_METRICS

    table = Table(title=f"{summary['model']['name']} · {summary['dataset']['name']} · natural corruptions")
    for column in ("profile", "severity", *(m.label for m in CORRUPTION_ROW_METRICS)):
        table.add_column(column, justify="left" if column == "profile" else "right")
    # the clean row: the reads uncorrupted, i.e. the summary's clean accuracy and MCC
    table.add_row("clean", "0", BY_KEY["origin_acc"].cell(summary), BY_KEY["clean_mcc"].cell(summary), "", "")
    for r in summary["corruptions"]:
        table.add_row(r["profile"], f"{r['severity']:g}", *(m.cell(r) for m in CORRUPTION_ROW_METRICS))
    Console().print(table)
    print(f"rows: {run_dir / ROWS}   summary: {run_dir / SUMMARY}   plot: {run_dir / 'corruption_curves.png'}")


def main(argv: list[str]) -> int:
    return run_hydra("corrupt", argv, corrupt_command)
