"""Our attacks against the best forward pass of the same victim, measured in the same run.

    python benchmarks/gpu_attack.py --out DIR [--victims nt2-500m,dnabert2,genomeocean-100m] [--n 512]
        [--runs bertattack:auto,textfooler:auto] [--compile off,auto] [--profile]
    python benchmarks/gpu_attack.py --out DIR --scale tiny --device cpu --n 12 --batches 16   # same code, tiny

Per victim (benchmarks/victims.py: random weights, real architectures and sizes), in one process:
(a) the ceiling: gpu_ceiling.ceiling — eager, SDPA, torch.compile and CUDA graphs at the attack's length,
    the best of them with its MFU; (b) each of our runs (attack:parallel) with `model.compile` off and
    `auto`, on the same `--n` sequences, against that best. A run's time is split by the spans the
    victim and the engine mark themselves (genoarmory/observe.py: tokenise and launch, wait for the GPU,
    float32 passes, masked-LM set-up, filters, self-checks, records); nothing is patched. `--profile`
    adds a short extra run of each attack (`--profile-n` sequences) under torch.profiler
    (DIR/profile_<victim>_<nt>nt_<attack>.txt; in the JSON its device-busy fraction and, from gpu_gaps.py,
    the GPU's idle time by what the host was doing meanwhile), whose
    `genoarmory.*` rows are the same spans. HyenaDNA is attacked with `random` and TextFooler at
    `--hyena-lengths` (no MLM: BERT-Attack would need one from another family).

The other parts: gpu_textattack.py (ours against TextAttack's search through the bridge), gpu_sharded.py
(`dataset.shard` processes sharing the GPU), gpu_backoff.py (out-of-memory back-off). Writes
DIR/attack_<victim>.json and prints one JSON row per run.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import victims as V  # noqa: E402
from gpu_ceiling import ceiling, triton_check  # noqa: E402
from gpu_gaps import device_gaps, device_work  # noqa: E402

from genoarmory.attacks import host_state  # noqa: E402
from genoarmory.attacks.engine import resolve_parallel, run_attack  # noqa: E402
from genoarmory.attacks.recipes import build_attack  # noqa: E402
from genoarmory.models.compiled import CompiledForward  # noqa: E402
from genoarmory.observe import Timings  # noqa: E402
from genoarmory.results import RecordWriter, Status, device_name  # noqa: E402

# Our runs: (attack, parallel). 'auto' is the product's default: 512 examples in flight on CUDA, 32 on CPU
# (engine.resolve_parallel).
OUR_RUNS = [("bertattack", "auto"), ("textfooler", "auto")]
HYENA_RUNS = [("random", "auto"), ("textfooler", "auto")]
PRODUCT_SWITCH_INTERVAL = host_state.LAUNCH_SWITCH_INTERVAL
PRODUCT_FULL_THRESHOLD = host_state.FULL_COLLECTION_THRESHOLD


def run_mode(mode: str) -> tuple[str, str, list[str]]:
    """A `--compile` entry `setting[@ms][+full|+nofull]` -> (setting, ms or '', options)."""
    head, *options = mode.split("+")
    setting, _, ms = head.partition("@")
    return setting, ms, options


def switch_ms(victim) -> float:
    """The GIL switch interval an attack on `victim` runs under now, in ms (host_state.quick_handoff)."""
    shortened = host_state.LAUNCH_SWITCH_INTERVAL if victim.launch_thread else None
    return round((shortened or sys.getswitchinterval()) * 1e3, 3)


class GcClock:
    """A gc callback: the seconds the run spent inside garbage collections, per generation (with the GIL
    held, so no thread ran Python meanwhile), and for each full collection what it met: the thread and the
    code that triggered it, the objects it walked (tracked, not frozen) and those frozen, what it freed."""

    def __init__(self):
        self.seconds = [0.0, 0.0, 0.0]
        self.full: list[dict] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        # looked at before the clock starts; listing the walked objects still adds to the run's wall time
        # (tens of ms for an unfrozen heap of a million objects, a few for a frozen one)
        if phase == "start" and info["generation"] == 2:
            stack = traceback.extract_stack()[:-1]
            self.full.append({"thread": threading.current_thread().name, "walked": len(gc.get_objects()),
                              "frozen": gc.get_freeze_count(),
                              "from": [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in stack[-6:]]})
        if phase == "start":
            self._started = time.perf_counter()
            return
        seconds = time.perf_counter() - self._started
        self.seconds[info["generation"]] += seconds
        if info["generation"] == 2:
            self.full[-1].update(seconds=round(seconds, 4), collected=info["collected"])

    def by_generation(self) -> list[float]:
        return [round(s, 4) for s in self.seconds]


def run_one(victim, cfg, examples, parallel, label: str, profile: Path | None = None,
            time_cap: float | None = None) -> dict:
    """One attack over `examples`, timed; its time split by the victim's and engine's own spans.
    `time_cap`: one example after another (TextAttack's way) until that many seconds, at least two."""
    spec = build_attack(victim, cfg)
    timings = Timings()
    victim.observer = timings
    profiler = None
    if profile is not None:
        from torch.profiler import ProfilerActivity

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if victim.device.type == "cuda" else [])
        # every thread's spans: by default only the starting thread's are recorded, so the launcher thread's
        # and the masked LM's work was missing from profiles before run 10b
        config = torch._C._profiler._ExperimentalConfig(profile_all_threads=True)
        profiler = torch.profiler.profile(activities=acts, experimental_config=config)
        profiler.__enter__()
    full = gc.get_stats()[2]["collections"]  # full garbage collections during the run (host_state.frozen_heap)
    tracked = len(gc.get_objects())
    collecting = GcClock()
    gc.callbacks.append(collecting)
    try:
        with tempfile.TemporaryDirectory() as tmp, RecordWriter(Path(tmp)) as writer, V.measured(victim) as m:
            if time_cap is None:
                run_attack(spec, victim, examples, writer, int(cfg.seed), "bench", parallel, False)
            else:
                done, start = 0, time.perf_counter()
                while done < len(examples) and (done < 2 or time.perf_counter() - start < time_cap):
                    done += 1
                    run_attack(spec, victim, examples[:done], writer, int(cfg.seed), "bench", parallel, False)
            records = list(writer.records)
    finally:
        gc.callbacks.remove(collecting)
        victim.observer = None
        if profiler is not None:
            profiler.__exit__(None, None, None)
    busy = gaps = None
    if profiler is not None:
        averages = profiler.key_averages()
        kernels = [e for e in averages if device_work(e)]  # not the GPU copies of our spans (gpu_gaps.py)
        device_us = sum(getattr(e, "self_device_time_total", 0) for e in kernels)
        busy = round(device_us / 1e6 / m["seconds"], 3) if victim.device.type == "cuda" else None
        gaps = device_gaps(profiler.events()) if victim.device.type == "cuda" else None
        sort = "self_cuda_time_total" if victim.device.type == "cuda" else "self_cpu_time_total"
        profile.write_text(f"{label}: {len(examples)} sequences\n\nby device time\n"
                           + averages.table(sort_by=sort, row_limit=30)
                           + "\n\nby host time (genoarmory.* rows: observe.py's spans)\n"
                           + averages.table(sort_by="cpu_time_total", row_limit=40))
    attacked = [r for r in records if r.status is not Status.SKIPPED]
    wins = [r for r in attacked if r.status is Status.SUCCESS]
    seconds = m["seconds"]
    split = timings.summary()
    inside = timings.caller_seconds()  # the caller's spans do not nest (observe.py)
    return {
        "attack": label, "examples": len(records), "attacked": len(attacked), "successes": len(wins),
        "asr": round(len(wins) / max(1, len(attacked)), 4), "seconds": round(seconds, 3),
        "sequences_per_s": round(len(records) / seconds, 4), "queries": m["queries"],
        "queries_per_s": round(m["queries"] / seconds, 1),
        "mean_batch": round(m["queries"] / max(1, m["forward_batches"]), 1),
        "queries_per_sequence": round(m["queries"] / max(1, len(records)), 1),
        "float32_sequences": timings.counts.get("victim.exact", 0),
        "full_collections": gc.get_stats()[2]["collections"] - full, "gc_seconds": collecting.by_generation(),
        "full_collections_met": collecting.full, "tracked_at_start": tracked,
        "peak_gpu_gib": m["peak_gpu_gib"], "time_split": split,
        "search_engine_python_s": round(seconds - inside, 3), "gpu_busy_fraction": busy,
        **({"device_gaps": gaps} if gaps is not None else {}),
        "parallel": resolve_parallel(parallel, victim), "final_victim_batch": victim.batch_size,
        "success_by_id": {r.id: r.status is Status.SUCCESS for r in records},
    }


