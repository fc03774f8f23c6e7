"""The composed config as data: plain dicts, the config hash, the run-wide settings read in one place,
and the only way a name in a config becomes code.

- `plain_config(cfg)`: the resolved config as plain data (summary.json, config.yaml, hashing).
- `config_hash(config)`: hash of the settings that define a result (paths and run-location keys left out).
- `is_offline(cfg)`, `cache_dir(cfg)`: read once here, so every module agrees (`offline` is a bool).
- `own_callable(dotted, role)`: a `_target_`, `recipe` or `trainer` names a function; only GenoArmory's
  own functions registered for that role are ever imported (`ALLOWED`), whatever a config, a command
  line or a file says. A name outside the list is a UserError, never an import.
- `load_saved_config(path)`: a config.yaml read back from a run folder is data. It is parsed with a
  safe YAML loader, any `${...}` interpolation in it is refused (no resolver — `oc.env` or another —
  ever runs on a file someone handed you), and every `_target_`/`recipe`/`trainer` in it must pass
  `own_callable`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from genoarmory.errors import UserError, located
from genoarmory.naming import folder_label, hub_label, own_name

# Hydra's configs: one primary config per command (attack.yaml, train.yaml, ...) and the groups; package
# data, so an installed wheel has them too
CONF_DIR = Path(__file__).resolve().parent / "conf"

# Settings that say where a run lives or how it shows progress, not what it computes.
LOCAL_KEYS = ("run_dir", "overwrite", "data_root", "cache_dir", "offline", "progress", "hydra")

# role -> the functions a config may name for it (dotted paths, exactly as conf/ writes them)
ALLOWED: dict[str, frozenset[str]] = {
    "loader": frozenset({
        "genoarmory.data.motif.make_motif_task",
        "genoarmory.data.gue.load_gue",
        "genoarmory.data.fasta.load_fasta_task",
        "genoarmory.data.csv_tasks.load_csv_task",
        "genoarmory.data.csv_tasks.load_user_csv",
        "genoarmory.genoadv.load.load_genoadv_task",
    }),
    "recipe": frozenset({
        "genoarmory.attacks.recipes.bertattack.build",
        "genoarmory.attacks.recipes.textfooler.build",
        "genoarmory.attacks.recipes.random_mutation.build",
        "genoarmory.attacks.recipes.fimba.build",
        "genoarmory.attacks.recipes.pgd.build",
        "genoarmory.attacks.recipes.textattack_search.build",
    }),
    "trainer": frozenset({
        "genoarmory.defenses.at.train",
        "genoarmory.defenses.freelb.train",
        "genoarmory.defenses.adfar.train",
        "genoarmory.defenses.smoothing.train",
    }),
    "transformation": frozenset({  # attack.transformation(s): what proposes candidate edits
        "genoarmory.attacks.recipes.parts.mlm_proposals",
        "genoarmory.attacks.recipes.parts.embedding_neighbours",
        "genoarmory.attacks.recipes.parts.base_substitution",
        "genoarmory.attacks.recipes.parts.random_base",
    }),
    "filter": frozenset({  # attack.candidate_filter: what a candidate must also pass
        "genoarmory.attacks.recipes.parts.encoder_similarity",
    }),
    "search": frozenset({  # TextAttack's search methods, for the bridge
        "textattack.search_methods.GreedyWordSwapWIR",
        "textattack.search_methods.BeamSearch",
        "textattack.search_methods.AlzantotGeneticAlgorithm",
        "textattack.search_methods.ParticleSwarmOptimization",
    }),
}
TARGET_KEYS = {"_target_": None, "recipe": "recipe", "trainer": "trainer"}


def plain_config(cfg) -> dict:
    """The composed config as plain data, for summary.json and config hashing."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True)


# TextAttack's recipe names (and spellings users type) -> conf/attack/<name>.yaml
ATTACK_ALIASES = {"bert-attack": "bertattack", "bert_attack": "bertattack", "bertattacklietal2020": "bertattack",
                  "text-fooler": "textfooler", "text_fooler": "textfooler", "textfoolerjin2019": "textfooler",
                  "random-mutation": "random", "random_mutation": "random"}


