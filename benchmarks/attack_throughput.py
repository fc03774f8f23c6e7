"""Attack throughput against the victim's own batched-forward ceiling, side by side in one run.

    python benchmarks/attack_throughput.py [hydra overrides...]      # default: the embedded default attack

Prints sequences/s and queries/s of the attack (queries = sequences the victim actually evaluated,
cache hits excluded), the mean batch the engine sent, and the raw `inference_mode` forward rate of the
same victim on sequences of the same length at that batch size and at the victim's full batch size.
Runs on CPU or CUDA (device=cuda); nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from genoarmory.attacks.engine import run_attack
from genoarmory.attacks.recipes import build_attack
from genoarmory.data import evaluation_examples, load_task
from genoarmory.models.load import load_victim
from genoarmory.results import RecordWriter, device_name
from genoarmory.testing import compose  # the CLI's own composition, without a Hydra run


def forward_rate(victim, length: int, batch: int, seconds: float = 3.0) -> float:
    """Sequences/s of plain batched inference (no cache, no attack logic), after a warm-up."""
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(batch)]
    with torch.inference_mode():
        victim.logits(seqs)
        if victim.device.type == "cuda":
            torch.cuda.synchronize()
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            victim.logits(seqs)
            n += batch
        if victim.device.type == "cuda":
            torch.cuda.synchronize()
    return n / (time.perf_counter() - start)


def measure(overrides: list[str]) -> dict:
    cfg = compose(overrides)
    task = load_task(cfg)
    examples = evaluation_examples(cfg, task)
    victim = load_victim(cfg, task)
    spec = build_attack(victim, cfg)
    with tempfile.TemporaryDirectory() as tmp, RecordWriter(Path(tmp)) as writer:
        start = time.perf_counter()
        records = run_attack(spec, victim, examples, writer, int(cfg.seed), "bench",
                             int(cfg.attack.get("parallel", 32)), False)
        seconds = time.perf_counter() - start
    mean_batch = victim.queries / max(1, victim.forward_batches)
    length = int(np.median([len(e.sequence) for e in examples]))
    attacked = [r for r in records if r["status"] != "skipped"]
    out = {
        "overrides": overrides, "device": device_name(victim.device), "threads": torch.get_num_threads(),
        "model": cfg.model.name, "attack": cfg.attack.name, "dataset": cfg.dataset.name, "examples": len(examples),
        "asr": sum(r["status"] == "success" for r in attacked) / max(1, len(attacked)),
        "attack_seconds": round(seconds, 2), "sequences_per_s": round(len(examples) / seconds, 2),
        "queries": victim.queries, "queries_per_s": round(victim.queries / seconds, 1),
        "mean_batch": round(mean_batch, 1),
        "forward_per_s_at_mean_batch": round(forward_rate(victim, length, max(1, round(mean_batch))), 1),
        "forward_per_s_at_full_batch": round(forward_rate(victim, length, victim.batch_size), 1),
    }
    out["attack_over_ceiling"] = round(out["queries_per_s"] / out["forward_per_s_at_full_batch"], 3)
    return out


if __name__ == "__main__":
    result = measure(sys.argv[1:] or [])
    print(json.dumps(result, indent=2))
