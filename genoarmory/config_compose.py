"""Compose a command's config the way Hydra does (its compose API and override grammar), check it against
the schema (config_schema.py), and turn Hydra's composition errors into one line with the fix: the group's
options and the closest one ("model=dnabert: no such option; did you mean dnabert2?")."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from genoarmory.config import CONF_DIR
from genoarmory.config_check import check_config
from genoarmory.errors import UserError

if TYPE_CHECKING:
    from omegaconf import DictConfig


def group_options(group: str) -> list[str]:
    """Every option of a config group, nested ones as paths (dataset: motif/tata, gue/EMP/H3, ...); bases
    (_threat, _selection) are not options."""
    root = CONF_DIR / group
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.yaml")
                  if not any(part.startswith("_") for part in p.relative_to(root).parts))


def option_hint(group: str, option: str) -> str:
    """'; did you mean X? (options: ...)' for `group=option`: the closest option (case-insensitive, or the
    closest spelling), listed with its siblings when options are nested (gue/EMP/H3 beside gue/EMP/*)."""
    import difflib

    from genoarmory.errors import suggest

    options = group_options(group)
    lowered = {o.lower(): o for o in options}
    best = lowered.get(option.lower()) or next(iter(difflib.get_close_matches(option, options, n=1, cutoff=0.6)), None)
    if best is None:
        best = next(iter(difflib.get_close_matches(option.lower(), list(lowered), n=1, cutoff=0.6)), None)
        best = lowered.get(best) if best else None
    folder = best.rpartition("/")[0] if best else option.rpartition("/")[0]
    shown_ = [o for o in options if o.rpartition("/")[0] == folder] if folder and best else options
    if not folder:
        shown_ = [o for o in options if "/" not in o] + sorted({o.split("/")[0] + "/..." for o in options if "/" in o})
    listed = suggest(best or option, shown_, f"{group} options")
    return listed


def composition_error(err: Exception) -> UserError:
    """Hydra's own error for a command line it cannot compose, as one line (its first line, plus the
    options of a group when it lists them, or the override it could not parse)."""
    from hydra.errors import OverrideParseException

    text = str(err).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    first = lines[0] if lines else type(err).__name__
    if isinstance(err, OverrideParseException):
        first = f"cannot parse the override {err.override!r}: {first} (Hydra's override grammar)"
    missing = re.search(r"Could not find '([^']+)'", text)
    if missing and "/" in missing.group(1):
        group, _, option = missing.group(1).partition("/")
        if (CONF_DIR / group).is_dir():
            return UserError(f"{group}={option}: no such option{option_hint(group, option)}")
    if "Available options" in text:
        start = next(i for i, line in enumerate(lines) if line.startswith("Available options"))
        options = []
        for line in lines[start + 1:]:
            if line.startswith("Config search path"):
                break
            if not line.startswith("_"):  # _threat, _selection: bases, not options
                options.append(line)
        first += f"; available: {', '.join(options)}"
    elif "To append to your config use +" in text:
        first = first.rstrip(".") + " (no such key here)"
    return UserError(first.replace("\n", " "))


def compose_checked(command: str, overrides: list[str], return_hydra_config: bool = False,
                    check: bool = True) -> DictConfig:
    """The config of `command` composed with `overrides` (Hydra's compose API and override grammar) and,
    with `check`, checked against the schema; any problem is one UserError line."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from genoarmory.config import implied_overrides, register_resolvers

    register_resolvers()
    if GlobalHydra.instance().is_initialized():  # left by an earlier Hydra app in this process
        GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3", job_name=command):
            cfg = compose(command, overrides=implied_overrides(overrides),
                          return_hydra_config=return_hydra_config)
    except Exception as err:  # Hydra's ConfigCompositionException, OverrideParseException, ...
        raise composition_error(err) from None
    if check:
        check_config(command, cfg)
    return cfg
