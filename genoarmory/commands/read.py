"""`python -m genoarmory read RUN_DIR|leaderboard [--format table|json|csv|markdown] [--examples [N]]`.

RUN_DIR is one attack run (its summary.json) or a sweep folder (every run below it with a summary.json).
A certify or corrupt run also gets its own table (certified accuracy per radius with its smoothing; accuracy
and MCC per corruption), a transfer folder (transfer.json) its matrix.
`leaderboard` reads every entry JSON under the board's data/ folder (--board, default ./leaderboard).
`--examples N` also shows N attacked examples of each run: original vs adversarial, edits highlighted.
In a terminal the table fits its width (a table too wide is printed one run per column instead).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from genoarmory.api.runs import run_rows
from genoarmory.errors import UserError

TRANSFER = "transfer.json"  # a transfer folder's report (genoarmory/transferability.py)


def leaderboard_rows(board: Path | None) -> tuple[list[dict], Path]:
    from genoarmory.analysis.table import board_entries, entry_row

    if board is None:
        from genoarmory.leaderboard.cli import default_board

        board = default_board()
    data = board / "data"
    if not data.is_dir():
        raise UserError("no leaderboard data folder (give --board DIR, the folder holding data/)", str(data))
    entries = board_entries(data)
    if not entries:
        raise UserError("no leaderboard entries (JSON objects naming a model) below this folder", str(data))
    return [entry_row(e) for e in entries], data


def show_examples(target: Path, n: int) -> None:
    """N examples of every run at or below target, as rich panels (colour in a terminal, plain text in a pipe)."""
    from rich.console import Console

    from genoarmory.analysis.examples import example_panel, pick
    from genoarmory.results import RECORDS, Run, find_runs

    if n < 1:
        raise UserError(f"--examples {n}: give a positive number of examples")
    console = Console()
    for path in find_runs(target, need=RECORDS):
        run = Run(path)
        records = run.records(run.num_labels)
        shown = pick(records, n)
        console.print(f"[bold]{path}[/]: {len(shown)} of {len(records)} example{'s' if len(records) != 1 else ''}")
        for record in shown:
            console.print(example_panel(record))


def show_tracks(target: Path, fmt: str) -> None:
    """The certify / corrupt runs' own tables and the transfer matrices at or below target (table format)."""
    from rich.console import Console

    from genoarmory.analysis.track_tables import detail_table, transfer_table
    from genoarmory.results import SUMMARY, Run, find_runs, read_json_object

    if fmt != "table":
        return
    console = Console()
    for path in find_runs(target) if _holds(target, SUMMARY) else []:
        table = detail_table(Run(path).summary)
        if table is not None:
            console.print(table)
    for path in find_runs(target, need=TRANSFER) if _holds(target, TRANSFER) else []:
        console.print(transfer_table(read_json_object(path / TRANSFER, "transfer report")))


def _holds(target: Path, name: str) -> bool:
    return (target / name).is_file() or any(target.rglob(name))


def main(argv: list[str]) -> int:
    from genoarmory.analysis.table import FORMATS, render

    parser = argparse.ArgumentParser(prog="genoarmory read", description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a run folder, a sweep folder, or the word 'leaderboard'")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--board", help="leaderboard folder holding data/ (default ./leaderboard)")
    parser.add_argument("--examples", nargs="?", type=int, const=5, default=0, metavar="N",
                        help="also show N attacked examples per run (default 5): original vs adversarial, "
                             "edits highlighted, labels and probabilities")
    args = parser.parse_args(argv)
    try:
        if args.target == "leaderboard" and not (Path(args.target) / "summary.json").is_file():
            rows, source = leaderboard_rows(Path(args.board) if args.board else None)
        else:
            target = Path(args.target)
            only_transfer = target.is_dir() and _holds(target, TRANSFER) and not _holds(target, "summary.json")
            rows, source = ([], target) if only_transfer else (run_rows(target), target)
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() and args.format == "table" else None
        if rows:
            print(render(rows, args.format, title=str(source), width=width))
        if source.is_dir():
            show_tracks(source, args.format)
        if args.examples:
            show_examples(Path(args.target), args.examples)
    except UserError as err:
        print(f"genoarmory: error: {err}", file=sys.stderr)
        return err.exit_code
    except BrokenPipeError:  # `read ... | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")
    return 0
