"""Wall time of `python -m genoarmory --help` and `<command> --help`, each in a fresh interpreter (issue 16:
under 1 s; no torch, transformers or textattack import). Prints a markdown table of the median and the
worst of --repeats runs, and whether the heavy packages stayed unimported.

    python benchmarks/help_latency.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = ["", "train", "attack", "defend", "genoadv", "genoadv build", "genoadv verify", "download",
            "leaderboard", "read", "visualize", "merge"]
HEAVY = ("torch", "transformers", "textattack", "hydra")
# the same entry as `python -m genoarmory`, then a report of which heavy packages got imported
PROBE = ("import sys, runpy; sys.argv = ['genoarmory', *sys.argv[1:], '--help']\n"
         "try:\n    runpy.run_module('genoarmory', run_name='__main__')\nexcept SystemExit:\n    pass\n"
         f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")


def once(command: str) -> tuple[float, str, int]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", PROBE, *command.split()], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    heavy = next((line[6:] for line in done.stderr.splitlines() if line.startswith("HEAVY=")), "?")
    return seconds, heavy, len(done.stdout.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    once("")  # warm the file cache once, as a user's second call would be
    print("| command | median s | worst s | help lines | heavy imports |\n|---|---|---|---|---|")
    for command in COMMANDS:
        runs = [once(command) for _ in range(args.repeats)]
        times = [t for t, _, _ in runs]
        print(f"| `{(command + ' ') if command else ''}--help` | {statistics.median(times):.2f} | {max(times):.2f} | "
              f"{runs[0][2]} | {runs[0][1] or 'none'} |", flush=True)


if __name__ == "__main__":
    main()
