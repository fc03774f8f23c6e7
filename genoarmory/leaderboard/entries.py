"""Leaderboard entries on disk: the schema check, where each entry lives, reading the whole board.

Layout (one small JSON per model x task x attack x defense, as RobustBench's model_info):
    <board>/data/entries/<source>/<model>/<task>__<attack>__<defense>.json
Names are slugged for the file system only; the entry keeps the real names, and the site escapes them.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

from genoarmory.errors import UserError
from genoarmory.metrics.registry import METRICS
from genoarmory.results import read_json_object

SCHEMA_FILE = "entry.schema.json"
TRACK_SCHEMA_FILE = "track.schema.json"  # the tracks' entries (certified, corruptions, transfer: tracks.py)
KEY_FIELDS = ("source", "model", "task", "attack", "defense")
# An entry's metrics: every metric of the registry a run's summary can carry, under the registry's own key
# (one vocabulary), except what lives elsewhere in the entry (n_examples) or depends on the machine (times).
STORED_METRICS = tuple(m for m in METRICS if m.key not in ("n_examples", "seconds", "wall_seconds"))
_BOUNDS = {"rate": {"minimum": 0, "maximum": 1}, "correlation": {"minimum": -1, "maximum": 1}, "count": {"minimum": 0}}


@lru_cache(maxsize=1)
def schema() -> dict:
    """entry.schema.json with `metrics.properties` filled from the metric registry, bounded by each unit."""
    loaded = json.loads(resources.files("genoarmory.leaderboard").joinpath(SCHEMA_FILE).read_text())
    loaded["properties"]["metrics"]["properties"] = {
        m.key: {"type": ["number", "null"], "description": m.meaning, **_BOUNDS[m.unit]} for m in STORED_METRICS}
    return loaded


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


@lru_cache(maxsize=1)
def track_schema() -> dict:
    return json.loads(resources.files("genoarmory.leaderboard").joinpath(TRACK_SCHEMA_FILE).read_text())


@lru_cache(maxsize=1)
def _track_validator():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(track_schema())
    return Draft202012Validator(track_schema())


def _errors(validator, entry: dict) -> list[str]:
    errors = sorted(validator.iter_errors(entry), key=lambda e: list(map(str, e.absolute_path)))
    return non_finite(entry) + [f"{'.'.join(map(str, e.absolute_path)) or '(entry)'}: {e.message}" for e in errors]


def track_schema_errors(entry: dict) -> list[str]:
    """A track entry's schema violations (track.schema.json), as schema_errors gives an entry's."""
    return _errors(_track_validator(), entry)


def non_finite(obj, path: str = "") -> list[str]:
    """Paths of NaN / infinite numbers (JSON Schema's bounds let NaN through: every comparison is false)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return [f"{path or '(entry)'}: {obj} is not a finite number"]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in non_finite(v, f"{path}.{k}" if path else str(k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in non_finite(v, f"{path}.{i}")]
    return []


def schema_errors(entry: dict) -> list[str]:
    """Every schema violation as 'field.path: message' (empty when the entry is valid)."""
    return _errors(_validator(), entry)


def validate(entry: dict, where: str) -> None:
    errors = schema_errors(entry)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UserError(f"entry fails the leaderboard schema: {errors[0]}{more}", where)


def slug(name: str) -> str:
    """A file-system-safe rendering of a name ('gue/EMP/H3' -> 'gue-EMP-H3')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(name)).strip("-.") or "unnamed"


def entry_id(entry: dict) -> str:
    """Unique key of an entry, also the name of its page on the site."""
    return "__".join([slug(entry[k]) for k in KEY_FIELDS] + edit_kinds(entry))


def edit_kinds(entry: dict) -> list[str]:
    """An indel entry's name part (its edit kinds and length policy): another threat model than the
    substitution entry of the same attack, so neither its id nor its file may be that entry's."""
    threat = entry.get("threat") if isinstance(entry.get("threat"), dict) else {}
    return [slug(f"{threat['edits']}-{threat.get('length')}")] if threat.get("edits") else []


def entries_dir(board: Path) -> Path:
    return Path(board) / "data" / "entries"


def entry_path(board: Path, entry: dict) -> Path:
    name = "__".join([slug(entry[k]) for k in ("task", "attack", "defense")] + edit_kinds(entry)) + ".json"
    return entries_dir(board) / entry["source"] / slug(entry["model"]) / name


def plots_dir(board: Path, entry: dict) -> Path:
    return Path(board) / "data" / "plots" / entry_id(entry)


def dump(entry: dict) -> str:
    return json.dumps(entry, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def read_entry(path: Path) -> dict:
    entry = read_json_object(Path(path), "board entry", finite=True)
    validate(entry, str(path))
    return entry


def read_track_entry(path: Path) -> dict:
    entry = read_json_object(Path(path), "track entry", finite=True)
    errors = track_schema_errors(entry)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise UserError(f"track entry fails the track schema: {errors[0]}{more}", str(path))
    return entry


def load_board(board: Path) -> list[dict]:
    """Every entry of the board, schema-checked, sorted by key; two files with one key are an error."""
    root = entries_dir(board)
    if not root.is_dir():
        raise UserError("no entries folder (expected <board>/data/entries/)", str(root))
    return read_unique(sorted(root.rglob("*.json")), read_entry, entry_id, "entries")


def read_unique(paths: list[Path], read, key, what: str) -> list[dict]:
    """`read` of every file, sorted by `key`; two files with one key are an error naming both."""
    seen: dict[str, Path] = {}
    entries = []
    for path in paths:
        entry = read(path)
        k = key(entry)
        if k in seen:
            raise UserError(f"two {what} for {k} (also {seen[k]})", str(path))
        seen[k] = path
        entries.append(entry)
    return sorted(entries, key=key)
