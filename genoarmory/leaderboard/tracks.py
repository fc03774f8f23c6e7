"""The board's tracks beside the attack table: certified robustness, natural corruptions, transfer.

    certified    `certify` runs: certified accuracy at each Hamming radius r = 0, 1, 2, ... of a model
                 smoothed at noise p, certified with n noisy copies at level 1 - alpha (one table per
                 task x smoothing setting, ranked by certified accuracy at r = 1)
    corruptions  `corrupt` runs: accuracy and MCC per sequencing-error profile x severity (RobustBench's
                 corruptions track for DNA; one table per task, ranked by mean corrupted accuracy)
    transfer     `transfer` matrices: every source run's successes against every run's model

`track_entry(run_dir, board)` makes a track entry from a run folder after every check: the board's
protocol for that track (protocol.json `tracks`), the numbers recomputed from the run's per-example files
(tracks_verify.py), the track schema (track.schema.json), and the identity of what ran (identity.py).
Layout: <board>/data/tracks/<track>/<model>/<task>__<setting>.json.
"""

from __future__ import annotations

from pathlib import Path

from genoarmory.errors import UserError
from genoarmory.leaderboard.add import refuse_off_protocol, summary_flags, threat_model
from genoarmory.leaderboard.entries import slug
from genoarmory.leaderboard.identity import data_identity, filed_model, model_identity, pointer, recheck
from genoarmory.leaderboard.tracks_verify import (CERTIFICATES, CORRUPTIONS, TRANSFER, verified_certificates,
                                                  verified_corruptions, verified_transfer)
from genoarmory.metrics.corruption import CLEAN
from genoarmory.results import read_json_object

TRACK_SCHEMA_VERSION = 1
TRACKS = ("certified", "corruptions", "transfer")
KIND_OF_RUN = {"certify": "certified", "corruption": "corruptions"}  # summary attack.name -> track


def tracks_dir(board: Path) -> Path:
    return Path(board) / "data" / "tracks"


def track_id(entry: dict) -> str:
    return "__".join(slug(entry[k]) for k in ("track", "model", "task")) + "__" + slug(entry["setting"]["key"])


def track_path(board: Path, entry: dict) -> Path:
    name = f"{slug(entry['task'])}__{slug(entry['setting']['key'])}.json"
    return tracks_dir(board) / entry["track"] / slug(entry["model"]) / name


def run_track(run_dir: Path) -> str | None:
    """The track a run folder belongs to (None: an attack run, the main table's)."""
    if (run_dir / TRANSFER).is_file():
        return "transfer"
    if (run_dir / "summary.json").is_file():
        what = (read_json_object(run_dir / "summary.json").get("attack") or {}).get("name")
        return KIND_OF_RUN.get(what)
    return None


def track_protocol(protocol: dict, track: str) -> dict:
    rules = (protocol.get("tracks") or {}).get(track)
    if not isinstance(rules, dict) or not isinstance(rules.get("require"), dict):
        raise UserError(f"the board's protocol {protocol['name']!r} has no {track} track (protocol.json tracks.{track})")
    return rules


def _chance_flags(labels: list[int], accuracy: float) -> list[str]:
    from genoarmory.metrics.compute import near_chance

    return ["clean accuracy near chance"] if labels and near_chance(accuracy, labels, max(2, max(labels) + 1)) else []


def _identity(summary: dict) -> tuple[str, dict]:
    """(the name the model is filed under, its identity: weights and tokenizer hashes, filing reason)."""
    model = summary.get("model") if isinstance(summary.get("model"), dict) else {}
    name = model.get("name")
    if not isinstance(name, str) or not name:
        raise UserError("the summary does not name its model (model.name)")
    weights = model_identity(model.get("path"))
    filed, _, filed_as = filed_model(name, weights, model.get("family"))
    return filed, {"model": weights, "filed_as": filed_as}