def _alias(override: str) -> str:
    key, sep, value = override.partition("=")
    if sep and key.lstrip("+~") == "attack":
        return f"{key}={','.join(ATTACK_ALIASES.get(v.strip().lower(), v) for v in value.split(','))}"
    return override


def implied_overrides(overrides) -> list[str]:
    """The command line with what it implies made explicit: `model.path=DIR` with no `model=` group named
    loads the folder as itself (`model=local`: family, tokenization and name read from the folder) rather
    than as the default tiny model; TextAttack's recipe names (`attack=bert-attack`) name ours."""
    overrides = [_alias(o) for o in overrides]
    keys = {o.split("=", 1)[0].lstrip("+~") for o in overrides if "=" in o}
    if "model.path" in keys and "model" not in keys:
        return ["model=local", *overrides]
    return overrides


def _model_name(path, hub_id) -> str:
    """conf/model/local.yaml's name: the folder's (or hub repository's) own name (naming.py)."""
    if path not in (None, "", "None"):
        return own_name(path)
    return hub_label(hub_id) if hub_id not in (None, "", "None") else "local"


def _data_name(path) -> str:
    """conf/dataset/csv.yaml's name: the file's stem or the folder's name."""
    if path in (None, "", "None"):
        return "csv"
    path = Path(str(path)).expanduser()
    return path.stem if path.suffix.lower() == ".csv" else folder_label(path)


