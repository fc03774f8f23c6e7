"""`leaderboard add RUN_DIR`: turn a finished run (records.jsonl + summary.json) into a verified entry.

A certify or corrupt run, or a transfer folder, becomes an entry of its track instead (tracks.py: its
numbers recomputed from certificates.jsonl / corruptions.jsonl / the source runs, in the same way).

Refused (UserError, nothing written) when the summary is unreadable, disagrees with its records (every
metric is recomputed from records.jsonl: verify.py), the entry fails the schema (non-finite numbers too),
or the run's protocol (budget, selection, length policy) differs from the board's — numbers measured
under another protocol are not comparable, so they never sit in the same table.

Identity (identity.py): the entry records the hashes of the weights, tokenizer and data that ran. A run is
filed under a hub model's name (one the catalog gives a `hub_id`, e.g. dnabert2) only when its weights
hash is one of that model's known revisions (catalog `known_weights`); any other folder is filed under
its own folder name as a user model, with no model-card link — a random local model attacked as
`model=dnabert2 model.path=...` is not DNABERT-2.

Metric keys are the metric registry's (genoarmory/metrics/registry.py: origin_acc, after_attack_acc, asr,
valid_asr, label_changed, average_queries, dsr, ...); their definitions are in metrics/compute.py.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

from genoarmory.edits import kinds_label
from genoarmory.errors import UserError
from genoarmory.results import SUMMARY, Run, find_runs, read_json_object
from genoarmory.leaderboard import catalog
from genoarmory.leaderboard.entries import (STORED_METRICS, dump, entry_id, entry_path, plots_dir, schema_errors,
                                            slug)
from genoarmory.leaderboard.identity import data_identity, filed_model, model_identity, pointer
from genoarmory.leaderboard.verify import check_against_records
from genoarmory.summary import edit_budget

PROTOCOL_FILE = Path("data") / "protocol.json"
_MISSING = object()

SCHEMA_VERSION = 2


def lookup(obj, dotted: str):
    """obj['a']['b'] for 'a.b'; _MISSING when any step is absent."""
    for part in dotted.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise UserError(f"no {what} here", str(path))
    return read_json_object(path, what)


def load_protocol(board: Path) -> dict:
    path = Path(board) / PROTOCOL_FILE
    protocol = read_json(path, "board protocol")
    if not isinstance(protocol.get("name"), str) or not isinstance(protocol.get("require"), dict):
        raise UserError("protocol needs a 'name' and a 'require' object", str(path))
    return protocol


def check_board_protocol(board: Path, entries: list[dict]) -> dict | None:
    """Every verified entry must have been added under the board's current protocol (else the table would
    mix numbers measured under different budgets). Returns the protocol (None for a board without one)."""
    verified = [e for e in entries if e["source"] == "verified"]
    if not verified and not (Path(board) / PROTOCOL_FILE).is_file():
        return None
    protocol = load_protocol(board)
    for e in verified:
        if e["protocol"] != protocol["name"]:
            from genoarmory.leaderboard.tracks import track_id, track_path

            key, path = (track_id(e), track_path(board, e)) if "track" in e else (entry_id(e), entry_path(board, e))
            raise UserError(f"verified entry {key} was added under protocol {e['protocol']!r}, the board's "
                            f"is {protocol['name']!r}: re-run it under the board's protocol or remove it", str(path))
    return protocol


def _same(expected, actual) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        return (isinstance(actual, (int, float)) and isinstance(expected, (int, float))
                and not isinstance(actual, bool) and math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12))
    return expected == actual and type(expected) is type(actual)


def protocol_mismatches(summary: dict, protocol: dict) -> list[str]:
    """Each way the run departs from the board's protocol, as a sentence."""
    problems = []
    for field, rule in protocol["require"].items():
        actual = lookup(summary, field)
        if actual is _MISSING:
            problems.append(f"the summary has no {field} (the protocol fixes it to {json.dumps(rule['value'])})")
        elif not _same(rule["value"], actual):
            problems.append(f"{field} is {json.dumps(actual)}, the board's protocol needs {json.dumps(rule['value'])}")
    # indels: their edit distance is the protocol's nucleotide budget too (null: max_perturb_ratio's)
    distance, budget = lookup(summary, "attack.max_edit_distance"), protocol["require"].get("attack.max_perturb_ratio")
    if distance not in (_MISSING, None) and budget is not None and not _same(budget["value"], distance):
        problems.append(f"attack.max_edit_distance is {json.dumps(distance)}, the board's protocol needs its "
                        f"nucleotide budget {json.dumps(budget['value'])} (or null)")
    return problems


