"""The victim's out-of-memory back-off: `predict_proba` with all but `--headroom-gib` of the GPU's free
memory taken by another tensor must halve its batch and finish with finite probabilities.

    python benchmarks/gpu_backoff.py --out DIR [--victims nt2-500m,dnabert2,genomeocean-100m] [--n 20000]

CUDA only (on CPU there is no device memory to exhaust: the script says so and exits 0). DIR/backoff.json.
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


def backoff_check(victim, length: int, n: int, start_batch: int, headroom_gib: float) -> dict:
    rng = np.random.default_rng(2)
    seqs = ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]
    saved, victim.batch_size = victim.batch_size, start_batch
    torch.cuda.empty_cache()
    free, _ = torch.cuda.mem_get_info(victim.device)
    blocker = torch.empty(max(0, int(free - headroom_gib * 2**30)), dtype=torch.uint8, device=victim.device)
    t0 = time.perf_counter()
    try:
        probs = victim.predict_proba(seqs, use_cache=False)
        out = {"ok": bool(np.isfinite(probs).all()), "final_batch": victim.batch_size}
    except Exception as err:  # reported, not raised: the other victims still run
        out = {"ok": False, "error": f"{type(err).__name__}: {str(err)[:200]}", "final_batch": victim.batch_size}
    out.update({"start_batch": start_batch, "sequences": n, "length_nt": length,
                "seconds": round(time.perf_counter() - t0, 2), "left_free_gib": headroom_gib,
                "blocked_gib": round(blocker.numel() / 2**30, 1)})
    del blocker
    victim.batch_size = saved
    victim.clear_cache()
    torch.cuda.empty_cache()
    return out


def main(argv: list[str] | None = None) -> int:
    p = V.arguments(__doc__, "nt2-500m,dnabert2,genomeocean-100m")
    p.add_argument("--n", type=int, default=20000)
    p.add_argument("--start-batch", type=int, default=16384)
    p.add_argument("--headroom-gib", type=float, default=2.0)
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to exhaust")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.victims.split(","):
            bench = V.build(name, "real", torch.device("cuda"), Path(tmp))
            length = 1000 if bench.task is None else int(np.median([len(e.sequence) for e in
                                                                     V.load_examples(args.data, bench.task, 256)]))
            rows.append({"victim": name, **backoff_check(bench.victim, length, args.n, args.start_batch,
                                                         args.headroom_gib)})
            print(json.dumps(rows[-1]), flush=True)
            del bench
            torch.cuda.empty_cache()
    (args.out / "backoff.json").write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
