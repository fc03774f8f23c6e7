"""The one-screen summary table printed at the end of attack / defend."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from genoarmory.edits import kinds_label
from genoarmory.metrics.registry import ENRICHMENT_METRICS, shown


def print_summary(summary: dict, run_dir: Path | None = None) -> None:
    title = f"{summary['model']['name']} · {summary['dataset']['name']} · {summary['attack'].get('name')}"
    if kinds_label(summary["attack"]):
        title += f" ({kinds_label(summary['attack'])})"
    if summary.get("defense", {}).get("name", "none") != "none":
        title += f" · defense {summary['defense']['name']}"
    table = Table(title=title, show_header=False)
    for metric in shown("report") + shown("report", ENRICHMENT_METRICS):  # fold: None when no edit could fall in a motif
        cell = metric.cell(summary)
        if cell is not None:
            table.add_row(metric.label, cell)
    for flag in summary.get("flags", []):
        table.add_row("[bold red]flag[/]", flag)
    console = Console()
    console.print(table)
    if run_dir is not None:
        console.print(f"records: {Path(run_dir) / 'records.jsonl'}   summary: {Path(run_dir) / 'summary.json'}")