def _metrics(metrics: dict, summary: dict, where: str) -> dict:
    """The registry's metrics the records gave that apply to the run `summary` describes (None stays None:
    e.g. valid ASR where no oracle exists; a substitution run files no indel figure)."""
    out = {}
    for m in STORED_METRICS:
        if m.key not in metrics or not m.applies(summary):
            continue
        value = metrics[m.key]
        if isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"{m.key} is {value}: a run with no measurable {m.label} cannot be an entry", where)
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            out[m.key] = value
    return out


def threat_model(attack: str, budget: dict, preserve: str, label_mode: str | None, space: str = "dna") -> dict:
    """The threat model an entry was measured under; its `name` groups the ranking tables."""
    ratio, queries = budget.get("max_perturb_ratio"), budget.get("query_budget")
    indels = kinds_label(budget)  # None for substitutions; else kinds, edit distance and length policy
    parts = [attack + (" (embedding space)" if space == "embedding" else ""),
             indels or (f"≤{ratio * 100:g}% nt" if isinstance(ratio, (int, float)) else "budget not stated"),
             "no query cap" if queries is None else f"≤{queries} queries",
             f"preserve={preserve}"]  # the mode it resolved to (oracle, elements) depends on the task: label_check
    kinds = {k: budget.get(k) for k in ("edits", "max_edit_distance", "length")} if indels else {}
    return {"name": " · ".join(parts), "attack": attack, "max_perturb_ratio": ratio, "query_budget": queries,
            "preserve": preserve, "label_check": label_mode, "space": space, **kinds}


def summary_flags(raw) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, dict):  # {"near_chance": true, ...}
        return [str(k).replace("_", " ") if v is True else f"{k}: {v}" for k, v in raw.items() if v]
    if isinstance(raw, list):
        return [str(f) for f in raw if f]
    return [str(raw)]


def _plots(run_dir: Path) -> list[Path]:
    folder = run_dir / "plots"
    return sorted(p for p in folder.glob("*.png") if p.is_file()) if folder.is_dir() else []


def entry_from_summary(summary: dict, run_dir: Path, protocol: dict, metrics: dict | None = None) -> dict:
    """`metrics`: recomputed from the records (verify.py); the summary's own when None (its tests)."""
    where = str(run_dir / "summary.json")
    model, dataset, attack = (summary.get(k) if isinstance(summary.get(k), dict) else {} for k in ("model", "dataset", "attack"))
    defense = summary.get("defense") if isinstance(summary.get("defense"), dict) else {}
    config = summary.get("config") if isinstance(summary.get("config"), dict) else None
    label_check = summary.get("label_check") if isinstance(summary.get("label_check"), dict) else {}
    too_long = lookup(config or {}, "sequence.too_long")
    names = {"model": model.get("name"), "task": dataset.get("name"), "attack": attack.get("name"),
             "defense": defense.get("name") or "none"}
    for key, value in names.items():
        if not isinstance(value, str) or not value:
            raise UserError(f"the summary does not name its {key} ({'dataset' if key == 'task' else key}.name)", where)
    weights = model_identity(model.get("path"))
    names["model"], hub_id, filed_as = filed_model(names["model"], weights, model.get("family"))
    budget = {"max_perturb_ratio": attack.get("max_perturb_ratio"), "query_budget": attack.get("query_budget"),
              **edit_budget(attack)}
    preserve = attack.get("preserve") or label_check.get("preserve") or "none"
    entry = {
        "schema_version": SCHEMA_VERSION,
        "source": "verified",
        **names,
        "model_hub_id": hub_id,
        "metrics": _metrics(summary if metrics is None else metrics, summary, where),
        "budget": budget,
        "threat": threat_model(names["attack"], budget, preserve, label_check.get("mode")),
        "label_check": label_check,
        "selection": {"split": dataset.get("split"), "limit": dataset.get("limit"), "seed": dataset.get("seed"),
                      "too_long": None if too_long is _MISSING else too_long},
        "n_examples": summary.get("n_examples"),
        "config_hash": summary.get("config_hash"),
        "versions": summary.get("versions") or {},
        "commit": summary.get("commit"),
        "device": summary.get("device"),
        "protocol": protocol["name"],
        "identity": {"model": weights, "data": data_identity(config or {}, summary.get("versions") or {}),
                     "filed_as": filed_as},
        "run": {"dir": pointer(run_dir), "summary": "summary.json"},
        "flags": summary_flags(summary.get("flags")),
        "links": catalog.entry_links(names["model"], names["attack"], names["defense"], hub_id),
    }
    if summary.get("date") is not None:
        entry["date"] = str(summary["date"])
    if config is not None:
        entry["config"] = config
    enrichment = summary.get("motif_enrichment")
    if enrichment is None and (run_dir / "motif_enrichment.json").is_file():
        enrichment = read_json_object(run_dir / "motif_enrichment.json", "motif enrichment")
    if enrichment is not None:
        entry["motif_enrichment"] = enrichment
    plots = _plots(run_dir)
    if plots and entry["metrics"].get("n_success") != 0:  # a run with no successes has nothing to plot
        entry["plots"] = [slug(p.stem) + ".png" for p in plots]
    return entry


