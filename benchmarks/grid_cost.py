"""The paper's grid, costed from measured H200 rates (issue 18, item 4), on one GPU and on N.

    python benchmarks/grid_cost.py [--examples 1000] [--start-s 0,60] [--gpus 1,2,4,8,16]

`experiment=paper-grid` is 5 models x 26 GUE tasks x 4 attacks = 520 runs; the paper attacks 1,000 test
examples per task. Each (model, attack) cell's time is 26 x examples / its measured sequences/s. RATES holds
those measurements as benchmarks/RESULTS.md reports them (which run, which length): one length per model,
so this is a scale, not a prediction (the grid's tasks run 70-500 nt). The paper's loop — one candidate
per forward pass, 55-220 queries/s measured on these sizes (RESULTS.md) — is costed for the two query
attacks at the same queries per sequence; FIMBA and PGD are gradient passes, which that loop does not describe.

N GPUs: Hydra's submitit launcher runs the 520 runs as jobs (or `dataset.shard=i/N` splits one run), and
this schedules them longest first onto N GPUs (each job also pays `--start-s`: its process start and model
load, an assumption given on the command line, not a measurement). The makespan is what the table prints.
"""

from __future__ import annotations

import argparse
import heapq

TASKS = 26
PAPER_LOOP_Q_PER_S = (55.0, 220.0)

# (model, attack) -> (sequences/s, queries/sequence or None, where it was measured: RESULTS.md run, length)
RATES = {
    ("dnabert2", "bertattack"): (313.6, 53.5, "run 9c, 101 nt"),
    ("dnabert2", "textfooler"): (354.1, 28.7, "run 9c, 101 nt"),
    ("dnabert2", "fimba"): (81.4, None, "run 6, 101 nt"),
    ("dnabert2", "pgd"): (74.9, None, "run 6, 101 nt"),
    ("nt1-500m", "bertattack"): (30.3, 146.1, "run 9b, 300 nt"),
    ("nt1-500m", "textfooler"): (50.8, 58.4, "run 9b, 300 nt"),
    ("nt1-500m", "fimba"): (20.0, None, "run 7, 300 nt"),
    ("nt1-500m", "pgd"): (105.0, None, "run 7, 300 nt"),
    ("nt2-500m", "bertattack"): (28.1, 137.6, "run 9c, 300 nt"),
    ("nt2-500m", "textfooler"): (48.5, 60.9, "run 9c, 300 nt"),
    ("nt2-500m", "fimba"): (20.6, None, "run 7, 300 nt"),
    ("nt2-500m", "pgd"): (94.1, None, "run 7, 300 nt"),
    ("hyenadna-small", "bertattack"): None,  # no MLM of its own (model.mlm: null): not measured
    ("hyenadna-small", "textfooler"): (30.9, 298.7, "run 7, 300 nt"),
    ("hyenadna-small", "fimba"): (16.5, None, "run 7, 300 nt"),
    ("hyenadna-small", "pgd"): (41.5, None, "run 7, 300 nt"),
    ("genomeocean-100m", "bertattack"): (211.7, 41.0, "run 9c, 70 nt"),
    ("genomeocean-100m", "textfooler"): (300.7, 21.0, "run 9c, 70 nt"),
    ("genomeocean-100m", "fimba"): (63.1, None, "run 7, 70 nt"),
    ("genomeocean-100m", "pgd"): (41.4, None, "run 7, 70 nt"),
}


def cell_hours(examples: int) -> list[dict]:
    rows = []
    for (model, attack), rate in RATES.items():
        if rate is None:
            rows.append({"model": model, "attack": attack, "hours": None, "paper_hours": None, "source": "not measured"})
            continue
        seq_s, q_per_seq, source = rate
        total = TASKS * examples
        paper = None if q_per_seq is None else tuple(total * q_per_seq / q / 3600 for q in PAPER_LOOP_Q_PER_S[::-1])
        rows.append({"model": model, "attack": attack, "hours": total / seq_s / 3600, "paper_hours": paper,
                     "source": source})
    return rows


def makespan_hours(rows: list[dict], gpus: int, start_s: float) -> float:
    """Longest-first list scheduling of the grid's measured runs (one job per model x task x attack) on `gpus`."""
    jobs = sorted((r["hours"] * 3600 / TASKS + start_s
                   for r in rows if r["hours"] is not None for _ in range(TASKS)), reverse=True)
    loads = [0.0] * gpus
    heapq.heapify(loads)
    for job in jobs:
        heapq.heappush(loads, heapq.heappop(loads) + job)
    return max(loads) / 3600


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--examples", type=int, default=1000)
    p.add_argument("--start-s", type=lambda t: [float(x) for x in t.split(",")], default=[0.0, 60.0])
    p.add_argument("--gpus", type=lambda t: [int(x) for x in t.split(",")], default=[1, 2, 4, 8, 16])
    args = p.parse_args(argv)
    rows = cell_hours(args.examples)
    print(f"| model | attack | ours, {TASKS * args.examples:,} examples (h) | paper's loop (h) | measured in |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        ours = "—" if r["hours"] is None else f"{r['hours']:.2f}"
        paper = "—" if r["paper_hours"] is None else f"{r['paper_hours'][0]:.1f}–{r['paper_hours'][1]:.1f}"
        print(f"| {r['model']} | {r['attack']} | {ours} | {paper} | {r['source']} |")
    measured = [r for r in rows if r["hours"] is not None]
    both = [r for r in measured if r["paper_hours"] is not None]
    print(f"\nmeasured cells: {len(measured)} of {len(rows)}; ours {sum(r['hours'] for r in measured):.2f} h in all; "
          f"the query-attack cells: ours {sum(r['hours'] for r in both):.2f} h, paper's loop "
          f"{sum(r['paper_hours'][0] for r in both):.0f}–{sum(r['paper_hours'][1] for r in both):.0f} h\n")
    print("| GPUs | " + " | ".join(f"makespan (h), job start {s:g} s" for s in args.start_s) + " |")
    print("| --- |" + " --- |" * len(args.start_s))
    for n in args.gpus:
        print(f"| {n} | " + " | ".join(f"{makespan_hours(rows, n, s):.2f}" for s in args.start_s) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