def set_compile(bench: V.Bench, compiled: CompiledForward | None, query_model, mode: str) -> None:
    """model.compile=`mode` for the built victim; one CompiledForward per victim, so the graphs the ceiling
    compiled serve the attacks too (as one process of the product would keep them). Queries go through the
    product's `query_model`, or for `own` (compile off) through the model's own forward (DNABERT-2 before its
    padded query path). `mode@ms` also sets the GIL switch interval the attack runs under beside the launcher
    thread (host_state.LAUNCH_SWITCH_INTERVAL; `mode` alone: the product's)."""
    mode, ms, options = run_mode(mode)
    # +full: Python's own full-collection threshold in the loop; +nofull: none
    host_state.FULL_COLLECTION_THRESHOLD = (None if "full" in options else 1 << 30 if "nofull" in options
                                            else PRODUCT_FULL_THRESHOLD)
    host_state.LAUNCH_SWITCH_INTERVAL = float(ms) / 1e3 if ms else PRODUCT_SWITCH_INTERVAL
    victim = bench.victim
    victim.compiled = compiled if mode == "auto" else None
    victim.query_model = victim.model if mode == "own" else query_model


def bench_victim(name: str, args, device: torch.device, work: Path) -> dict:
    bench = V.build(name, args.scale, device, work, compile="auto")
    compiled, query_model = bench.victim.compiled, bench.victim.query_model
    modes = (["own"] if args.own_query and query_model is not bench.victim.model else []) + args.compile
    out = {"victim": name, "parameters": bench.parameters, "non_embedding_parameters": bench.non_embedding_parameters,
           "runs": []}
    if bench.arch == "dnabert2":  # issue 20: its Triton flash attention against its PyTorch path
        out["triton_check"] = triton_check(bench)
        print(f"[{name}] Triton check: {json.dumps(out['triton_check'])}", flush=True)
    lengths = args.hyena_lengths if bench.task is None else [None]
    runs = args.hyena_runs if bench.task is None else args.runs
    for length in lengths:
        n = args.n if length is None or length <= 4096 else args.long_n
        examples, out["head_centring"] = V.attacked_examples(bench, args.data, n, length)
        nt = int(np.median([len(e.sequence) for e in examples]))
        batches = args.batches if nt <= 4096 else [8, 32]
        set_compile(bench, compiled, query_model, "auto")
        ceil = ceiling(bench, nt, batches, args.ceiling_seconds, graphs=args.graphs, compiled=args.compiled_ceiling)
        out.setdefault("ceilings", []).append(ceil)
        print(f"[{name}] {nt} nt, {ceil['tokens']} tokens: ceiling {json.dumps(ceil['by_path'])}", flush=True)
        (args.out / f"attack_{name}.json").write_text(json.dumps(out, indent=1))
        for attack, parallel in runs:
            for mode in modes:
                set_compile(bench, compiled, query_model, mode)
                extra = [f"attack.query_budget={args.long_budget}"] if nt > 4096 else []
                cfg = V.compose_attack(bench, [f"attack={attack}", *extra], device, work / "cache",
                                       mlm=attack == "bertattack")
                label = f"{name}_{nt}nt_{attack}_p{parallel}_compile-{mode}"
                try:
                    r = run_one(bench.victim, cfg, examples, parallel, label)
                except Exception as err:  # device time is scarce: keep the other measurements
                    import traceback

                    traceback.print_exc()
                    r = {"attack": label, "error": f"{type(err).__name__}: {str(err)[:300]}"}
                own = bench.victim.query_model is bench.victim.model
                setting = run_mode(mode)[0]
                r.update({"length_nt": nt, "compile": "off" if setting == "own" else setting,
                          "switch_interval_ms": switch_ms(bench.victim),
                          "full_threshold": host_state.FULL_COLLECTION_THRESHOLD,
                          "query_path": "own" if own else "padded", "ceiling_q_per_s": ceil["queries_per_s"],
                          "ceiling_path": ceil["best_path"]})
                if "error" not in r:
                    r["over_best"] = round(r["queries_per_s"] / ceil["queries_per_s"], 3)
                    r["mfu"] = round(bench.mfu(ceil["tokens"], r["queries_per_s"]), 3)
                out["runs"].append(r)
                (args.out / f"attack_{name}.json").write_text(json.dumps(out, indent=1))
                print(json.dumps({k: v for k, v in r.items() if k not in ("success_by_id", "time_split")}),
                      flush=True)
        # a short extra run per attack under torch.profiler (its overhead stays out of the rows above)
        for attack, parallel in runs if args.profile else ():
            set_compile(bench, compiled, query_model, args.compile[-1])
            cfg = V.compose_attack(bench, [f"attack={attack}"], device, work / "cache", mlm=attack == "bertattack")
            label = f"{name}_{nt}nt_{attack}_compile-{args.compile[-1]}_profiled"
            try:
                row = run_one(bench.victim, cfg, examples[:args.profile_n], parallel, label,
                              args.out / f"profile_{name}_{nt}nt_{attack}.txt")
                row.pop("success_by_id")
                row["switch_interval_ms"] = switch_ms(bench.victim)
            except Exception as err:
                row = {"error": f"{type(err).__name__}: {str(err)[:300]}"}
            out.setdefault("profiled_runs", []).append(row)
            print(json.dumps({k: v for k, v in row.items() if k != "time_split"}), flush=True)
            (args.out / f"attack_{name}.json").write_text(json.dumps(out, indent=1))
    return out


