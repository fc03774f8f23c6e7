"""Metric tables for `read`: rows from run summaries or leaderboard entries, printed four ways."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from genoarmory.edits import kinds_label
from genoarmory.metrics.registry import ENRICHMENT_METRICS, keys, shown

# The reference's field names first (its readers keep working), then ours; a column shows when any row has it.
RUN_METRICS = keys("table")  # the metric registry's, in its order
BOARD_METRICS = ("n_examples",) + RUN_METRICS  # leaderboard entries use the registry's keys too
ENRICHMENT = shown("table", ENRICHMENT_METRICS)  # after the metrics, as the registry names them
FORMATS = ("table", "json", "csv", "markdown")


def _name(value):
    return value.get("name") if isinstance(value, dict) else value


def _flags(value) -> str | None:
    if isinstance(value, dict):
        value = [k if v is True else f"{k}={v}" for k, v in value.items() if v]
    if isinstance(value, list):
        return ", ".join(map(str, value)) or None
    return str(value) if value else None


def run_row(summary: dict, label: str) -> dict:
    row = {"run": label}
    for key in ("model", "dataset", "attack", "defense"):
        if summary.get(key) is not None:
            row[key] = _name(summary[key])
    if isinstance(summary.get("attack"), dict) and kinds_label(summary["attack"]):  # indels: not a substitution run
        row["attack"] = f"{row['attack']} ({kinds_label(summary['attack'])})"
    row.update({k: summary[k] for k in RUN_METRICS if k in summary})
    row.update(_enrichment(summary))
    if _flags(summary.get("flags")):
        row["flags"] = _flags(summary.get("flags"))
    return row


def entry_row(entry: dict) -> dict:
    """Leaderboard entries: identity keys, then metrics (nested under 'metrics' or flat). A track entry
    (certified, corruptions, transfer) names its track and setting (smoothing p, n, alpha; the corruption set)."""
    row = {k: _name(entry[k]) for k in ("source", "track", "model", "task", "attack", "defense") if k in entry}
    if isinstance(entry.get("threat"), dict) and kinds_label(entry["threat"]) and "attack" in row:
        row["attack"] = f"{row['attack']} ({kinds_label(entry['threat'])})"
    if isinstance(entry.get("setting"), dict) and isinstance(entry["setting"].get("name"), str):
        row["setting"] = entry["setting"]["name"]
    metrics = entry.get("metrics") if isinstance(entry.get("metrics"), dict) else {}
    for key in BOARD_METRICS:
        if key in metrics:
            row[key] = metrics[key]
        elif key in entry and not isinstance(entry[key], (dict, list)):
            row[key] = entry[key]
    row.update(_enrichment(entry))
    return row


def _enrichment(source: dict) -> dict:
    """The registry's enrichment columns (motif_fold, motif_p) of a summary or entry; none when the fold is
    unknown (no edit could fall in a motif)."""
    values = {m.key: m.value(source) for m in ENRICHMENT}
    return values if values[ENRICHMENT[0].key] is not None else {}


def columns(rows: list[dict]) -> list[str]:
    """Every key any row has, in first-seen order, except keys that are empty in every row."""
    order: list[str] = []
    for row in rows:
        order += [k for k in row if k not in order]
    return [k for k in order if any(r.get(k) is not None for r in rows)]


def _cell(key: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if key == "motif_p":
            return f"{value:.2e}"
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def render(rows: list[dict], fmt: str, title: str = "", width: int | None = None) -> str:
    """`width`: the terminal's, when printing to one: a table wider than that is printed turned (one row per
    column, one column per run, in as many blocks as fit), so no column (flags included) is cut off."""
    cols = columns(rows)
    if fmt == "json":
        return json.dumps(rows, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=cols, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _cell(k, r.get(k)) for k in cols} for r in rows)
        return buffer.getvalue().rstrip("\n")
    if fmt == "markdown":
        def line(cells):
            return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

        out = [line(cols), "|" + "|".join("---" if k in ("run", "model", "dataset", "task", "attack", "defense",
                                                             "source", "flags", "track", "setting") else "---:" for k in cols) + "|"]
        out += [line(_cell(k, r.get(k)) for k in cols) for r in rows]
        return "\n".join(out)
    if width is not None and _natural_width(rows, cols) > width:
        return _turned(rows, cols, title, width)
    return _rich_table(rows, cols, title)


def _natural_width(rows, cols) -> int:
    return sum(max([len(k)] + [len(_cell(k, r.get(k))) for r in rows]) + 3 for k in cols) + 4


def _turned(rows, cols, title, width) -> str:
    """The table turned: a row per column, a column per run, in blocks of as many runs as fit `width`."""
    from rich.console import Console
    from rich.table import Table

    label = max(len(k) for k in cols) + 3
    per_run = max([12] + [len(_cell(k, r.get(k))) + 3 for r in rows for k in cols if k != "flags"])
    fit = max(1, (width - label - 4) // per_run)
    console = Console(width=width, record=True, file=io.StringIO(), force_terminal=False)
    for start in range(0, len(rows), fit):
        block = rows[start:start + fit]
        table = Table(title=(title or None) if start == 0 else None)
        table.add_column("", justify="left", no_wrap=True)
        for i, _ in enumerate(block, start=start + 1):
            table.add_column(f"#{i}", justify="right", overflow="fold")
        for key in cols:
            table.add_row(key, *(_cell(key, r.get(key)) or "—" for r in block))
        console.print(table)
    return console.export_text().rstrip("\n")


def _rich_table(rows, cols, title) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None)
    for key in cols:
        table.add_column(key, justify="left" if key in ("run", "model", "dataset", "task", "attack", "defense",
                                                        "source", "flags", "track", "setting") else "right")
    for row in rows:
        table.add_row(*(_cell(k, row.get(k)) or "—" for k in cols))
    # wide enough for every cell: a table piped to a file or pager must not truncate numbers
    width = _natural_width(rows, cols)
    console = Console(width=max(80, width, len(title) + 4), record=True, file=io.StringIO(), force_terminal=False)
    console.print(table)
    return console.export_text().rstrip("\n")


def board_entries(data_dir: Path) -> list[dict]:
    """Every JSON object under data_dir that names a model (entry files; lists of entries are flattened)."""
    from genoarmory.errors import UserError, located

    entries = []
    for path in sorted(data_dir.rglob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise UserError(f"not valid JSON ({err.msg})", located(path, err.lineno)) from None
        except (RecursionError, UnicodeDecodeError, OSError) as err:  # `[[[[...` 100k deep, binary, unreadable
            raise UserError(f"cannot read as JSON ({type(err).__name__})", str(path)) from None
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and "model" in item:
                entries.append(item)
    key = ("track", "task", "model", "attack", "defense", "source")
    return sorted(entries, key=lambda e: tuple(str(_name(e.get(k, ""))) for k in key))
