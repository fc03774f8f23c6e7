"""The numbers of a `corrupt` run, rebuilt from its rows alone (corruptions.jsonl): what the command
writes into summary.json and what `leaderboard add` recomputes before it believes that summary."""

from __future__ import annotations

import numpy as np

from genoarmory.metrics.compute import classification_metrics

CLEAN = "clean"  # the profile name of the uncorrupted reads (severity 0)


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
