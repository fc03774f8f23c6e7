"""The one-screen summary table printed at the end of attack / defend."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

ROWS = [("clean accuracy", "origin_acc", "{:.3f}"), ("accuracy under attack", "after_attack_acc", "{:.3f}"),
        ("attack success rate (ASR)", "asr", "{:.3f}"),
        ("ASR in embedding space (not DNA)", "embedding_asr", "{:.3f}"), ("defense success rate (DSR)", "dsr", "{:.3f}"),
        ("queries / attacked example", "average_queries", "{:.1f}"),
        ("gradient passes / attacked example", "average_gradient_queries", "{:.1f}"),
        ("perturbation rate (nt edited / nt)", "perturbation_rate", "{:.4f}"),
        ("edits / success", "average_edits", "{:.2f}"), ("clean MCC", "clean_mcc", "{:.3f}"),
        ("MCC under attack", "adv_mcc", "{:.3f}"), ("examples (attacked)", None, None)]


def print_summary(summary: dict, run_dir: Path | None = None) -> None:
    title = f"{summary['model']['name']} · {summary['dataset']['name']} · {summary['attack'].get('name')}"
    if summary.get("defense", {}).get("name", "none") != "none":
        title += f" · defense {summary['defense']['name']}"
    table = Table(title=title, show_header=False)
    for label, key, fmt in ROWS:
        if key is None:
            table.add_row(label, f"{summary['n_examples']} ({summary['n_attacked']})")
        elif key in summary and summary[key] is not None:
            table.add_row(label, fmt.format(summary[key]))
    enrichment = summary.get("motif_enrichment") or {}
    if enrichment.get("fold_enrichment") is not None:  # None when no edit could fall in a motif
        table.add_row("edits in motifs (fold over chance)", f"{enrichment['fold_enrichment']:.2f}")
    for flag in summary.get("flags", []):
        table.add_row("[bold red]flag[/]", flag)
    console = Console()
    console.print(table)
    if run_dir is not None:
        console.print(f"records: {Path(run_dir) / 'records.jsonl'}   summary: {Path(run_dir) / 'summary.json'}")
