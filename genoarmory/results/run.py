"""`Run`: one run folder (records.jsonl, summary.json, config.yaml), and the one rule for finding runs.

Every command that reads results (read, visualize, merge, genoadv build, leaderboard add, defend's
baseline) finds and reads them here, so a sweep folder, a run folder and a folder of runs mean the same
thing everywhere, and everything read back is checked the same way: records through `AttackRecord`,
the config as data (`config.load_saved_config`), the summary as a JSON object.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Iterable

from genoarmory.config import check_data, load_saved_config
from genoarmory.errors import UserError, located
from genoarmory.results.jsonl import RECORDS, read_records
from genoarmory.results.records import AttackRecord

SUMMARY = "summary.json"
CONFIG = "config.yaml"


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows (the numbers must be finite)")


def read_json_object(path: Path, what: str = "summary", finite: bool = False) -> dict:
    """A JSON file that must hold one object; every failure is a one-line UserError naming the file.
    `finite`: NaN / Infinity (which Python's json reads by default) are refused too."""
    path = Path(path)
    if path.is_symlink():
        raise UserError("is a symbolic link; run folders must hold their own files", str(path))
    try:
        data = json.loads(path.read_text(), **({"parse_constant": _refuse_constant} if finite else {}))
    except FileNotFoundError:
        raise UserError(f"no {path.name} (is the run finished?)", str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read ({getattr(err, 'strerror', None) or err})", str(path)) from None
    except json.JSONDecodeError as err:
        raise UserError(f"not valid JSON ({err.msg})", located(path, err.lineno)) from None
    except ValueError as err:  # a refused constant (finite=True)
        raise UserError(str(err), str(path)) from None
    except RecursionError:
        raise UserError("JSON nested too deeply", str(path)) from None
    if not isinstance(data, dict):
        raise UserError(f"a {what} must be a JSON object", str(path))
    return data


def _natural(path: Path):
    """Sweep job folders 0, 1, ..., 10 in numeric order, other names after them alphabetically."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in path.parts)


def _below(root: Path, need: str) -> list[Path]:
    """Folders below `root` holding `need`, following symlinked folders (a sweep assembled from links)
    but visiting each real folder once."""
    found, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        subfolders[:] = [s for s in subfolders if not s.startswith(".")]  # staging folders, .hydra
        if need in files:
            found.append(Path(folder))
    return found


def run_folders(folder: Path, need: str = SUMMARY) -> list[Path]:
    """`folder` itself when it holds `need`, else every folder below it holding `need`, in natural order
    ([] when none: a caller that can read other folders, such as `genoarmory.read`, asks here first)."""
    return [folder] if (folder / need).is_file() else sorted(_below(folder, need), key=_natural)


def find_runs(paths: str | Path | Iterable[str | Path], need: str = SUMMARY) -> list[Path]:
    """Each path is a run (it holds `need`) or a folder of runs (a sweep, a tree of runs): every folder
    below it holding `need`, in natural order. Each run once; an empty result is a UserError."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    found: list[Path] = []
    for path in map(Path, paths):
        if not path.exists():
            raise UserError("no such run folder", str(path))
        if not path.is_dir():
            raise UserError(f"not a folder (give a run folder holding {need}, or a folder of runs)", str(path))
        below = run_folders(path, need)
        if not below:
            raise UserError(f"no {need} in this folder or below it (is it a run, or a sweep of runs?)", str(path))
        found += [r for r in below if r not in found]
    return found


@dataclass
class Run:
    path: Path

    def __post_init__(self):
        self.path = Path(self.path)

    @property
    def has_summary(self) -> bool:
        return (self.path / SUMMARY).is_file()

    @property
    def has_records(self) -> bool:
        return (self.path / RECORDS).is_file()

    @cached_property
    def summary(self) -> dict:
        return read_json_object(self.path / SUMMARY)

    @cached_property
    def config(self) -> dict:
        """config.yaml as checked data; a run without one falls back to the config inside its summary
        (checked the same way)."""
        if (self.path / CONFIG).exists() or (self.path / CONFIG).is_symlink():
            return load_saved_config(self.path / CONFIG)
        config = self.summary.get("config")
        if not isinstance(config, dict):
            raise UserError(f"no {CONFIG} and no config in {SUMMARY}", str(self.path))
        check_data(config, str(self.path / SUMMARY))
        return config

    def records(self, num_labels: int | None = None, invalid=None) -> list[AttackRecord]:
        """The checked records (`invalid`: see jsonl.parse_records)."""
        if not self.has_records and not (self.path / RECORDS).is_symlink():
            raise UserError(f"no {RECORDS} (is this an attack run?)", str(self.path / RECORDS))
        return read_records(self.path / RECORDS, num_labels, invalid)

    @cached_property
    def num_labels(self) -> int | None:
        value = (self.summary.get("dataset") or {}).get("num_labels") if self.has_summary else None
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def runs(paths, need: str = SUMMARY) -> list[Run]:
    return [Run(p) for p in find_runs(paths, need)]
