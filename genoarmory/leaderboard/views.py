"""The home page's answers, computed once from the entries: rankings per threat model, the most robust
model per task x attack, and what each defense changes.

Robust accuracy ranks (RobustBench's order): accuracy under attack, counting only label-preserving
successes as errors where the task has a label oracle (`valid_after_attack_acc`), else every success
(`after_attack_acc`). An entry whose clean accuracy is near chance is kept out of the answers and hidden in
the rankings by default: a model that learned nothing cannot be attacked much, so its low ASR is not
robustness. Verified and reported entries are never ranked together (different threat models).
"""

from __future__ import annotations

from collections import defaultdict

NEAR_CHANCE = "near chance"
HELP_MARGIN = 0.01  # a defense "helps" when the attack's success drops by more than 1 point


def near_chance(entry: dict) -> bool:
    return any(NEAR_CHANCE in f for f in entry["flags"])


def impossible(entry: dict) -> bool:
    return any(f.startswith("impossible") for f in entry["flags"])


def robust_accuracy(entry: dict) -> tuple[float | None, str]:
    """(value, metric key) used to rank an entry."""
    m = entry["metrics"]
    if (entry.get("label_check") or {}).get("verifiable") and m.get("valid_after_attack_acc") is not None:
        return m["valid_after_attack_acc"], "valid_after_attack_acc"
    return m.get("after_attack_acc"), "after_attack_acc"


def success(entry: dict) -> tuple[float | None, str]:
    """The attack's success an entry is judged by: valid ASR, else realised ASR, else embedding ASR."""
    m = entry["metrics"]
    for key in ("valid_asr", "asr", "embedding_asr"):
        if m.get(key) is not None:
            return m[key], key
    return None, "asr"


def rankings(entries: list[dict]) -> list[dict]:
    """One ranking per (threat model, task), rows ranked by robust accuracy (missing values last)."""
    groups = defaultdict(list)
    for e in entries:
        groups[(e["source"], e["threat"]["name"], e["task"])].append(e)
    out = []
    for (source, threat, task), rows in sorted(groups.items(), key=lambda kv: (kv[0][0] != "verified", kv[0][1], kv[0][2])):
        ranked = sorted(rows, key=lambda e: (robust_accuracy(e)[0] is None, -(robust_accuracy(e)[0] or 0),
                                             e["model"], e["defense"]))
        out.append({"key": f"{source}|{threat}|{task}", "source": source, "threat": threat, "task": task,
                    "rows": [{"rank": i + 1, "e": e, "robust": robust_accuracy(e)[0], "robust_key": robust_accuracy(e)[1],
                              "near_chance": near_chance(e)} for i, e in enumerate(ranked)]})
    return out


def best_models(entries: list[dict]) -> list[dict]:
    """Per source: the most robust undefended model for each task x attack (same threat model), and how
    often each model is the most robust."""
    out = []
    for source in ("verified", "reported"):
        cells = defaultdict(list)
        for e in entries:
            if e["source"] == source and e["defense"] == "none" and not near_chance(e) and not impossible(e) \
                    and robust_accuracy(e)[0] is not None:
                cells[(e["task"], e["threat"]["name"])].append(e)
        if not cells:
            continue
        tasks = sorted({t for t, _ in cells})
        threats = sorted({a for _, a in cells})
        grid, wins = [], defaultdict(int)
        for task in tasks:
            row = []
            for threat in threats:
                rows = cells.get((task, threat))
                if not rows:
                    row.append(None)
                    continue
                best = max(rows, key=lambda e: (robust_accuracy(e)[0], e["model"]))
                wins[best["model"]] += 1
                row.append({"e": best, "robust": robust_accuracy(best)[0], "success": success(best)[0],
                            "success_key": success(best)[1], "of": len(rows)})
            grid.append({"task": task, "cells": row})
        labels = {threat: rows[0]["attack"] for (_, threat), rows in cells.items()}
        compared = {e["model"] for rows in cells.values() for e in rows}
        alone = [row["task"] for row in grid if all(c is None or c["of"] == 1 for c in row["cells"])]
        out.append({"source": source, "threats": [{"name": t, "attack": labels[t]} for t in threats], "grid": grid,
                    "wins": sorted(wins.items(), key=lambda kv: (-kv[1], kv[0])),
                    "models": len(compared), "alone": alone,
                    "cells": sum(1 for r in grid for c in r["cells"] if c)})
    return out


def _delta(after, before):
    return None if after is None or before is None else after - before


def defense_effects(entries: list[dict]) -> list[dict]:
    """Each defended entry beside its undefended twin (same source, model, task, threat model): the change
    in ASR, valid ASR, embedding ASR and clean accuracy. Negative success changes mean the defense helped."""
    undefended = {(e["source"], e["model"], e["task"], e["threat"]["name"]): e for e in entries if e["defense"] == "none"}
    rows = []
    for e in entries:
        if e["defense"] == "none":
            continue
        base = undefended.get((e["source"], e["model"], e["task"], e["threat"]["name"]))
        if base is None:
            continue
        after, key = success(e)
        before = base["metrics"].get(key)
        rows.append({"e": e, "base": base, "success_key": key, "success_before": before, "success_after": after,
                     "d_success": _delta(after, before),
                     "d_asr": _delta(e["metrics"].get("asr"), base["metrics"].get("asr")),
                     "d_valid_asr": _delta(e["metrics"].get("valid_asr"), base["metrics"].get("valid_asr")),
                     "d_clean": _delta(e["metrics"].get("origin_acc"), base["metrics"].get("origin_acc")),
                     "flagged": bool(e["flags"] or base["flags"])})
    rows.sort(key=lambda r: (r["e"]["source"] != "verified", r["e"]["model"], r["e"]["task"], r["e"]["attack"], r["e"]["defense"]))
    return rows


def defense_summary(effects: list[dict]) -> list[dict]:
    """Per source x defense: how many pairs it helped / hurt, the mean change of success and clean accuracy
    (unflagged pairs only)."""
    groups = defaultdict(list)
    for r in effects:
        if not r["flagged"] and r["d_success"] is not None:
            groups[(r["e"]["source"], r["e"]["defense"])].append(r)
    out = []
    for (source, defense), rows in sorted(groups.items(), key=lambda kv: (kv[0][0] != "verified", kv[0][1])):
        cleans = [r["d_clean"] for r in rows if r["d_clean"] is not None]
        out.append({"source": source, "defense": defense, "n": len(rows),
                    "helped": sum(r["d_success"] < -HELP_MARGIN for r in rows),
                    "hurt": sum(r["d_success"] > HELP_MARGIN for r in rows),
                    "mean_d_success": sum(r["d_success"] for r in rows) / len(rows),
                    "mean_d_clean": sum(cleans) / len(cleans) if cleans else None})
    return out