def _provenance(summary: dict, run_dir: Path, protocol: dict, rows_file: str) -> dict:
    config = summary.get("config") if isinstance(summary.get("config"), dict) else {}
    dataset = summary.get("dataset") if isinstance(summary.get("dataset"), dict) else {}
    too_long = (config.get("sequence") or {}).get("too_long")
    out = {"selection": {"split": dataset.get("split"), "limit": dataset.get("limit"), "seed": dataset.get("seed"),
                         "too_long": too_long},
           "config_hash": summary.get("config_hash"), "versions": summary.get("versions") or {},
           "commit": summary.get("commit"), "device": summary.get("device"), "protocol": protocol["name"],
           "run": {"dir": pointer(run_dir), "file": rows_file}, "config": config}
    if summary.get("date") is not None:
        out["date"] = str(summary["date"])
    return out


def _base(track: str, summary: dict, run_dir: Path, protocol: dict, rows_file: str) -> dict:
    task = (summary.get("dataset") or {}).get("name")
    if not isinstance(task, str) or not task:
        raise UserError("the summary does not name its task (dataset.name)", str(run_dir / "summary.json"))
    model, identity = _identity(summary)
    identity["data"] = data_identity(summary.get("config") or {}, summary.get("versions") or {})
    return {"schema_version": TRACK_SCHEMA_VERSION, "track": track, "source": "verified", "model": model,
            "task": task, **_provenance(summary, run_dir, protocol, rows_file), "identity": identity}


def certified_entry(run_dir: Path, summary: dict, protocol: dict) -> dict:
    refuse_off_protocol(summary, track_protocol(protocol, "certified"), protocol["name"], run_dir / "summary.json")
    metrics, rows = verified_certificates(run_dir, summary)
    d = summary["defense"]
    setting = {"noise": float(d["noise"]), "n": int(d["n"]), "n0": int(d["n0"]), "alpha": float(d["alpha"]),
               "radii": [int(r) for r in d["radii"]]}
    setting["name"] = f"p={setting['noise']:g} · n={setting['n']} · n0={setting['n0']} · α={setting['alpha']:g}"
    setting["key"] = f"p{setting['noise']:g}-n{setting['n']}-n0{setting['n0']}-a{setting['alpha']:g}"
    labels = [r["label"] for r in rows]
    entry = _base("certified", summary, run_dir, protocol, CERTIFICATES)
    entry.update(setting=setting, metrics=metrics, n_examples=metrics["n_examples"],
                 flags=_chance_flags(labels, metrics["origin_acc"]) + summary_flags(summary.get("flags")))
    return entry


def corruptions_entry(run_dir: Path, summary: dict, protocol: dict) -> dict:
    rules = track_protocol(protocol, "corruptions")
    refuse_off_protocol(summary, rules, protocol["name"], run_dir / "summary.json")
    metrics, rows = verified_corruptions(run_dir, summary)
    profiles = ((summary.get("config") or {}).get("corruption") or {}).get("profiles") or {}
    setting = {"profiles": profiles, "seed": summary["seed"], "name": rules.get("name") or "corruptions",
               "key": f"seed{summary['seed']}"}
    labels = [r["label"] for r in rows if r["profile"] == CLEAN]
    entry = _base("corruptions", summary, run_dir, protocol, CORRUPTIONS)
    entry.update(setting=setting, metrics=metrics, n_examples=metrics["n_examples"],
                 label_check=summary.get("label_check") or {},
                 flags=_chance_flags(labels, metrics["origin_acc"]) + summary_flags(summary.get("flags")))
    return entry


