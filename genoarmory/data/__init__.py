"""Tasks: every dataset config names a loader (`_target_`) that returns a `Task`."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from genoarmory.data.example import Example, Task
from genoarmory.data.select import select_examples
from genoarmory.errors import UserError

__all__ = ["Example", "Task", "load_task", "evaluation_examples", "select_examples"]


def load_task(cfg: DictConfig) -> Task:
    """Instantiate `cfg.dataset.loader` with the run-wide settings it may need."""
    import inspect

    from genoarmory.config import cache_dir, is_offline, own_callable
    from genoarmory.sequence import POLICIES

    if cfg.sequence.policy not in POLICIES:
        raise UserError(f"sequence.policy={cfg.sequence.policy!r}: choose one of {', '.join(POLICIES)}")
    if cfg.sequence.too_long not in ("error", "truncate"):
        raise UserError(f"sequence.too_long={cfg.sequence.too_long!r}: choose error or truncate")
    loader_cfg = dict(cfg.dataset.loader)
    target = loader_cfg.pop("_target_")
    fn = own_callable(target, "loader")
    offered = {
        "data_root": Path(str(cfg.data_root)),
        "policy": cfg.sequence.policy,
        "cache_dir": cache_dir(cfg),
        "offline": is_offline(cfg),
    }
    accepted = inspect.signature(fn).parameters
    kwargs = {k: v for k, v in offered.items() if k in accepted and k not in loader_cfg}
    return fn(**loader_cfg, **kwargs)


def evaluation_examples(cfg: DictConfig, task: Task) -> list[Example]:
    """The examples a command evaluates or attacks: dataset.split, seeded dataset.limit, dataset.shard."""
    d = cfg.dataset
    return select_examples(task.split(d.split), d.get("limit"), d.get("seed", 0), d.get("shard"))
