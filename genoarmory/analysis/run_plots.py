"""A run's plots: where its edits landed (positions, substitutions, GC shift, edits per example) and the
numbers behind them. The `visualize` command and `genoarmory.visualize()` both write them here."""

from __future__ import annotations

import json
from pathlib import Path

from genoarmory.results import Run, write_text_atomic

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
