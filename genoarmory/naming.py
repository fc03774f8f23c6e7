"""What a model folder is called: one rule for runs, summaries, tables and the leaderboard.

A run of a model config (`model=dnabert2`) on its own source (its hub id, the embedded tiny model) carries
the config's name. Given a folder (`model.path=DIR`), the config only says how to load it (code path,
tokenization); the folder gets the config's name only when it is that model (the caller decides on what
evidence: a run trusts the hub cache's snapshot of the config's hub id, the leaderboard a known weights
hash). Otherwise it is called by `own_name`:

- a folder `train` wrote for an embedded tiny model (`<run>/model` with `<run>/metrics.json` recording
  `model.family: tiny`): that model's name. The embedded models are defined as trained on the task, so
  `train model=tiny-6mer` makes a tiny-6mer; the project wrote the record, so it is not a claim the folder
  makes about itself. Any other fine-tune is a new model, named after its folder.
- a hub snapshot (`models--org--name/snapshots/<revision>`): `org/name@<revision[:12]>`.
- any other folder: its own name, prefixed by its parent's when the own name says nothing
  (`runs/train/x/gue-tf-0/model` -> `gue-tf-0-model`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

# folder names that say nothing about the model (`train` saves into <run>/model): name the parent too
GENERIC_FOLDERS = {"model", "mlm", "final", "best", "weights", "checkpoint"}
HUB_SNAPSHOT = re.compile(r"models--(?P<org>[^/]+?)--(?P<name>[^/]+)/snapshots/(?P<revision>[^/]+)")


def _resolved(path: str | Path) -> Path:
    path = Path(str(path)).expanduser()
    return path.resolve() if path.exists() else path


def folder_label(path: str | Path) -> str:
    """A folder's own name, prefixed by its parent's when the own name says nothing."""
    parts = [p for p in _resolved(path).parts if p not in ("/", "", ".", "..")] or ["local"]
    name = parts[-1]
    if (name.lower() in GENERIC_FOLDERS or name.lower().startswith("checkpoint")) and len(parts) > 1:
        name = f"{parts[-2]}-{name}"
    return name


def hub_label(repo_id: str) -> str:
    """A hub id's model name: the repository's own name (zhihan1996/DNABERT-2-117M -> DNABERT-2-117M)."""
    return str(repo_id).rstrip("/").rsplit("/", 1)[-1]


def hub_snapshot(path: str | Path) -> tuple[str, str] | None:
    """(hub id, revision) of a folder inside the hub cache (`models--org--name/snapshots/<revision>`)."""
    found = HUB_SNAPSHOT.search(_resolved(path).as_posix())
    return (f"{found['org']}/{found['name']}", found["revision"]) if found else None


def trained_name(path: str | Path) -> str | None:
    """The embedded model's name a `train` run recorded beside the folder it wrote (None: not one)."""
    metrics = _resolved(path).parent / "metrics.json"
    try:
        model = json.loads(metrics.read_text())["config"]["model"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if isinstance(model, dict) and model.get("family") == "tiny" and isinstance(model.get("name"), str):
        return model["name"] or None
    return None


def own_name(path: str | Path) -> str:
    """A model folder's own name (see the module's rule): never a hub model's name."""
    snapshot = hub_snapshot(path)
    if snapshot:
        return f"{snapshot[0]}@{snapshot[1][:12]}"
    return trained_name(path) or folder_label(path)


def model_name(config_name: str, path: str | Path | None, is_that_model: bool) -> str:
    """What a run of the model config `config_name` is called: its name when it loads its own source (no
    folder given) or the folder is that model (`is_that_model`, on the caller's evidence); else the
    folder's own name."""
    return config_name if not path or is_that_model else own_name(path)
