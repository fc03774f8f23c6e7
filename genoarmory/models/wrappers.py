"""Saved folders that name their own wrapper: how a defended model is loaded without models/ naming a defense.

A folder whose model is more than its HF classifier (ADFAR: a detection head and input randomisation
around the task head) holds `genoarmory_wrapper.json`: `{"wrapper": "<name>", ...}`. The code that writes
such folders registers the function that rebuilds the wrapper (`register_wrapper`); loading looks the
name up here. A name that nobody registered is a UserError — a folder never chooses which code runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch

from genoarmory.errors import UserError

WRAPPER_FILE = "genoarmory_wrapper.json"
_WRAPPERS: dict[str, Callable[[torch.nn.Module, Path], torch.nn.Module]] = {}
# wrappers of the whole victim (the sequences it is asked about), not of the network: randomized smoothing
# perturbs nucleotides before tokenization, which a module over token ids cannot do
_VICTIM_WRAPPERS: dict[str, Callable] = {}


def register_wrapper(name: str, wrap: Callable[[torch.nn.Module, Path], torch.nn.Module]) -> None:
    """`wrap(classifier, folder) -> model`: rebuilds the saved wrapper around the loaded classifier."""
    _WRAPPERS[name] = wrap


def register_victim_wrapper(name: str, wrap: Callable) -> None:
    """`wrap(victim, folder) -> Victim`: rebuilds a saved victim-level wrapper around the loaded victim."""
    _VICTIM_WRAPPERS[name] = wrap


def write_wrapper_file(folder: Path, name: str) -> None:
    (Path(folder) / WRAPPER_FILE).write_text(json.dumps({"wrapper": name}, indent=2) + "\n")


def saved_wrapper(folder: Path) -> str | None:
    path = Path(folder) / WRAPPER_FILE
    if not path.is_file():
        return None
    try:
        name = json.loads(path.read_text()).get("wrapper")
    except (ValueError, AttributeError, OSError):
        raise UserError(f"broken {WRAPPER_FILE}", str(path)) from None
    if not isinstance(name, str):
        raise UserError(f"{WRAPPER_FILE} must name its wrapper", str(path))
    return name


def apply_wrapper(model: torch.nn.Module, folder: Path) -> torch.nn.Module:
    name = saved_wrapper(folder)
    if name is None or name in _VICTIM_WRAPPERS:
        return model
    if name not in _WRAPPERS:
        known = ", ".join(sorted(_WRAPPERS | _VICTIM_WRAPPERS)) or "none registered"
        raise UserError(f"the model is wrapped by {name!r}, which is not one of the wrappers this process knows "
                        f"({known}); load it through `python -m genoarmory` or import genoarmory.defenses first",
                        str(folder))
    return _WRAPPERS[name](model, Path(folder))


def apply_victim_wrapper(victim, folder: Path):
    """The victim inside the victim-level wrapper its folder names (unchanged for none or a model wrapper)."""
    name = saved_wrapper(folder)
    return victim if name not in _VICTIM_WRAPPERS else _VICTIM_WRAPPERS[name](victim, Path(folder))
