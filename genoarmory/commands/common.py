"""Small pieces every Hydra command shares: the resolved config, seeding, loading task and victim."""

from __future__ import annotations

import random

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from genoarmory.data import Task, load_task


def plain_config(cfg: DictConfig) -> dict:
    """The composed config as plain data, for summary.json and config hashing."""
    return OmegaConf.to_container(cfg, resolve=True)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def task_and_victim(cfg: DictConfig) -> tuple[Task, "Victim"]:  # noqa: F821
    from genoarmory.models.load import load_victim

    task = load_task(cfg)
    return task, load_victim(cfg, task)
