"""`python -m genoarmory attack model=... dataset=... attack=...`: attack a victim on a task.

Writes run_dir/records.jsonl (one AttackRecord per example, resumable), run_dir/config.yaml and
run_dir/summary.json, and prints a one-screen summary. With no arguments: the embedded default model on
the embedded default task. One process at a time per run_dir (a second one is told the folder is busy).
"""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from genoarmory.commands.common import seed_everything
from genoarmory.commands.hydra_entry import run_hydra
from genoarmory.config import plain_config
from genoarmory.data import evaluation_examples, load_task
from genoarmory.errors import UserError
from genoarmory.results import SUMMARY, run_lock, run_metadata, write_json_atomic
from genoarmory.summary import build_summary


def attack_victim(cfg: DictConfig, run_dir: Path, task, victim, examples) -> dict:
    """Run the configured attack on `victim` into run_dir (locked by the caller); returns the summary."""
    from genoarmory.attacks.run import attack_examples

    started = time.perf_counter()
    config = plain_config(cfg)
    meta = run_metadata(config, victim.device)
    records, check = attack_examples(cfg, victim, examples, run_dir, meta["config_hash"], task,
                                     OmegaConf.to_yaml(cfg, resolve=True))
    summary = build_summary(records, task.num_labels, config, meta, victim.info, check.describe())
    summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    write_json_atomic(run_dir / SUMMARY, summary)
    return summary


def attack(cfg: DictConfig, run_dir: Path) -> dict:
    from genoarmory.models.load import load_victim
    from genoarmory.report import print_summary

    seed_everything(int(cfg.seed))
    task = load_task(cfg)
    examples = evaluation_examples(cfg, task)
    if not examples:
        raise UserError(f"no examples selected from {cfg.dataset.name} (split {cfg.dataset.split}, shard {cfg.dataset.shard})")
    with run_lock(run_dir):
        victim = load_victim(cfg, task)
        summary = attack_victim(cfg, run_dir, task, victim, examples)
    print_summary(summary, run_dir)
    return summary


def main(argv: list[str]) -> int:
    return run_hydra("attack", argv, attack)
