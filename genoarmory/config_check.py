"""Checking a composed config against the schema (config_schema.py): one line per problem, with its key path.

A `_target_` node is checked against its function's own signature (a new loader or part needs no schema
entry); an unknown key names the keys its node has; a value that came from an interpolation is named by the
interpolation, never by what it resolved to (an error line never prints an environment variable's value).
"""

from __future__ import annotations

import inspect
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from genoarmory.config import ALLOWED
from genoarmory.config_schema import (ATTACKS, COMMANDS, DATASETS, DEFENSES, MODELS, RECIPES, Dataset, NoDefense, Node,
                                      _int, _num)
from genoarmory.errors import UserError


def _where(loc: tuple, prefix: str) -> str:
    return ".".join([prefix, *(str(p) for p in loc)] if prefix else [str(p) for p in loc])


def _describe(model: type[Node]) -> str:
    return ", ".join(f.alias or name for name, f in model.model_fields.items())


def _error_line(err: dict, prefix: str, model: type[Node], data) -> str:
    key = _where(err["loc"], prefix)
    if err["type"] == "extra_forbidden":
        owner = model
        for part_ in err["loc"][:-1]:  # the node the unknown key was added to
            field = owner.model_fields.get(str(part_))
            kinds = (field.annotation, *typing.get_args(field.annotation)) if field is not None else ()
            owner = next((k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel)), None)
            if owner is None:
                break
        known = f" (known keys: {_describe(owner)})" if owner is not None else ""
        return f"{key}: unknown key{known}"
    if err["type"] == "missing":
        return f"{key}: missing (it is required here)"
    return f"{key}={err.get('input')!r}: expected {err['msg']}" if err["type"] == "genoarmory" else f"{key}: {err['msg']}"


def _check(model: type[Node], data, prefix: str) -> tuple[Node | None, list[str]]:
    if not isinstance(data, dict):
        return None, [f"{prefix}={data!r}: expected a mapping of settings"]
    try:
        return model.model_validate(data), []
    except ValidationError as err:
        return None, [_error_line(e, prefix, model, data) for e in err.errors()]


def signature_errors(node, role: str, prefix: str, offered: tuple[str, ...]) -> list[str]:
    """A `_target_` node: an allow-listed function of `role`, given only parameters its signature has (and
    all it requires but `offered`, which the caller passes); annotated parameters are type-checked.
    The function's signature is the schema of its node, so a new loader or part needs no entry here."""
    if not isinstance(node, dict):
        return [f"{prefix}={node!r}: expected a mapping with a _target_"]
    target = node.get("_target_")
    if not _named(target, ALLOWED[role]):
        return [f"{prefix}._target_={target!r}: expected one of GenoArmory's own {role}s "
                f"({', '.join(sorted(ALLOWED[role]))}); configs cannot name other code"]
    from genoarmory.config import own_callable

    fn = own_callable(target, role)
    params = {k: p for k, p in inspect.signature(fn).parameters.items() if k not in offered or role == "loader"}
    given = {k: v for k, v in node.items() if k not in ("_target_", "_partial_")}
    takes = ", ".join(params) or "no settings"
    errors = [f"{prefix}.{k}: unknown key ({target.rsplit('.', 1)[-1]} takes: {takes})"
              for k in given if k not in params]
    errors += [f"{prefix}.{name}: missing (it is required here)" for name, p in params.items()
               if p.default is inspect.Parameter.empty and name not in given and name not in offered]
    hints = typing.get_type_hints(fn)
    for key, value in given.items():
        if key in hints and key in params and not _fits(hints[key], value):
            errors.append(f"{prefix}.{key}={value!r}: expected {_type_text(hints[key])}")
    return errors


# what data.load_task passes to a loader itself when the loader takes it (a config may also set them)
LOADER_OFFERED = ("data_root", "policy", "cache_dir", "offline")
PART_OFFERED = ("victim", "cfg")  # what a recipe passes to every part


def _parts(attack: dict) -> list[str]:
    """The attack's `_target_` parts (transformation, candidate_filter, transformations.<name>)."""
    nodes = {f"attack.{k}": attack[k] for k in ("transformation", "candidate_filter") if isinstance(attack.get(k), dict)}
    table = attack.get("transformations")
    nodes.update({f"attack.transformations.{k}": v for k, v in (table.items() if isinstance(table, dict) else ())})
    errors = []
    for where, node in nodes.items():
        role = "filter" if where == "attack.candidate_filter" else "transformation"
        errors += signature_errors(node, role, where, PART_OFFERED)
    return errors


def _fits(hint, value) -> bool:
    """Does `value` (plain YAML data) fit the loader parameter's annotation?"""
    from pathlib import Path

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_fits(a, value) for a in args)
    if hint is type(None):
        return value is None
    if origin in (list, tuple):
        return isinstance(value, list) and (not args or all(_fits(args[0], v) for v in value))
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return _int(value)
    if hint is float:
        return _num(value)
    if hint is str or hint is Path:
        return isinstance(value, str)
    return True  # an annotation plain YAML data cannot be checked against: the loader checks it


def _type_text(hint) -> str:
    if isinstance(hint, type):
        return {"int": "an integer", "float": "a number", "str": "a string", "bool": "true or false"}.get(
            hint.__name__, hint.__name__)
    return str(hint).replace("typing.", "").replace("NoneType", "null").replace("pathlib.", "")


