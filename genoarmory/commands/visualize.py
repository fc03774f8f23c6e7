"""`python -m genoarmory visualize RUN_DIR`: plot where a run's edits landed.

Writes RUN_DIR/plots/{positions,substitutions,gc_shift,edits_per_example}.{png,pdf} and
RUN_DIR/plots/stats.json (the numbers behind every plot, plus the motif enrichment). When some successes
changed the true label (attack.preserve=none), the label-preserving successes get the same plots and
numbers apart, in RUN_DIR/plots/label_preserving/ (and stats.json's "label_preserving"). When summary.json
has no "motif_enrichment" yet, the enrichment also goes to RUN_DIR/motif_enrichment.json, which the
leaderboard reads as a fallback. A sweep folder gets one set per run below it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genoarmory.analysis.run_plots import STATUSES, visualize_run
from genoarmory.errors import UserError
from genoarmory.results import RECORDS, find_runs


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="genoarmory visualize", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="an attack run folder (records.jsonl) or a sweep folder of runs")
    parser.add_argument("--status", choices=sorted(STATUSES), default="success",
                        help="which records' edits to plot (default: success, the edits that fooled the model)")
    parser.add_argument("--out", help="folder for the plots (single run only; default RUN_DIR/plots)")
    args = parser.parse_args(argv)
    try:
        runs = find_runs(args.run_dir, need=RECORDS)
        if args.out and len(runs) > 1:
            raise UserError(f"--out needs a single run; {args.run_dir} holds {len(runs)} runs")
        for run in runs:
            written = visualize_run(run, STATUSES[args.status], Path(args.out) if args.out else None)
            print(f"{run}: wrote {len(written)} files to {written[0].parent}")
            for path in written:
                print(f"  {path}")
    except UserError as err:
        print(f"genoarmory: error: {err}", file=sys.stderr)
        return err.exit_code
    return 0
