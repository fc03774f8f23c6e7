"""The host's own cost per query: the searches' and the engine's Python, with a victim whose scores cost ~nothing.

    python benchmarks/host_cost.py [--attacks bertattack,random] [--n 400] [--repeats 3]

On the ~100M-parameter victims the best forward pass takes 14-18 µs per query on an H200, and run 10's time
splits put the calling thread's own Python at 13-24 µs per query for BERT-Attack (RESULTS.md run 10): the host,
not the GPU, sets their pace. This measures that floor apart from any model: the embedded default's attacks,
with the lock-step engine as on CUDA (two lanes, 512 examples in flight, the masked LM's tables made up front and
not timed), against a victim whose logits are a cheap function of the token ids (a stand-in for the forward pass,
so the searches walk, succeed and stop as usual). Queries are counted as the product counts them. A
TextFooler run here would time its similarity filter's encoder passes too, so it is not among the defaults.

Each attack runs `--repeats` times in each of four states of the garbage collector, alternating: the product
(`host_state.frozen_heap`: the objects alive at the start kept out of the collector's walks, and full collections
ten times rarer inside the loop), the heap frozen with no automatic full collection in the loop, the heap frozen
with Python's threshold, and Python's own collector. It reports the full (generation-2) collections each run met
(the product's include its own at the end, of the attack's objects) and the objects they freed. `--late-heap N`
first makes N objects after an early partial freeze, as the H200's process has them (other code froze 375 objects;
compiled code came later).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from conftest import compose, embedded_default  # noqa: E402

from genoarmory.attacks import host_state  # noqa: E402
from genoarmory.attacks.engine import run_attack  # noqa: E402
from genoarmory.attacks.recipes import build_attack  # noqa: E402
from genoarmory.models.victim import Victim  # noqa: E402
from genoarmory.results import RecordWriter  # noqa: E402


class FreeScores(Victim):
    """Logits from a weighted sum of the token ids (mod 7): microseconds for a whole batch, deterministic."""

    def logits(self, sequences: list[str], exact: bool = False) -> torch.Tensor:
        ids = self.encoder.encode(sequences, self.device)["input_ids"].float()
        score = (ids * torch.arange(ids.shape[1])).sum(1) % 7
        return torch.stack([score, 7 - score], 1)


# name: (FREEZE_HEAP, FULL_COLLECTION_THRESHOLD)
HEAP_STATES = {"product": (True, host_state.FULL_COLLECTION_THRESHOLD), "frozen, none in the loop": (True, 1 << 30),
               "frozen, Python's threshold": (True, None), "Python's own": (False, None)}


def one_run(attack: str, victim: FreeScores, examples, state: str = "product") -> dict:
    """One attack over `examples` with the collector in `state` (HEAP_STATES)."""
    spec = build_attack(victim, compose([f"dataset.limit={len(examples)}", f"attack={attack}"]))
    tables = getattr(spec.transformation, "prepare_many", None)
    if tables is not None:  # BERT-Attack: its masked-LM tables up front, batched as on CUDA, not timed
        spec.transformation.batched = True
        tables([e.sequence for e in examples])
    victim.clear_cache()
    victim.queries = 0
    full, freed = gc.get_stats()[2]["collections"], gc.get_stats()[2]["collected"]
    host_state.FREEZE_HEAP, host_state.FULL_COLLECTION_THRESHOLD = HEAP_STATES[state]
    try:
        with tempfile.TemporaryDirectory() as tmp, RecordWriter(Path(tmp)) as writer:
            start = time.perf_counter()
            records = run_attack(spec, victim, examples, writer, 0, "host_cost", 512, False, lanes=2)
            seconds = time.perf_counter() - start
    finally:
        host_state.FREEZE_HEAP, host_state.FULL_COLLECTION_THRESHOLD = HEAP_STATES["product"]
    return {"attack": attack, "heap": state,
            "full_collections": gc.get_stats()[2]["collections"] - full,
            "freed_by_full_collections": gc.get_stats()[2]["collected"] - freed,
            "examples": len(records), "successes": sum(r.succeeded for r in records),
            "queries": victim.queries, "seconds": round(seconds, 3),
            "us_per_query": round(seconds / max(1, victim.queries) * 1e6, 1),
            "us_per_example": round(seconds / max(1, len(records)) * 1e6, 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--attacks", type=lambda t: t.split(","), default=["bertattack", "random"])
    p.add_argument("--n", type=int, default=400, help="examples of the embedded default")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--late-heap", type=int, default=300_000, help="objects made after an early partial freeze")
    args = p.parse_args(argv)
    _, _, model_victim, examples = embedded_default(args.n)
    victim = FreeScores(model_victim.model, model_victim.encoder, model_victim.name, "cpu", info=model_victim.info)
    gc.freeze()  # as on the H200: a few objects frozen early, the bulk of the heap made later
    late_heap = [{} for _ in range(args.late_heap)]
    # side by side, alternating: the product and the collector's other states
    rows = [one_run(attack, victim, examples, state) for attack in args.attacks for _ in range(args.repeats)
            for state in HEAP_STATES]
    del late_heap
    print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
