"""CPU cost of attacking HyenaDNA (and DNABERT-2) through their own code, as sequences grow from 1 kb to 32 kb.

    GENOARMORY_SHARED=/path/to/shared python benchmarks/long_context_cpu.py [--family hyenadna|dnabert2]
        [--lengths 1000,2000,4000,8000,16000,32000] [--queries 16] [--batch 4] [--threads 1]

Builds a random-weight checkpoint of the REAL architecture and size from ../shared/fixtures/hf/*-remote-code
(HyenaDNA-small-32k: d_model 256, 4 layers; DNABERT-2-117M: 12 layers, width 768), then for each length, in a
fresh process (so its peak memory is its own): a random-mutation attack (the engine, the victim, the real
query path) on 2 random sequences with a query budget, and plain batched forward passes. Prints one JSON line
per length: seconds per query of the attack and of the forward, and peak resident memory. Weights are random:
these are costs, not ASRs. Nothing here is a pass/fail threshold.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GENOARMORY_SHARED") or REPO.parent / "shared")
CODE = {"hyenadna": ("hyenadna-small", "fixtures/hf/hyenadna-small-32k-remote-code", "char"),
        "dnabert2": ("dnabert2", "fixtures/hf/dnabert2-117m-remote-code", "bpe")}


def build(family: str, out: Path) -> Path:
    from genoarmory.models.families.checkpoints import build_dnabert2, build_hyenadna

    code = SHARED / CODE[family][1]
    if not code.is_dir():
        sys.exit(f"{code} absent: set GENOARMORY_SHARED to the folder holding fixtures/hf")
    return (build_hyenadna if family == "hyenadna" else build_dnabert2)(code, out)  # the config's real size


def measure(family: str, folder: Path, length: int, queries: int, batch: int) -> dict:
    import numpy as np
    import torch

    from genoarmory.attacks.engine import run_attack
    from genoarmory.attacks.recipes import build_attack
    from genoarmory.data.example import Example
    from genoarmory.models.encoding import SequenceEncoder
    from genoarmory.models.load import load_classifier
    from genoarmory.models.victim import Victim
    from genoarmory.results import RecordWriter
    from genoarmory.testing import compose

    name, _, tokenization = CODE[family]
    cfg = compose([f"model={name}", f"model.path={folder}", "model.trust_remote_code=true", "attack=random",
                   f"attack.query_budget={queries}", "device=cpu", f"model.max_length={length + 2}"])
    model, tok = load_classifier(folder, 2, trust_remote_code=True)
    victim = Victim(model, SequenceEncoder(tok, tokenization, length + 2), name, "cpu", batch)
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(2)]
    labels = victim.predict_proba(seqs).argmax(1)
    examples = [Example(f"x{i}", s, int(y), {}) for i, (s, y) in enumerate(zip(seqs, labels))]
    victim.queries = 0
    with tempfile.TemporaryDirectory() as tmp, RecordWriter(Path(tmp)) as writer:
        start = time.perf_counter()
        run_attack(build_attack(victim, cfg), victim, examples, writer, 0, "bench", 1, False)
        attack_seconds = time.perf_counter() - start
    attack_queries = victim.queries
    flip = {"A": "C", "C": "G", "G": "T", "T": "A"}  # `batch` one-substitution candidates, as an attack sends
    batch_seqs = [seqs[0][:i] + flip[seqs[0][i]] + seqs[0][i + 1:] for i in range(batch)]
    start = time.perf_counter()
    with torch.inference_mode():
        victim.logits(batch_seqs)
    forward_seconds = time.perf_counter() - start
    return {"family": family, "length_nt": length, "tokens": len(victim.token_spans(seqs[0])),
            "threads": torch.get_num_threads(), "attack_queries": attack_queries,
            "attack_s_per_query": round(attack_seconds / max(1, attack_queries), 4),
            "forward_batch": batch, "forward_s_per_query": round(forward_seconds / batch, 4),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=sorted(CODE), default="hyenadna")
    parser.add_argument("--lengths", default="1000,2000,4000,8000,16000,32000")
    parser.add_argument("--queries", type=int, default=16, help="query budget per attacked sequence")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # "folder,length": the child process's job
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.one:
        folder, length = args.one.rsplit(",", 1)
        print(json.dumps(measure(args.family, Path(folder), int(length), args.queries, args.batch)), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("HF_MODULES_CACHE", str(Path(tmp) / "modules"))
        folder = build(args.family, Path(tmp) / f"{args.family}-random")
        for length in (int(x) for x in args.lengths.split(",")):
            out = subprocess.run([sys.executable, __file__, "--family", args.family, "--queries", str(args.queries),
                                  "--batch", str(args.batch), "--threads", str(args.threads),
                                  "--one", f"{folder},{length}"], capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(args.threads)})
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
            print(lines[-1] if lines else json.dumps({"length_nt": length, "error": out.stderr.strip()[-400:]}),
                  flush=True)


if __name__ == "__main__":
    main()