def runs_arg(text: str) -> list[tuple[str, int | str]]:
    """'bertattack:auto,random:64' -> [('bertattack', 'auto'), ('random', 64)] (attack, examples in flight)."""
    return [(a, p if p == "auto" else int(p)) for a, p in (x.split(":") for x in text.split(","))]


def main(argv: list[str] | None = None) -> int:
    p = V.arguments(__doc__, "nt2-500m,dnabert2,genomeocean-100m")
    p.add_argument("--runs", type=runs_arg, default=OUR_RUNS)
    p.add_argument("--hyena-runs", type=runs_arg, default=HYENA_RUNS, help="HyenaDNA's runs (it has no MLM)")
    p.add_argument("--compile", type=lambda t: t.split(","), default=["off", "auto"],
                   help="model.compile settings to run each attack with (auto: CUDA only); setting@ms also runs it "
                   "under that GIL switch interval (e.g. auto@0.2); setting[@ms]+full or +nofull with Python's own "
                   "full-collection threshold in the loop or none (host_state.FULL_COLLECTION_THRESHOLD)")
    p.add_argument("--n", type=int, default=512, help="sequences per attack")
    p.add_argument("--hyena-lengths", type=lambda t: [int(x) for x in t.split(",")], default=[1000, 32000])
    p.add_argument("--long-n", type=int, default=4, help="sequences per attack over 4 kb")
    p.add_argument("--long-budget", type=int, default=256, help="query budget per sequence over 4 kb")
    p.add_argument("--batches", type=lambda t: [int(x) for x in t.split(",")], default=[1024, 4096])
    p.add_argument("--ceiling-seconds", type=float, default=1.0)
    p.add_argument("--no-graphs", dest="graphs", action="store_false", help="skip the CUDA-graphs ceiling")
    p.add_argument("--no-compiled-ceiling", dest="compiled_ceiling", action="store_false",
                   help="skip the torch.compile ceiling (NT's first compile takes minutes); the row says so")
    p.add_argument("--profile", action="store_true", help="also run each attack under torch.profiler")
    p.add_argument("--profile-n", type=int, default=64, help="sequences per profiled run")
    p.add_argument("--own-query", action="store_true",
                   help="also run each attack (compile off) through the model's own forward where the product's "
                        "bf16 queries take another path (DNABERT-2: families.query_module)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    meta = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "device": device_name(device),
            "versions": V.versions(), "argv": sys.argv[1:], "cpu_count": os.cpu_count()}
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1))
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.victims.split(","):
            try:
                bench_victim(name, args, device, Path(tmp))
            except Exception:  # record it and go on to the next victim
                import traceback

                traceback.print_exc()
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
