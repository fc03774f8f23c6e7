"""Recipes: each composes goal, threat model, transformation and search settings from conf/attack/*.yaml."""

from __future__ import annotations

from hydra.utils import get_method

from genoarmory.errors import UserError


def build_attack(victim, cfg):
    """`cfg.attack.recipe` names a `build(victim, cfg) -> AttackSpec` function."""
    try:
        build = get_method(str(cfg.attack.recipe))
    except Exception as err:
        raise UserError(f"attack {cfg.attack.name}: recipe {cfg.attack.recipe!r} cannot be imported ({err})") from None
    return build(victim, cfg)
