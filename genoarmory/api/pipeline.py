"""The attack path every entry shares: the `attack` command, `genoarmory.attack()` and the defenses' re-attack.

`attack_run` runs the configured attack on a victim over examples into a run folder (records.jsonl,
config.yaml, summary.json) under the task's label check (attack.preserve; attacks/run.py), and returns the
summary with the records; `attack_configured` is the `attack` command itself: the composed config's task,
examples and victim.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np

from genoarmory.config import plain_config
from genoarmory.data import evaluation_examples, load_task
from genoarmory.errors import UserError
from genoarmory.results import SUMMARY, AttackRecord, run_lock, run_metadata, write_json_atomic
from genoarmory.summary import build_summary


def seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def attack_run(cfg, run_dir: Path, task, victim, examples) -> tuple[dict, list[AttackRecord]]:
    """Run the configured attack on `victim` into run_dir (locked by the caller): (summary, records)."""
    from omegaconf import OmegaConf

    from genoarmory.attacks.run import attack_examples

    started = time.perf_counter()
    config = plain_config(cfg)
    meta = run_metadata(config, victim.device)
    records, check = attack_examples(cfg, victim, examples, run_dir, meta["config_hash"], task,
                                     OmegaConf.to_yaml(cfg, resolve=True))
    summary = build_summary(records, task.num_labels, config, meta, victim.info, check.describe())
    skipped = (task.info.get("skipped") or {}).get(str(cfg.dataset.split))
    if skipped:  # sequences the policy dropped from the attacked split (GUE's published N bases)
        summary["dataset"]["skipped_sequences"] = skipped
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    write_json_atomic(Path(run_dir) / SUMMARY, summary)
    return summary, records


def attack_victim(cfg, run_dir: Path, task, victim, examples) -> dict:
    """`attack_run`'s summary (what `defend` compares)."""
    return attack_run(cfg, run_dir, task, victim, examples)[0]


USER_DATA_LOADERS = ("genoarmory.data.fasta.load_fasta_task", "genoarmory.data.csv_tasks.load_user_csv")


def check_own_model(cfg) -> None:
    """Your own sequences (FASTA, CSV) need your own model: never silently train the embedded tiny model on
    them and report its robustness as if it were a model of yours."""
    if cfg.dataset.loader.get("_target_") in USER_DATA_LOADERS and cfg.model.family == "tiny" \
            and not cfg.model.get("path"):
        raise UserError(f"dataset={cfg.dataset.name} is your own data: attacking it needs model.path=DIR (a model "
                        "trained on it, e.g. by `python -m genoarmory train model=tiny-6mer dataset=... `)")


def checked_engine(victim, cfg, task, examples):
    """The engine victim of an API `Victim` for `task`, after refusing an empty selection or a label-count
    mismatch (the two mistakes an in-memory call can make that a composed config cannot)."""
    if not examples:
        raise UserError(f"no examples selected from {task.name} (split {cfg.dataset.split})")
    engine = victim.engine(cfg, task)
    if engine.num_labels != task.num_labels:
        raise UserError(f"the model has {engine.num_labels} labels but the task has {task.num_labels}")
    return engine


def selected_examples(cfg):
    """(task, examples) a command attacks: the configured task (checked to come with a model of the user's
    when it is the user's data), seeded, its selected examples (never none)."""
    check_own_model(cfg)
    seed_everything(int(cfg.seed))
    task = load_task(cfg)
    examples = evaluation_examples(cfg, task)
    if not examples:
        raise UserError(f"no examples selected from {cfg.dataset.name} (split {cfg.dataset.split}, shard {cfg.dataset.shard})")
    return task, examples


def attack_configured(cfg, run_dir: Path) -> dict:
    """The `attack` command: the configured task's selected examples, attacked on the configured victim."""
    from genoarmory.models.load import load_victim
    from genoarmory.report import print_summary

    task, examples = selected_examples(cfg)
    with run_lock(run_dir):
        victim = load_victim(cfg, task)
        summary = attack_victim(cfg, run_dir, task, victim, examples)
    print_summary(summary, run_dir)
    return summary
