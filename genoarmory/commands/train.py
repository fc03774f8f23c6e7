"""`python -m genoarmory train model=... dataset=...`: fine-tune a classifier on a task.

Writes run_dir/model/ (HF layout, safetensors: loads with AutoTokenizer /
AutoModelForSequenceClassification and no project code) and run_dir/metrics.json
(accuracy, f1, mcc, n_test on the test split); tiny models also run_dir/mlm/. A run_dir that already
holds a trained model is refused unless `overwrite=true`; the new model is trained in a staging folder
and moved in only when complete (metrics.json last), so a failed or killed run leaves the old one whole.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from omegaconf import DictConfig

from genoarmory.api.pipeline import seed_everything
from genoarmory.commands.hydra_entry import run_hydra
from genoarmory.config import plain_config
from genoarmory.data import load_task
from genoarmory.results import run_lock, run_metadata, write_json_atomic
from genoarmory.results.files import staged_outputs

OUTPUTS = ("model", "mlm", "metrics.json")  # metrics.json last: it says the run finished


def train_hf(cfg: DictConfig, task, out: Path, device) -> dict:
    """Fine-tune a hub / local HF checkpoint on the task with the shared loop."""
    from genoarmory.models.load import load_model
    from genoarmory.models.saving import save_pretrained
    from genoarmory.models.training import evaluate, fine_tune

    loaded = load_model(cfg, task)
    model, tokenizer, encoder = loaded.model, loaded.tokenizer, loaded.encoder
    for split in task.splits.values():
        encoder.check_lengths(split)
    started = time.perf_counter()
    history = fine_tune(model, encoder, task.split("train"), cfg.train, device, int(cfg.seed),
                        dev=task.splits.get("dev"), progress=bool(cfg.progress))
    metrics = {**evaluate(model, encoder, task.split("test"), device),
               "train_seconds": round(time.perf_counter() - started, 2), **history}
    save_pretrained(model, tokenizer, out / "model")
    return metrics


def train(cfg: DictConfig, run_dir: Path) -> dict:
    from genoarmory.models.victim import pick_device

    seed_everything(int(cfg.seed))
    task = load_task(cfg)
    for split in task.splits:  # read (and check) every split now, before anything is written
        task.split(split)
    device = pick_device(cfg.device)
    with run_lock(run_dir), staged_outputs(run_dir, OUTPUTS, bool(cfg.overwrite)) as staging:
        if cfg.model.family == "tiny":
            from genoarmory.models.tiny import train_tiny

            metrics = train_tiny(cfg, task, staging, device)
        else:
            metrics = train_hf(cfg, task, staging, device)
        skipped = {k: v for k, v in (task.info.get("skipped") or {}).items() if v}
        if skipped:  # sequences the policy dropped (GUE's published N bases), per split
            metrics["skipped_sequences"] = skipped
            print(f"genoarmory: skipped sequences with ambiguous bases: {skipped}")
        write_json_atomic(staging / "metrics.json", {**metrics, **run_metadata(plain_config(cfg), device)})
    print(json.dumps({k: metrics[k] for k in ("accuracy", "f1", "mcc", "n_test", "train_seconds")}))
    print(f"genoarmory: model saved to {run_dir / 'model'}")
    return metrics


def main(argv: list[str]) -> int:
    return run_hydra("train", argv, train)