def refuse_off_protocol(summary: dict, rules: dict, name: str, where: Path) -> None:
    """One line naming every rule of `rules` (a protocol's, or one track's) that the run departs from."""
    problems = protocol_mismatches(summary, rules)
    if problems:
        raise UserError(f"run does not follow the board's protocol {name!r}: " + "; ".join(problems), str(where))


def prepare_run(run_dir: str | Path, board: str | Path, replace: bool = False) -> tuple[dict, Path, list[Path]]:
    """Every check, nothing written: (entry, where it goes, the plots to copy)."""
    run_dir, board = Path(run_dir), Path(board)
    summary_path = run_dir / "summary.json"
    summary = read_json(summary_path, "summary.json (is this a finished attack run?)")
    protocol = load_protocol(board)
    refuse_off_protocol(summary, protocol, protocol["name"], summary_path)
    metrics = check_against_records(Run(run_dir), summary)
    entry = entry_from_summary(summary, run_dir, protocol, metrics)
    errors = schema_errors(entry)
    if errors:
        raise UserError(f"entry would fail the leaderboard schema: {'; '.join(errors)}", str(summary_path))
    target = entry_path(board, entry)
    if target.exists() and not replace:
        old = read_json_object(target, "board entry")
        if old.get("run") != entry["run"] or old.get("config_hash") != entry["config_hash"]:
            raise UserError(f"the board already has {entry_id(entry)} from {old.get('run', {}).get('dir')}; "
                            f"pass --replace to overwrite it", str(target))
    return entry, target, _plots(run_dir) if entry.get("plots") else []


def prepare_track(run_dir: Path, board: Path, replace: bool = False) -> tuple[dict, Path, list[Path]]:
    """A certify / corrupt run or a transfer folder: its track entry (tracks.py: every check, nothing written)."""
    from genoarmory.leaderboard.tracks import track_entry, track_id, track_path

    entry = track_entry(run_dir, board)
    target = track_path(board, entry)
    if target.exists() and not replace:
        old = read_json_object(target, "track entry")
        if old.get("run") != entry["run"] or old.get("config_hash") != entry["config_hash"]:
            raise UserError(f"the board already has {track_id(entry)} from {old.get('run', {}).get('dir')}; "
                            "pass --replace to overwrite it", str(target))
    return entry, target, []


def _run_folders(run_dirs: list) -> list[tuple[Path, bool]]:
    """(folder, is a track run) for every run at or below the given folders: runs with a summary.json (attack,
    certify, corrupt) and transfer folders (transfer.json; one that is also an attack run is added as both)."""
    from genoarmory.leaderboard.tracks import run_track
    from genoarmory.leaderboard.tracks_verify import TRANSFER

    out = []
    for path in run_dirs:
        found, refused = [], None
        for need in (SUMMARY, TRANSFER):
            try:
                found += [(run, need == TRANSFER) for run in find_runs(path, need=need)]
            except UserError as err:
                refused = refused or err
        if not found:
            raise refused
        for run, is_transfer in found:
            track = is_transfer or run_track(run) in ("certified", "corruptions")
            if (run, track) not in out:
                out.append((run, track))
    return out


def add_runs(run_dirs: list, board: str | Path, replace: bool = False) -> list[Path]:
    """All or nothing: every run is checked before the first entry is written."""
    prepared, targets = [], {}
    for run_dir, track in _run_folders(run_dirs):
        entry, target, plots = (prepare_track if track else prepare_run)(run_dir, board, replace)
        if target in targets:
            from genoarmory.leaderboard.tracks import track_id

            raise UserError(f"{run_dir} and {targets[target]} are both {track_id(entry) if track else entry_id(entry)}",
                            str(run_dir))
        targets[target] = run_dir
        prepared.append((entry, target, plots))
    for entry, target, plots in prepared:
        if "track" in entry:
            _write_track(entry, target)
        else:
            _write(entry, target, Path(board), plots)
    return [target for _, target, _ in prepared]


def _write_track(entry: dict, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(dump(entry))
    os.replace(tmp, target)


def add_run(run_dir: str | Path, board: str | Path, replace: bool = False) -> Path:
    return add_runs([run_dir], board, replace)[0]


def _write(entry: dict, target: Path, board: Path, plots: list[Path]) -> None:
    """Plots first, the entry file last (renamed into place): a reader never sees an entry without its plots."""
    text = dump(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text)
    destination = plots_dir(board, entry)
    if destination.exists():
        shutil.rmtree(destination)
    for plot, name in zip(plots, entry.get("plots", [])):
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(plot, destination / name)
    os.replace(tmp, target)
