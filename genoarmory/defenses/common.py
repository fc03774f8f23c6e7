"""What every defense shares: the clean classifier to start from, its training settings and data,
adversarial training examples made by the attack engine, and the defended model's HF-layout folder.

A defense is a function `train(ctx) -> Defended` named by `defense.trainer` in conf/defense/*.yaml.
It changes the loss of a step or the examples of the one fine-tuning loop (genoarmory.models.training),
never the loop.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from omegaconf import DictConfig, OmegaConf

from genoarmory.data import Example, Task, select_examples
from genoarmory.models.encoding import SequenceEncoder
from genoarmory.config import config_hash, plain_config
from genoarmory.results import RECORDS


@dataclass
class DefenseContext:
    cfg: DictConfig
    task: Task
    clean_folder: Path               # HF folder of the undefended classifier
    model: torch.nn.Module           # a trainable float copy of it (never quantized)
    tokenizer: object
    encoder: SequenceEncoder
    device: torch.device
    run_dir: Path

    @property
    def seed(self) -> int:
        return int(self.cfg.seed)

    @property
    def dev(self) -> list[Example] | None:
        return self.task.splits.get("dev")

    @property
    def progress(self) -> bool:
        return bool(self.cfg.progress)


@dataclass
class Defended:
    """What a defense hands back: the HF classifier saved as run_dir/model, facts for the summary, and
    optionally a writer of defense-specific files into that folder (ADFAR's detection head)."""

    classifier: torch.nn.Module
    info: dict = field(default_factory=dict)
    save_extra: Callable[[Path], None] | None = None


def load_context(cfg: DictConfig, task: Task, run_dir: Path, device: torch.device) -> DefenseContext:
    from genoarmory.models.load import load_model

    loaded = load_model(cfg, task)  # the embedded tiny model is trained and cached here on first use
    return DefenseContext(cfg, task, loaded.folder, loaded.model.to(device), loaded.tokenizer, loaded.encoder,
                          device, run_dir)


def training_hash(cfg: DictConfig) -> str:
    """What defines the defended weights (not the evaluation subset, quantization or the baseline run)."""
    config = plain_config(cfg)
    config["model"].pop("quantize", None)
    config["model"].pop("rc", None)
    config["defense"].pop("baseline_run", None)
    for key in ("split", "limit", "seed", "shard"):
        config["dataset"].pop(key, None)
    config.pop("batch_size", None)
    return config_hash(config)


def train_config(cfg: DictConfig) -> DictConfig:
    """train.*, then the model's own model.train.*, then the defense's non-null train.* (fewer epochs:
    a defense starts from a trained model)."""
    own = {k: v for k, v in OmegaConf.to_container(cfg.defense.get("train") or {}, resolve=True).items()
           if v is not None}
    return OmegaConf.merge(cfg.train, cfg.model.get("train") or {}, own)


def clean_examples(ctx: DefenseContext) -> list[Example]:
    """The clean training examples a defense keeps: a seeded subset of `defense.max_clean` (null = all)."""
    chosen = select_examples(ctx.task.split("train"), ctx.cfg.defense.get("max_clean"), ctx.seed)
    ctx.encoder.check_lengths(chosen)
    return chosen


def adversarial_examples(ctx: DefenseContext, model: torch.nn.Module, out_dir: Path,
                         fresh: bool = False) -> tuple[list[Example], dict]:
    """Attack a seeded subset of `defense.n_adversarial` training examples with the configured attack,
    through the one attack pipeline (under the task's label check), writing its records to out_dir; returns
    the label-preserving successes as examples with their TRUE labels, and counts. `fresh` starts over (the model changed since the records were
    written: a later round of adversarial training); otherwise a rerun resumes them (they were made
    against the same clean model)."""
    from genoarmory.attacks.run import attack_examples
    from genoarmory.models.victim import Victim

    cfg = ctx.cfg
    pool = select_examples(ctx.task.split("train"), int(cfg.defense.n_adversarial), ctx.seed)
    was_training = model.training
    victim = Victim(model, ctx.encoder, cfg.model.name, ctx.device, cfg.batch_size,
                    {"name": cfg.model.name, "path": str(ctx.clean_folder)})  # path: bertattack finds mlm/ beside it
    digest = config_hash({"training": training_hash(cfg), "generated_for": str(out_dir.name)})
    if fresh:  # scratch records of this defense's own earlier round, against a model that no longer exists
        (out_dir / RECORDS).unlink(missing_ok=True)
    records, check = attack_examples(cfg, victim, pool, out_dir, digest, ctx.task)
    model.train(was_training)
    # only successes that kept the true label: a label-changing "success" is a correct example with the
    # wrong label, and training on it teaches the model the wrong biology
    kept = [r for r in records if r.succeeded and r.label_preserved is not False]
    adversarial = [Example(f"{r.id}/adv", r.adv_sequence, int(r.label), {"adversarial_of": r.id}) for r in kept]
    attacked = sum(r.attacked for r in records)
    stats = {"pool": len(pool), "attacked": attacked, "adversarial": len(adversarial),
             "label_changed_dropped": sum(r.succeeded and r.label_preserved is False for r in records),
             "label_check": check.describe(),
             "train_asr": len(adversarial) / attacked if attacked else 0.0, "records": str(out_dir)}
    return adversarial, stats


def save_defended(ctx: DefenseContext, defended: Defended, folder: Path) -> None:
    """run_dir/model in HF layout (safetensors); the masked LM beside the clean model (a tiny model's, or
    any model.path folder's mlm/) is copied beside it as mlm/, so BERT-Attack proposes from the same MLM
    before and after the defense."""
    from genoarmory.models.saving import save_pretrained

    save_pretrained(defended.classifier, ctx.tokenizer, folder)
    if defended.save_extra is not None:
        defended.save_extra(folder)
    mlm = ctx.clean_folder.parent / "mlm"
    if mlm.is_dir():
        shutil.copytree(mlm, folder.parent / "mlm", dirs_exist_ok=True)
