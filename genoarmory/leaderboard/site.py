"""`leaderboard build`: render the board's entries into a static site that opens from file://.

No server, no build chain: plain HTML pages from Jinja2 templates (autoescape on), one CSS and one JS
file, and the table data embedded in index.html as JSON (a <script type="application/json"> block, so
no fetch() of local files, which browsers refuse on file://). Every number shown is formatted here, once,
so the table, the model pages and the entry pages show the same text for the same value.
"""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from genoarmory.errors import UserError
from genoarmory.leaderboard import catalog
from genoarmory.leaderboard.add import check_board_protocol
from genoarmory.leaderboard.entries import (STORED_METRICS, entries_dir, entry_id, entry_path, load_board,
                                            plots_dir, slug)
from genoarmory.leaderboard import track_views, views
from genoarmory.leaderboard.tracks import load_tracks
from genoarmory.metrics.registry import shown

MARKER = ".genoarmory-site"  # a folder holding this file is a previous build and may be replaced

_KIND = {"rate": "rate", "correlation": "mcc", "count": "count"}
# The columns the board shows: the metric registry's `board` metrics, in its order (one vocabulary: the
# entry's keys are the registry's keys); every page iterates this list.
METRICS = [{"key": m.key, "label": m.label[:1].upper() + m.label[1:], "short": m.short or m.label,
            "kind": _KIND[m.unit], "explain": m.meaning} for m in shown("board")]
# every stored metric, for the entry pages
ALL_METRICS = [{"key": m.key, "label": m.label[:1].upper() + m.label[1:], "short": m.short or m.label,
                "kind": _KIND[m.unit], "explain": m.meaning} for m in STORED_METRICS]
# each metric's column header, for the pages' fixed tables (the registry's names, never a page's own)
SHORT = {m["key"]: m["short"] for m in ALL_METRICS}
# Optional entry fields, so templates can ask for them plainly (StrictUndefined still catches typos).
OPTIONAL = {"identity": None, "label_check": {}, "model_hub_id": None, "selection": {}, "config_hash": None, "versions": {}, "commit": None, "device": None,
            "protocol": None, "run": None, "config": None, "plots": [], "motif_enrichment": None, "citation": None,
            "notes": None}
KEY_COLUMNS = [("model", "Model"), ("task", "Task"), ("attack", "Attack"), ("defense", "Defense"), ("source", "Source")]


