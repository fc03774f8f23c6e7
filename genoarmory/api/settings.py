"""A config built the way the command line builds it, from Python values: config groups (`model=local`)
through Hydra's composition, then dotted settings set as values (no quoting through the override grammar,
so any path or name works), then the same schema check as every command (config_schema.py)."""

from __future__ import annotations

from genoarmory.errors import UserError


def override_value(value) -> str:
    """A Python value as Hydra override text (for the few settings that must be composed, e.g. groups)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_config(command: str, groups: list[str], settings: dict, overrides: list[str] = ()):
    """compose `command` with `groups` and `overrides` (Hydra strings), set `settings` ({dotted key: value})
    on it, check it. A key the config does not have is refused, as `+key=value` would be on the command line."""
    from omegaconf import OmegaConf, open_dict

    from genoarmory.config_check import check_config
    from genoarmory.config_compose import compose_checked

    cfg = compose_checked(command, [*groups, *overrides], check=False)
    with open_dict(cfg):
        for key, value in settings.items():
            if OmegaConf.select(cfg, key, default="<missing>") == "<missing>":
                raise UserError(f"{key}: unknown key (no such setting in the {command} config)")
            OmegaConf.update(cfg, key, value, merge=False)
    check_config(command, cfg)
    return cfg