def _named(value, table) -> bool:
    """`value` is a key of `table` (a value from the command line may be a list or a mapping: never a key)."""
    return isinstance(value, str) and value in table


def schema_errors(command: str, config: dict) -> tuple[list[str], dict]:
    """(one line per problem, the normalised values to write back as {dotted key: value})."""
    config = {k: v for k, v in config.items() if k != "hydra"}
    top, errors = _check(COMMANDS[command], config, "")
    found: dict[str, Node] = {"": top} if top is not None else {}
    if command in ("train", "attack", "defend", "certify", "corrupt"):
        model = config.get("model") if isinstance(config.get("model"), dict) else {}
        family = model.get("family")
        if not _named(family, MODELS):
            errors.append(f"model.family={family!r}: expected one of {' | '.join(MODELS)}")
        else:
            found["model"], more = _check(MODELS[family], model, "model")
            errors += more
        dataset = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
        loader = dataset.get("loader")
        target = loader.get("_target_") if isinstance(loader, dict) else None
        found["dataset"], more = _check(DATASETS[target] if _named(target, DATASETS) else Dataset, dataset, "dataset")
        errors += more + signature_errors(loader, "loader", "dataset.loader", LOADER_OFFERED)
    if command in ("attack", "defend"):
        attack = config.get("attack") if isinstance(config.get("attack"), dict) else {}
        recipe = attack.get("recipe")
        if not _named(recipe, ATTACKS):
            errors.append(f"attack.recipe={recipe!r}: expected one of GenoArmory's own recipes "
                          f"({', '.join(sorted(ATTACKS))}); configs cannot name other code")
        else:
            found["attack"], more = _check(ATTACKS[recipe], attack, "attack")
            errors += more + (_parts(attack) if not more else [])
            if not more and recipe == RECIPES + "textattack_search.build":
                errors += _picked(attack, "search", "searches") + _picked(attack, "transformation", "transformations")
    if command in ("defend", "certify"):
        defense = config.get("defense") if isinstance(config.get("defense"), dict) else {}
        trainer = defense.get("trainer")
        model_ = (NoDefense if trainer is None and set(defense) <= {"name"}
                  else DEFENSES[trainer] if _named(trainer, DEFENSES) else None)
        if model_ is None:
            errors.append(f"defense.trainer={trainer!r}: expected one of GenoArmory's own trainers "
                          f"({', '.join(sorted(DEFENSES))}); configs cannot name other code")
        else:
            found["defense"], more = _check(model_, defense, "defense")
            errors += more
    return errors, _normalised(found, config) if not errors else {}


def _picked(attack: dict, key: str, table: str) -> list[str]:
    if _named(attack[key], attack[table]):
        return []
    return [f"attack.{key}={attack[key]!r}: expected one of {' | '.join(attack[table])} (attack.{table})"]


def _normalised(found: dict[str, Node], config: dict) -> dict:
    """Dotted keys whose checked value differs in type from the composed one (offline -> bool, numbers
    given for names -> strings): the values the caller writes back."""
    changes: dict[str, Any] = {}

    def walk(checked, raw, path):
        if isinstance(checked, dict) and isinstance(raw, dict):
            for k, v in checked.items():
                if k in raw:
                    walk(v, raw[k], f"{path}.{k}" if path else k)
        elif type(checked) is not type(raw) and not isinstance(raw, (dict, list)):
            changes[path] = checked

    for prefix, node in found.items():
        dumped = node.model_dump(by_alias=True, exclude_unset=True)
        walk(dumped, config.get(prefix) if prefix else config, prefix)
    return changes


def check_config(command: str, cfg) -> None:
    """Check a composed DictConfig for `command`; normalise `offline` and textual values in place.
    Raises one UserError naming the first problem (and how many more there are)."""
    from omegaconf import OmegaConf, open_dict

    from genoarmory.config import plain_config

    with open_dict(cfg):
        hydra_node = cfg.pop("hydra", None)  # Hydra's own settings (compose with return_hydra_config)
    try:
        plain = plain_config(cfg)
    except Exception as err:  # an interpolation that cannot resolve (e.g. ${oc.env:...} of a bad name)
        raise UserError(f"the config does not resolve: {str(err).splitlines()[0]}") from None
    finally:
        if hydra_node is not None:
            with open_dict(cfg):
                cfg.hydra = hydra_node
    errors, changes = schema_errors(command, plain)
    if errors:
        errors = _hide_resolved(errors, OmegaConf.to_container(cfg, resolve=False))
        more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise UserError(errors[0] + more)
    with open_dict(cfg):
        for key, value in changes.items():
            OmegaConf.update(cfg, key, value, merge=False)


def _hide_resolved(errors: list[str], raw: dict) -> list[str]:
    """An error about a value that came from an interpolation (`model.name=${oc.env:HOME}`) names the
    interpolation, not what it resolved to: an error line never prints an environment variable's value."""
    out = []
    for line in errors:
        key = line.split("=", 1)[0] if "=" in line.split(":", 1)[0] else None
        node = raw
        for part_ in (key or "").split("."):
            node = node.get(part_) if isinstance(node, dict) else None
        if key and isinstance(node, str) and "${" in node:
            line = f"{key} (from {node[:80]!r}): expected{line.split(': expected', 1)[1]}" if ": expected" in line \
                else f"{key} (from {node[:80]!r}): not allowed"
        out.append(line)
    return out