def register_resolvers() -> None:
    """The resolvers conf/ uses for names read from the user's own files (model=local, dataset=csv)."""
    from omegaconf import OmegaConf

    for name, fn in (("ga_model_name", _model_name), ("ga_data_name", _data_name)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


# settings added after runs existed: at these values a config hashes as it did before them, so an earlier
# run folder still resumes (its records are exactly these settings' records)
NEUTRAL_WHEN = {"attack": {"edits": "substitution", "length": "keep", "max_edit_distance": None}}


def config_hash(config: dict) -> str:
    keep = {k: v for k, v in config.items() if k not in LOCAL_KEYS}
    for group, defaults in NEUTRAL_WHEN.items():
        if isinstance(keep.get(group), dict):
            keep[group] = {k: v for k, v in keep[group].items() if k not in defaults or v != defaults[k]}
    return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


def as_bool(value, key: str) -> bool:
    """A config switch: true/false (YAML), 1/0, yes/no, on/off (environment variables)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", "", "none", "null"):
        return False
    raise UserError(f"{key}={value!r}: expected true or false")


def is_offline(cfg) -> bool:
    return as_bool(cfg.get("offline", False), "offline")


def cache_dir(cfg=None) -> Path:
    """cache_dir from the config, else GENOARMORY_CACHE, else ~/.cache/genoarmory (the one default)."""
    if cfg is not None and cfg.get("cache_dir") not in (None, ""):
        return Path(str(cfg.cache_dir)).expanduser()
    env = os.environ.get("GENOARMORY_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genoarmory"


def own_callable(dotted: str, role: str):
    """The function `dotted` names, if it is one of GenoArmory's own for `role` (see ALLOWED)."""
    from hydra.utils import get_method

    dotted = str(dotted)
    if dotted not in ALLOWED[role]:
        allowed = ", ".join(sorted(ALLOWED[role]))
        raise UserError(f"{role} {dotted!r} is not one of GenoArmory's own {role}s ({allowed}); "
                        "configs cannot name other code")
    try:
        return get_method(dotted)
    except Exception as err:  # Hydra wraps import errors in its own types
        raise UserError(f"{role} {dotted!r} cannot be imported ({err})") from None


def own_partial(node, role: str):
    """A `_target_`/`_partial_` node (`_partial_: true`) as functools.partial of the function it names,
    which must be one of GenoArmory's own for `role`; its other keys are plain settings. Nothing nested
    is instantiated (Hydra's `instantiate` would build any `_target_` found inside the settings)."""
    from functools import partial

    from omegaconf import DictConfig, OmegaConf

    settings = OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else dict(node)
    fn = own_callable(settings.pop("_target_", None), role)
    if settings.pop("_partial_", False) is not True:
        raise UserError(f"{role} node {node!r} needs `_partial_: true` (the recipe supplies the victim)")
    return partial(fn, **settings)


def _role(key: str, path: str) -> str:
    if key != "_target_":
        return TARGET_KEYS[key]
    if path.startswith("dataset.loader"):
        return "loader"
    if path.startswith("attack.searches"):
        return "search"
    if path.startswith("attack.transformation"):  # attack.transformation and attack.transformations.<name>
        return "transformation"
    if path.startswith("attack.candidate_filter"):
        return "filter"
    return "any"


MAX_CONFIG_VALUES = 20_000  # a composed config holds a few hundred values; YAML aliases can make billions


def check_data(node: Any, where: str, path: str = "") -> None:
    """Refuse interpolations and foreign targets anywhere in a config read from a file (see module note)."""
    count = 0

    def walk(node: Any, path: str) -> None:
        nonlocal count
        count += 1
        if count > MAX_CONFIG_VALUES:  # `a: &a [*b, *b, ...]` chains: refused, not walked for hours
            raise UserError(f"holds over {MAX_CONFIG_VALUES} values (YAML aliases?): too large to be a config", where)
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{path}.{key}" if path else str(key)
                if key in TARGET_KEYS and (key == "_target_" or here in ("attack.recipe", "defense.trainer")):
                    role = _role(str(key), here)
                    if role == "any" or str(value) not in ALLOWED[role]:
                        raise UserError(f"{here}={str(value)[:80]!r} names code that is not one of GenoArmory's own; "
                                        "a saved config is data and is refused", where)
                walk(value, here)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")
        elif isinstance(node, str) and "${" in node:
            raise UserError(f"{path} holds an interpolation ({node[:60]!r}); a saved config is data and "
                            "interpolations in it are refused", where)

    try:
        walk(node, path)
    except RecursionError:
        raise UserError("nested too deeply to be a config", where) from None


def load_saved_config(path: str | Path) -> dict:
    """A run folder's config.yaml as checked plain data (see the module note)."""
    import yaml

    path = Path(path)
    if path.is_symlink():
        raise UserError("is a symbolic link; run folders must hold their own config", str(path))
    try:
        # libyaml's safe loader when built in (same tags as yaml.safe_load, ~10x faster), else PyYAML's
        data = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except FileNotFoundError:
        raise UserError("no config.yaml (not a finished run folder)", str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read ({err})", str(path)) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise UserError(f"not valid YAML ({getattr(err, 'problem', err)})",
                        located(path, mark.line + 1 if mark else None)) from None
    except RecursionError:
        raise UserError("nested too deeply to be a config", str(path)) from None
    if not isinstance(data, dict):
        raise UserError("a config must be a mapping", str(path))
    check_data(data, str(path))
    return data


def data_config(data: dict):
    """Plain config data as a DictConfig that never resolves anything (interpolations were refused)."""
    from omegaconf import OmegaConf

    return OmegaConf.create(data, flags={"allow_objects": False})


_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]*$")


def safe_part(name: str, what: str) -> str:
    """`name` when it can be one component of a path under a folder we own (no '/', no '..', no
    absolute path, no interpolation left over); else a UserError naming `what` (the config key)."""
    text = str(name)
    if not _SAFE.match(text) or text in (".", "..") or len(text) > 200:
        raise UserError(f"{what}={text!r} cannot be used in a file name: use letters, digits and . _ + = @ - "
                        "(no '/', no '..', at most 200 characters)")
    return text


def safe_parts(name: str, what: str) -> list[str]:
    """A name that may hold '/' (a task such as motif/tata): each part must be a `safe_part`."""
    return [safe_part(p, what) for p in str(name).split("/")]
