"""Ctrl-C (SIGINT) in any command: one line on stderr and exit code 130, never a traceback.

The one place that turns KeyboardInterrupt into that line, so every command (attack, train, defend,
genoadv, merge, leaderboard, read, ...) behaves the same. It is safe to rerun: records are appended
and fsynced as each engine step finishes them (results/jsonl.py), every other result is written atomically or staged and
renamed (results/files.py), and the run-folder lock dies with the process; so an interrupted command
resumes (attack, defend) or starts over (the others) when run again.
"""

from __future__ import annotations

import importlib
import sys

EXIT_CODE = 130  # 128 + SIGINT, what shells report for a process stopped by Ctrl-C
MESSAGE = "genoarmory: interrupted; rerun the same command to resume"


def run_command(module_name: str, argv: list[str]) -> int:
    """Import the command's module and call its `main(argv)`; Ctrl-C at any point (the import included,
    which takes seconds with torch) is the one line and exit code 130."""
    try:
        module = importlib.import_module(module_name)
        return int(module.main(argv) or 0)
    except KeyboardInterrupt:
        try:
            print(MESSAGE, file=sys.stderr, flush=True)
        except (KeyboardInterrupt, OSError):  # a second Ctrl-C, or stderr gone: the exit code still says it
            pass
        return EXIT_CODE
