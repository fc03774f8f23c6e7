"""The tracks' tables for the site, computed once from the track entries (tracks.py).

- certified: one table per task x smoothing setting (a certificate holds only for its own p, n, n0, alpha),
  ranked by certified accuracy at radius 1 (then at 0, then at the larger radii): r = 0 only says the
  vote is sure, r = 1 is the first guarantee against an edit;
- corruptions: one table per task x corruption set, ranked by the mean accuracy over every profile and
  severity (RobustBench's corruptions ranking), the worst corruption and the clean accuracy beside it;
- transfer: one source x target matrix per task x threat model.
A model whose clean accuracy is near chance is marked (its robustness says little), as in the rankings.
"""

from __future__ import annotations

from collections import defaultdict

from genoarmory.leaderboard.tracks import track_id
from genoarmory.leaderboard.views import near_chance

RANK_RADIUS = 1


def _groups(entries: list[dict], track: str) -> dict:
    groups = defaultdict(list)
    for e in entries:
        if e["track"] == track:
            groups[(e["task"], e["setting"]["key"])].append(e)
    return dict(sorted(groups.items()))


def certified_tables(entries: list[dict]) -> list[dict]:
    out = []
    for (task, key), rows in _groups(entries, "certified").items():
        radii = sorted({int(r) for e in rows for r in e["metrics"]["certified_accuracy"]})
        order = [RANK_RADIUS, 0] + [r for r in radii if r > RANK_RADIUS]

        def rank_key(e):
            acc = e["metrics"]["certified_accuracy"]
            return tuple(-(acc.get(str(r)) or 0.0) for r in order) + (e["model"],)

        ranked = sorted(rows, key=rank_key)
        out.append({"key": f"{task}|{key}", "task": task, "setting": rows[0]["setting"], "radii": radii,
                    "rows": [{"rank": i + 1, "e": e, "id": track_id(e), "near_chance": near_chance(e),
                              "acc": [e["metrics"]["certified_accuracy"].get(str(r)) for r in radii]}
                             for i, e in enumerate(ranked)]})
    return out


def corruption_tables(entries: list[dict]) -> list[dict]:
    out = []
    for (task, key), rows in _groups(entries, "corruptions").items():
        columns = []
        for e in rows:
            columns += [(c["profile"], c["severity"]) for c in e["metrics"]["corruptions"]
                        if (c["profile"], c["severity"]) not in columns]
        ranked = sorted(rows, key=lambda e: (-e["metrics"]["corrupted_acc_mean"], e["model"]))
        table = []
        for i, e in enumerate(ranked):
            cells = {(c["profile"], c["severity"]): c for c in e["metrics"]["corruptions"]}
            table.append({"rank": i + 1, "e": e, "id": track_id(e), "near_chance": near_chance(e),
                          "cells": [cells.get(col) for col in columns]})
        out.append({"key": f"{task}|{key}", "task": task, "setting": rows[0]["setting"],
                    "columns": [{"profile": p, "severity": s} for p, s in columns], "rows": table})
    return out


def transfer_matrices(entries: list[dict]) -> list[dict]:
    out = []
    for (task, key), rows in _groups(entries, "transfer").items():
        for e in sorted(rows, key=lambda e: e["model"]):
            counts = {(c["source"], c["target"]): c for c in e["metrics"]["counts"]}
            models = e["metrics"]["models"]
            out.append({"key": track_id(e), "task": task, "setting": e["setting"], "e": e, "models": models,
                        "rows": [{"source": s, "cells": [{"rate": rate, "count": counts.get((s, t))}
                                                         for t, rate in zip(models, rates)]}
                                 for s, rates in zip(models, e["metrics"]["rates"])]})
    return out
