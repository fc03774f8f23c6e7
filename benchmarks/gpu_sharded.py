"""An attack split over processes as `dataset.shard=i/n` jobs would run it, all sharing one GPU.

    python benchmarks/gpu_sharded.py --out DIR [--victims dnabert2,genomeocean-100m] [--processes 4] [--n 1000]

Each process builds the same victim (same seed, same head centring, same labels: benchmarks/victims.py) and
attacks its shard `i::n` of the same sequences; the clock starts when every process is built and warmed, and
stops when the last shard ends. One JSON row per victim and attack; DIR/sharded.json. On N GPUs the shards
would not share a device: gpu_attack.py's one-process rate per GPU is the per-shard rate there.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import victims as V  # noqa: E402

from genoarmory.attacks.engine import run_attack  # noqa: E402
from genoarmory.attacks.recipes import build_attack  # noqa: E402
from genoarmory.results import RecordWriter, Status  # noqa: E402


def _worker(name: str, scale: str, device: str, data: str, n: int, attack: str, shard: int, shards: int,
            barrier, results) -> None:
    work = Path(tempfile.mkdtemp())
    bench = V.build(name, scale, torch.device(device), work)
    mine = V.attacked_examples(bench, Path(data), n)[0][shard::shards]
    cfg = V.compose_attack(bench, [f"attack={attack}"], torch.device(device), work / "cache",
                           mlm=attack == "bertattack")
    spec = build_attack(bench.victim, cfg)
    bench.victim.clear_cache()
    bench.victim.queries = 0
    barrier.wait()  # every process built and warmed: the clock starts now
    with tempfile.TemporaryDirectory() as tmp, RecordWriter(Path(tmp)) as writer:
        run_attack(spec, bench.victim, mine, writer, int(cfg.seed), "bench", "auto", False)
        records = list(writer.records)
    V.sync(torch.device(device))
    results.put({"shard": shard, "examples": len(records), "queries": bench.victim.queries,
                 "successes": sum(r.status is Status.SUCCESS for r in records),
                 "attacked": sum(r.status is not Status.SKIPPED for r in records)})


def sharded(name: str, args, attack: str) -> dict:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(args.processes + 1), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(name, args.scale, args.device, str(args.data), args.n, attack, i,
                                                args.processes, barrier, results))
             for i in range(args.processes)]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)
    start = time.perf_counter()
    parts = [results.get(timeout=600) for _ in procs]
    seconds = time.perf_counter() - start
    for p in procs:
        p.join()
    n, queries = sum(p["examples"] for p in parts), sum(p["queries"] for p in parts)
    return {"victim": name, "attack": attack, "processes": args.processes, "examples": n,
            "seconds": round(seconds, 3), "sequences_per_s": round(n / seconds, 4), "queries": queries,
            "queries_per_s": round(queries / seconds, 1),
            "asr": round(sum(p["successes"] for p in parts) / max(1, sum(p["attacked"] for p in parts)), 4),
            "per_shard": sorted(parts, key=lambda p: p["shard"])}


def main(argv: list[str] | None = None) -> int:
    p = V.arguments(__doc__, "dnabert2,genomeocean-100m")
    p.add_argument("--attacks", default="bertattack,textfooler")
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--n", type=int, default=1000)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.victims.split(","):
        for attack in args.attacks.split(","):
            rows.append(sharded(name, args, attack))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "per_shard"}), flush=True)
            (args.out / "sharded.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