def _round(value: float, digits: int) -> str:
    """Half away from zero on the exact binary value, as JavaScript's toFixed does."""
    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def format_metric(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if kind == "rate":
        return _round(value * 100, 1) + "%"
    if kind == "mcc":
        return _round(value, 3)
    if isinstance(value, int):
        return str(value)
    return _round(value, 1)


def format_delta(value) -> str:
    """A change of a rate in percentage points, signed ('−12.5 pt', '+0.0 pt')."""
    if value is None:
        return "—"
    text = _round(abs(value) * 100, 1)
    return ("−" if value < 0 and text != "0.0" else "+") + text + " pt"


def flag_tag(flag: str) -> str:
    """A short label for a flag, for table cells (the full text is on hover and on the entry page)."""
    for needle, tag in (("near chance", "near chance"), ("non-numeric", "non-numeric"), ("differs from", "inconsistent"),
                        ("impossible", "impossible"), ("embedding-space", "embedding space")):
        if needle in flag:
            return tag
    words = flag.split()
    return " ".join(words[:3]) + ("…" if len(words) > 3 else "")


def flag_tags(flags: list[str]) -> str:
    return ", ".join(dict.fromkeys(flag_tag(f) for f in flags))


def plain(value) -> str:
    """A JSON value as short text: floats to 4 significant digits (p-values stay in e-notation)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def tables(obj) -> dict:
    """Split a nested result (e.g. motif_enrichment) into scalar rows and lists of records, for display."""
    if not isinstance(obj, dict):
        return {"scalars": [], "lists": [("values", ["value"], [{"value": v} for v in obj] if isinstance(obj, list) else [])]}
    scalars = [(k, v) for k, v in obj.items() if not isinstance(v, (dict, list))]
    lists = []
    for k, v in obj.items():
        if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
            columns = list(dict.fromkeys(c for r in v for c, x in r.items() if not isinstance(x, (dict, list))))
            lists.append((k, columns, v))
        elif isinstance(v, list):
            scalars.append((k, ", ".join(plain(x) for x in v)))
    return {"scalars": scalars, "lists": lists}


def safe_url(url) -> str:
    """Only http(s) links are ever emitted (no javascript:, data: ...)."""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else "#"


def environment() -> Environment:
    env = Environment(loader=PackageLoader("genoarmory.leaderboard", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["metric"] = format_metric
    env.filters["delta"] = format_delta
    env.filters["safe_url"] = safe_url
    env.filters["flag_tags"] = flag_tags
    env.filters["plain"] = plain
    env.filters["tables"] = tables
    env.filters["json_value"] = lambda v: json.dumps(v)
    env.filters["pretty_json"] = lambda v: json.dumps(v, indent=2, ensure_ascii=False, sort_keys=True)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
    return env


def _table(entries: list[dict]) -> dict:
    """Index-table data: per row, `v` (values for sorting) and `t` (text shown) aligned with `columns`."""
    columns = [{"key": k, "label": label, "kind": "key", "explain": ""} for k, label in KEY_COLUMNS]
    columns.append({"key": "flags", "label": "Flags", "kind": "flags", "explain": "warnings attached to the entry"})
    columns += [{"key": m["key"], "label": m["short"], "kind": m["kind"], "explain": m["explain"]} for m in METRICS]
    rows = []
    for e in sorted(entries, key=_default_order):
        values = [e[k] for k, _ in KEY_COLUMNS] + [len(e["flags"])] + [e["metrics"].get(m["key"]) for m in METRICS]
        shown = [e[k] for k, _ in KEY_COLUMNS] + [flag_tags(e["flags"])] + [format_metric(e["metrics"].get(m["key"]), m["kind"]) for m in METRICS]
        rows.append({"id": e["_id"], "model_page": f"models/{e['_model_slug']}.html", "v": values, "t": shown,
                     "flags": e["flags"], "threat": e["threat"]["name"]})
    return {"columns": columns, "rows": rows}


def _default_order(e: dict):
    """Verified first; within a task and threat model, the most robust first: valid ASR where the task has an
    oracle, else ASR (embedding ASR for the paper's PGD); missing values last."""
    value, _ = views.success(e)
    return (e["source"] != "verified", e["task"], e["threat"]["name"], e["defense"] != "none", e["defense"],
            value is None, value or 0.0, e["model"])


def _effects_data(effects: list[dict]) -> list[dict]:
    """The defense-effect pairs for the diverging heatmap (the page filters and averages them)."""
    return [{"source": r["e"]["source"], "model": r["e"]["model"], "task": r["e"]["task"], "attack": r["e"]["attack"],
             "defense": r["e"]["defense"], "d": r["d_success"], "key": r["success_key"], "flagged": r["flagged"]}
            for r in effects if r["d_success"] is not None]


def _mean_asr(entries: list[dict]) -> dict | None:
    values = [e["metrics"]["asr"] for e in entries if e["metrics"].get("asr") is not None]
    return {"mean": sum(values) / len(values), "n": len(values)} if values else None


def _model_summary(entries: list[dict]) -> dict:
    attacks = sorted({e["attack"] for e in entries})
    groups = defaultdict(list)
    for e in entries:
        groups[(e["source"], e["defense"], e["attack"])].append(e)
    rows = []
    for source, defense in sorted({(e["source"], e["defense"]) for e in entries}, key=lambda sd: (sd[0] != "verified", sd[1] != "none", sd[1])):
        rows.append({"source": source, "defense": defense,
                     "cells": [_mean_asr(groups.get((source, defense, a), [])) for a in attacks]})
    return {"attacks": attacks, "rows": rows}


def _check_output(out: Path) -> None:
    """Only an empty folder or a previous build is ever replaced: a typo must not delete someone's files."""
    if out.exists():
        if not out.is_dir():
            raise UserError("the output exists and is not a folder", str(out))
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise UserError("the output folder is not empty and is not a previous leaderboard build; "
                            "choose an empty or new folder", str(out))


def build_site(board: str | Path, out: str | Path) -> dict:
    """Render into a temporary sibling folder, then swap it in: a failed build leaves the old site intact."""
    board, out = Path(board), Path(out)
    _check_output(out)
    if board.resolve().is_relative_to(out.resolve()):
        raise UserError("the output folder would contain or replace the board itself", str(out))
    staging = out.with_name(f".{out.name}.building")
    if staging.exists():
        shutil.rmtree(staging)
    try:
        stats = _render(board, staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return {**stats, "out": str(out)}


def _render(board: Path, out: Path) -> dict:
    entries = [{**OPTIONAL, **e} for e in load_board(board)]
    tracks = load_tracks(board)
    if not entries and not tracks:
        raise UserError("the board has no entries to show", str(entries_dir(board)))
    protocol = check_board_protocol(board, entries + tracks)
    for e in entries:
        e["_id"], e["_model_slug"] = entry_id(e), slug(e["model"])
        for plot in e.get("plots", []):
            if not (plots_dir(board, e) / plot).is_file():
                raise UserError(f"entry lists plot {plot} but {plots_dir(board, e) / plot} is missing",
                                str(entry_path(board, e)))
    for sub in ("assets", "models", "entries"):
        (out / sub).mkdir(parents=True)
    (out / MARKER).write_text("written by `genoarmory leaderboard build`; the whole folder is replaced on rebuild\n")

    env = environment()
    by_model = defaultdict(list)
    for e in entries:
        by_model[e["model"]].append(e)
    models = []
    for name, rows in sorted(by_model.items(), key=lambda kv: (not any(e["source"] == "verified" for e in kv[1]), kv[0])):
        info = catalog.info("models", name)
        hub_id = next((e.get("model_hub_id") for e in rows if e.get("model_hub_id")), None) or info.get("hub_id")
        links = ([{"label": "model card", "url": catalog.model_card_url(hub_id)}] if hub_id else []) + info.get("links", [])
        models.append({"name": name, "slug": slug(name), "title": info.get("title", name), "about": info.get("about", ""),
                       "hub_id": hub_id, "links": links, "n": len(rows), "entries": rows,
                       "sources": sorted({e["source"] for e in rows}, reverse=True)})
    counts = {s: sum(e["source"] == s for e in entries) for s in ("verified", "reported")}
    common = {"built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "n_entries": len(entries),
              "paper": catalog.catalog()["benchmark_paper"], "metrics": METRICS, "all_metrics": ALL_METRICS,
              "short": SHORT,
              "repo": catalog.catalog().get("repository")}
    effects = views.defense_effects(entries)
    answers = {"best": views.best_models(entries), "rankings": views.rankings(entries), "effects": effects,
               "defenses": views.defense_summary(effects), "certified": track_views.certified_tables(tracks),
               "corruptions": track_views.corruption_tables(tracks), "transfer": track_views.transfer_matrices(tracks)}

    filters = [{"key": k, "label": label, "options": sorted({e[k] for e in entries})} for k, label in KEY_COLUMNS]
    (out / "index.html").write_text(env.get_template("index.html").render(
        root="", table=_table(entries), filters=filters, models=models, counts=counts, protocol=protocol,
        answers=answers, effects_data=_effects_data(effects), **common))

    order = {"none": 0}
    for m in models:
        tasks = defaultdict(list)
        for e in m["entries"]:
            tasks[e["task"]].append(e)
        task_list = [{"name": t, "entries": sorted(rows, key=lambda e: (e["attack"], order.get(e["defense"], 1), e["defense"], e["source"] != "verified"))}
                     for t, rows in sorted(tasks.items())]
        (out / "models" / f"{m['slug']}.html").write_text(env.get_template("model.html").render(
            root="../", model=m, tasks=task_list, summary=_model_summary(m["entries"]), **common))

    by_key = defaultdict(list)
    for e in entries:
        by_key[(e["model"], e["task"], e["attack"], e["defense"])].append(e)
    entry_template = env.get_template("entry.html")
    for e in entries:
        counterparts = [o for o in by_key[(e["model"], e["task"], e["attack"], e["defense"])] if o is not e]
        (out / "entries" / f"{e['_id']}.html").write_text(entry_template.render(
            root="../", e=e, counterparts=counterparts,
            entry_file=entry_path(Path(board.name), e).as_posix(), **common))
        if e.get("plots"):
            shutil.copytree(plots_dir(board, e), out / "plots" / e["_id"])

    static = resources.files("genoarmory.leaderboard").joinpath("static")
    for name in ("leaderboard.css", "leaderboard.js"):
        (out / "assets" / name).write_text(static.joinpath(name).read_text())
    return {"entries": len(entries), "models": len(models), "tracks": len(tracks), **counts}
