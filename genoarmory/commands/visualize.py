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
import json
import sys
from pathlib import Path

from genoarmory.errors import UserError
from genoarmory.results import RECORDS, Run, find_runs, write_text_atomic

STATUSES = {"success": ("success",), "failed": ("failed",), "attacked": ("success", "failed"),
            "all": ("success", "failed", "skipped")}


def _title(run: Run) -> str:
    if not run.has_summary:
        return run.path.name
    summary = run.summary
    names = [summary.get(k).get("name") if isinstance(summary.get(k), dict) else summary.get(k)
             for k in ("model", "attack", "dataset")]
    return " · ".join(str(n) for n in names if n) or run.path.name


def visualize_run(run_dir: Path, statuses=("success",), out_dir: Path | None = None) -> list[Path]:
    from genoarmory.analysis.edits import edit_statistics
    from genoarmory.analysis.enrichment import enrichment_summary
    from genoarmory.analysis.plots import write_plots
    run = Run(run_dir)
    records = run.records(run.num_labels)
    out_dir = out_dir or run_dir / "plots"
    stats = edit_statistics(records, statuses)
    enrichment = enrichment_summary(records, statuses)
    written = write_plots(stats, records, out_dir, _title(run))
    numbers = {"edits": stats, "motif_enrichment": enrichment}
    kept = [r for r in records if r.label_preserved is not False]
    if len(kept) < len(records):
        # some successes changed the true label: where the honest ones' edits fell, apart
        numbers["label_preserving"] = {"edits": edit_statistics(kept, statuses),
                                       "motif_enrichment": enrichment_summary(kept, statuses)}
        written += write_plots(numbers["label_preserving"]["edits"], kept, out_dir / "label_preserving",
                               _title(run) + " · label-preserving successes")
    stats_path = out_dir / "stats.json"
    write_text_atomic(stats_path, json.dumps(numbers, indent=1) + "\n")
    written.append(stats_path)
    if not run.has_summary or "motif_enrichment" not in run.summary:
        fallback = run_dir / "motif_enrichment.json"
        write_text_atomic(fallback, json.dumps(enrichment, indent=2) + "\n")
        written.append(fallback)
    return written


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
