"""The best forward pass this stack offers, per victim, side by side: the ceiling attacks are measured against.

    python benchmarks/gpu_ceiling.py --out DIR [--victims nt2-500m,dnabert2,genomeocean-100m] [--batches 1024,4096]
    python benchmarks/gpu_ceiling.py --out DIR --scale tiny --device cpu --batches 16    # same code, tiny models

On random sequences of the task's median length, pre-tokenised on the device (the model alone), bf16
autocast on CUDA, swept over batch sizes:
- `eager`: HF's eager attention (the same weights: `victims.eager_twin`);
- `sdpa`: PyTorch's scaled-dot-product attention, as the product loads built-in architectures;
- `compiled`: `torch.compile` as `model.compile=auto` runs it (models/compiled.py: length bucket, dynamic batch);
- `cudagraphs`: `torch.compile(mode="reduce-overhead")` at one fixed shape (CUDA graphs; the best batch only;
  victims under 200M parameters, where host launch cost matters);
- `strings`: through `Victim.logits` from strings (tokenisation included), with and without compile.
Remote-code victims (DNABERT-2, HyenaDNA) have their own attention: no `eager`/`sdpa`, but `own` (their code's path);
DNABERT-2 also `padded` (its layers without unpadding: what the product's bf16 queries run, families.query_module),
which is also what its `compiled` and `cudagraphs` rows compile.
Each row gives queries/s and MFU (2 x non-embedding parameters x tokens x q/s over 790 TFLOP/s).

DNABERT-2 also gets `triton_check` (issue 20): whether its Triton flash-attention kernel compiles on this
Triton, and where it does, its predictions against the PyTorch path's on the same padded batch.
`ceiling()` is what gpu_attack.py calls; this script writes DIR/ceiling_<victim>.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import victims as V  # noqa: E402

from genoarmory.models.compiled import CompiledForward  # noqa: E402
from genoarmory.models.victim import CudaInference  # noqa: E402


GRAPHS_BELOW = 200e6  # parameters: CUDA graphs pay where host launch cost matters (the ~100M victims)
LONG_BATCHES = [8, 32]  # batch sizes for sequences over 4 kb (HyenaDNA at 32 kb: 17 GiB at 32, issue 20)


def random_sequences(n: int, length: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


def _autocast(device: torch.device):
    return CudaInference(torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)


def rate(fn, device: torch.device, batch: int, seconds: float) -> float:
    """Sequences/s of `fn()` (one forward of `batch` sequences) after two warm-up calls."""
    with torch.inference_mode(), _autocast(device):
        fn()
        fn()
        V.sync(device)
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds or n == 0:
            fn()
            n += batch
            if n % (batch * 4) == 0:
                V.sync(device)  # keep the host's clock honest without a sync per pass
        V.sync(device)
    return n / (time.perf_counter() - start)


def forwards(bench: V.Bench, encoded: dict, eager, compiled: bool = True) -> dict:
    """name -> callable running one forward of `encoded` through that path (`compiled=False`: no
    torch.compile path, for victims whose first compile would take minutes of scarce device time)."""
    victim = bench.victim
    ids, mask = encoded["input_ids"], encoded["attention_mask"]
    kwargs = {"input_ids": ids} | ({"attention_mask": mask} if victim._takes_mask and mask is not None else {})
    own = "own" if getattr(victim.model.config, "auto_map", None) else "sdpa"  # remote code: its own attention
    out = {own: lambda: victim.model(**kwargs).logits}
    if victim.query_model is not victim.model:  # DNABERT-2's queries: its layers on the padded batch
        out["padded"] = lambda: victim.query_model(**kwargs).logits
    if eager is not None:
        out["eager"] = lambda: eager(**kwargs).logits
    if victim.device.type == "cuda" and compiled:
        forward = victim.compiled or CompiledForward(victim.query_model, victim.encoder, victim._takes_mask)
        out["compiled"] = lambda: forward(ids, mask)
    return out


def cudagraph_rate(bench: V.Bench, encoded: dict, batch: int, seconds: float) -> float:
    """torch.compile(mode='reduce-overhead'): CUDA graphs replayed at this one shape."""
    model = bench.victim.query_model  # what the product's bf16 queries run through
    graphed = torch.compile(model, mode="reduce-overhead", dynamic=False)
    kwargs = {"input_ids": encoded["input_ids"]}
    if bench.victim._takes_mask:
        kwargs["attention_mask"] = encoded["attention_mask"]
    return rate(lambda: graphed(**kwargs).logits, bench.victim.device, batch, seconds)


def ceiling(bench: V.Bench, length: int, batches: list[int], seconds: float, graphs: bool = True,
            compiled: bool = True) -> dict:
    """Every path at every batch size until out-of-memory; the best overall, with its MFU (`compiled`,
    `graphs`: whether the torch.compile and CUDA-graphs paths are among them; a row says which were)."""
    victim, device = bench.victim, bench.victim.device
    eager = V.eager_twin(victim.model)
    tokens = len(victim.token_spans(random_sequences(1, length)[0]))
    rows = []
    for batch in batches:
        seqs = random_sequences(batch, length)
        encoded = victim.encoder.encode(seqs, device)
        row: dict = {"batch": batch}
        try:
            for name, fn in forwards(bench, encoded, eager, compiled).items():
                start = time.perf_counter()
                try:
                    row[name] = round(rate(fn, device, batch, seconds), 1)
                except torch.OutOfMemoryError:
                    raise
                except Exception as err:  # one path failing (a compile) leaves the others measured
                    row[f"{name}_error"] = f"{type(err).__name__}: {str(err)[:200]}"
                    continue
                if name == "compiled":
                    row["compiled_first_seconds"] = round(time.perf_counter() - start - seconds, 1)
                    failed = getattr(victim.compiled, "failed", None)
                    if failed:
                        row["compiled_fell_back_to_eager"] = failed
            row["strings"] = round(rate(lambda: victim.logits(seqs), device, batch, seconds), 1)
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            row["oom"] = True
            rows.append(row)
            break
        rows.append(row)
    paths = [k for k in ("eager", "sdpa", "own", "padded", "compiled") if any(k in r for r in rows)]
    ok = [r for r in rows if "oom" not in r]
    best_by_path = {p: max(ok, key=lambda r: r.get(p, 0)) for p in paths}
    out = {"length_nt": length, "tokens": tokens, "sweep": rows, "compiled_measured": compiled and device.type == "cuda",
           "by_path": {p: {"batch": r["batch"], "queries_per_s": r[p],
                           "mfu": round(bench.mfu(tokens, r[p]), 3)} for p, r in best_by_path.items()}}
    out["graphs_measured"] = graphs and device.type == "cuda" and bench.parameters < GRAPHS_BELOW
    if out["graphs_measured"]:
        best_batch = max(ok, key=lambda r: max(r.get(p, 0) for p in paths))["batch"]
        try:
            encoded = victim.encoder.encode(random_sequences(best_batch, length), device)
            q = round(cudagraph_rate(bench, encoded, best_batch, seconds), 1)
            out["by_path"]["cudagraphs"] = {"batch": best_batch, "queries_per_s": q,
                                            "mfu": round(bench.mfu(tokens, q), 3)}
        except Exception as err:  # reported: the other paths still count
            out["cudagraphs_error"] = f"{type(err).__name__}: {str(err)[:200]}"
    best = max(out["by_path"], key=lambda p: out["by_path"][p]["queries_per_s"])
    out["best_path"] = best
    out["queries_per_s"] = out["by_path"][best]["queries_per_s"]
    out["best_batch"] = out["by_path"][best]["batch"]
    out["mfu"] = out["by_path"][best]["mfu"]
    del eager
    return out


def triton_check(bench: V.Bench, length: int = 101, n: int = 64) -> dict:
    """DNABERT-2 only: does its Triton flash attention compile here, and does it predict what the PyTorch
    path predicts (bf16 tolerance) on the same right-padded batch of mixed lengths?"""
    from genoarmory.models.families.dnabert2 import KERNEL, attention_module, kernel_problem

    module = attention_module(bench.victim.model)
    source = sys.modules.get(module.__name__.rsplit(".", 1)[0] + ".flash_attn_triton")
    kernel = getattr(source, KERNEL, None) if source is not None else None
    if bench.victim.device.type != "cuda":
        return {"checked": False, "why": "the Triton kernel runs on CUDA only"}
    if kernel is None:
        return {"checked": False, "why": "the Triton kernel did not import (no triton?)"}
    heads = int(bench.victim.model.config.num_attention_heads)
    problem = kernel_problem(kernel, heads, int(bench.victim.model.config.hidden_size) // heads,
                             bench.victim.device)
    if problem is not None:
        return {"checked": False, "kernel_compiles": False, "problem": problem}
    rng = np.random.default_rng(3)
    seqs = [s[: int(rng.integers(length // 2, length + 1))] for s in random_sequences(n, length, seed=3)]
    saved = getattr(module, KERNEL, None)
    probs = {}
    try:
        for path, fn in (("triton", kernel), ("pytorch", None)):
            setattr(module, KERNEL, fn)
            with torch.inference_mode():
                probs[path] = torch.softmax(bench.victim.logits(seqs).float(), -1).cpu().numpy()
    finally:
        setattr(module, KERNEL, saved)
    diff = np.abs(probs["triton"] - probs["pytorch"])
    return {"checked": True, "kernel_compiles": True, "sequences": n,
            "max_abs_prob_diff": round(float(diff.max()), 5),
            "same_argmax": float((probs["triton"].argmax(1) == probs["pytorch"].argmax(1)).mean()),
            "within_bf16_tolerance": bool(diff.max() <= 2e-2)}


def main(argv: list[str] | None = None) -> int:
    p = V.arguments(__doc__, "nt2-500m,dnabert2,genomeocean-100m")
    p.add_argument("--batches", type=lambda t: [int(x) for x in t.split(",")], default=[1024, 4096])
    p.add_argument("--lengths", type=lambda t: [int(x) for x in t.split(",")], default=None,
                   help="nt; default: the task's median (HyenaDNA: 1000,32000)")
    p.add_argument("--seconds", type=float, default=1.0)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.victims.split(","):
            bench = V.build(name, args.scale, device, Path(tmp))
            lengths = args.lengths or ([1000, 32000] if bench.task is None else
                                       [int(np.median([len(e.sequence) for e in
                                                       V.load_examples(args.data, bench.task, 256)]))])
            result = {"victim": name, "device": str(device), "versions": V.versions(),
                      "parameters": bench.parameters, "non_embedding_parameters": bench.non_embedding_parameters,
                      "ceilings": [ceiling(bench, n, args.batches if n <= 4096 else LONG_BATCHES, args.seconds)
                                   for n in lengths]}
            if bench.arch == "dnabert2":
                result["triton_check"] = triton_check(bench)
            (args.out / f"ceiling_{name}.json").write_text(json.dumps(result, indent=1))
            print(json.dumps({"victim": name, **{f"{c['length_nt']}nt": c["by_path"] for c in result["ceilings"]},
                              "triton_check": result.get("triton_check")}), flush=True)
            del bench
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
