"""`python -m genoarmory attack model=... dataset=... attack=...`: attack a victim on a task.

Writes run_dir/records.jsonl (one AttackRecord per example, resumable) and run_dir/summary.json, and
prints a one-screen summary. With no arguments: the embedded default model on the embedded default task.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from genoarmory.commands.common import plain_config, seed_everything
from genoarmory.commands.hydra_entry import run_hydra
from genoarmory.data import evaluation_examples, load_task
from genoarmory.errors import UserError
from genoarmory.results import RecordWriter, read_records, run_metadata, write_json_atomic, write_text_atomic
from genoarmory.summary import build_summary


def check_resumable(run_dir: Path, config_hash: str) -> None:
    """Refuse to append to records made under different settings (they would be mixed silently)."""
    old = read_records(run_dir / "records.jsonl")
    if old and old[0].get("config_hash") != config_hash:
        raise UserError(f"holds records of a different configuration (config_hash {old[0].get('config_hash')} "
                        f"!= {config_hash}); choose another run_dir or delete it", str(run_dir))


def attack_victim(cfg: DictConfig, run_dir: Path, task, victim, examples) -> dict:
    """Run the configured attack on `victim` into run_dir; returns the summary (defend reuses this)."""
    from genoarmory.attacks.engine import run_attack
    from genoarmory.attacks.recipes import build_attack

    victim.encoder.check_lengths(examples)
    spec = build_attack(victim, cfg)
    config = plain_config(cfg)
    meta = run_metadata(config, victim.device)
    check_resumable(run_dir, meta["config_hash"])
    with RecordWriter(run_dir) as writer:
        write_text_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        records = run_attack(spec, victim, examples, writer, int(cfg.seed), meta["config_hash"],
                             cfg.attack.get("parallel", "auto"), bool(cfg.progress))
    wanted = {e.id for e in examples}
    records = [r for r in records if r["id"] in wanted]
    summary = build_summary(records, task.num_labels, config, meta, victim.info)
    write_json_atomic(run_dir / "summary.json", summary)
    return summary


def attack(cfg: DictConfig, run_dir: Path) -> dict:
    from genoarmory.models.load import load_victim
    from genoarmory.report import print_summary

    seed_everything(int(cfg.seed))
    task = load_task(cfg)
    examples = evaluation_examples(cfg, task)
    if not examples:
        raise UserError(f"no examples selected from {cfg.dataset.name} (split {cfg.dataset.split}, shard {cfg.dataset.shard})")
    victim = load_victim(cfg, task)
    summary = attack_victim(cfg, run_dir, task, victim, examples)
    print_summary(summary, run_dir)
    return summary


def main(argv: list[str]) -> int:
    return run_hydra("attack", argv, attack)
