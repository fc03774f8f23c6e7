"""Recipes: each composes goal, threat model, transformation and search settings from conf/attack/*.yaml."""

from __future__ import annotations

from genoarmory.config import own_callable


def build_attack(victim, cfg):
    """`cfg.attack.recipe` names a `build(victim, cfg) -> AttackSpec` function (one of GenoArmory's own)."""
    return own_callable(cfg.attack.recipe, "recipe")(victim, cfg)