def transfer_entry(out_dir: Path, protocol: dict) -> dict:
    from genoarmory.results import Run

    report = read_json_object(out_dir / TRANSFER, "transfer report")
    rules = track_protocol(protocol, "transfer")
    report = verified_transfer(out_dir, report)
    runs = [Run(Path(r)) for r in report["runs"]]
    threats = set()
    for run in runs:
        refuse_off_protocol(run.summary, {"require": protocol["require"]}, protocol["name"],
                            run.path / "summary.json")
        refuse_off_protocol(run.summary, rules, protocol["name"], run.path / "summary.json")
        attack = run.summary.get("attack") or {}
        threats.add(threat_model(attack.get("name"), {k: attack.get(k) for k in ("max_perturb_ratio", "query_budget")},
                                 attack.get("preserve") or "none", (run.summary.get("label_check") or {}).get("mode"))["name"])
    if len(threats) > 1:
        raise UserError(f"the source runs were attacked under different threat models ({'; '.join(sorted(threats))}): "
                        "one matrix compares one attack", str(out_dir / TRANSFER))
    first = runs[0].summary
    sources = []
    for label, run in zip(report["models"], runs):
        filed, identity = _identity(run.summary)
        sources.append({"label": label, "name": filed, "run": pointer(run.path), **identity})
    rates = report["rates"]
    off = [x for i, row in enumerate(rates) for j, x in enumerate(row) if i != j and x is not None]
    threat = threats.pop()
    which = "all successes" if report["include_label_changed"] else "label-preserving successes"
    entry = {"schema_version": TRACK_SCHEMA_VERSION, "track": "transfer", "source": "verified",
             "model": " × ".join(report["models"]), "task": report["dataset"],
             **_provenance(first, out_dir, protocol, TRANSFER),
             "identity": {"models": sources, "data": data_identity(first.get("config") or {}, first.get("versions") or {}),
                          "filed_as": f"{len(sources)} source runs, each model hashed"},
             "setting": {"threat": threat, "include_label_changed": report["include_label_changed"],
                         "name": f"{threat} · {which}", "key": f"{slug((first.get('attack') or {}).get('name'))}-"
                         f"{'all' if report['include_label_changed'] else 'preserved'}"},
             "metrics": {"models": report["models"], "rates": rates, "counts": report["counts"],
                         "mean_off_diagonal": sum(off) / len(off) if off else None},
             "n_examples": first.get("n_examples"), "flags": []}
    return entry


def track_entry(run_dir: Path, board: Path) -> dict:
    """The verified track entry of a certify / corrupt run or a transfer folder (every check done)."""
    from genoarmory.leaderboard.add import load_protocol
    from genoarmory.leaderboard.entries import track_schema_errors

    run_dir, protocol = Path(run_dir), load_protocol(board)
    track = run_track(run_dir)
    if track == "transfer":
        entry = transfer_entry(run_dir, protocol)
    elif track in ("certified", "corruptions"):
        summary = read_json_object(run_dir / "summary.json", "summary")
        entry = (certified_entry if track == "certified" else corruptions_entry)(run_dir, summary, protocol)
    else:
        raise UserError("not a certify, corrupt or transfer run", str(run_dir))
    errors = track_schema_errors(entry)
    if errors:
        raise UserError(f"entry would fail the track schema: {'; '.join(errors[:3])}", str(run_dir))
    return entry


def track_recheck(entry: dict) -> list[str]:
    """`leaderboard check`: every stored hash of a track entry whose files exist here, re-hashed."""
    identity = entry["identity"]
    models = [{"model": s["model"], "data": {}} for s in identity.get("models", [])]
    own = [{"model": identity["model"], "data": identity.get("data") or {}}] if "model" in identity else \
        [{"model": {}, "data": identity.get("data") or {}}]
    return [p for part in own + models for p in recheck(part)]


def track_checked_here(entry: dict) -> bool:
    """Whether any stored hash of the entry could be re-checked on this machine."""
    from genoarmory.leaderboard.identity import checked_here

    identity = entry["identity"]
    parts = [{"model": s["model"]} for s in identity.get("models", [])] + [identity]
    return any(checked_here(part) for part in parts)


def load_tracks(board: Path) -> list[dict]:
    """Every track entry of the board, schema-checked; two files with one key are an error."""
    from genoarmory.leaderboard.entries import read_track_entry, read_unique

    root = tracks_dir(board)
    return read_unique(sorted(root.rglob("*.json")) if root.is_dir() else [], read_track_entry, track_id,
                       "track entries")
