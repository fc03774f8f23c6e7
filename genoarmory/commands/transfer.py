"""`python -m genoarmory transfer RUN_DIR... [--out DIR]`: the transfer matrix of several attack runs.

Each RUN_DIR is a finished attack of one (source) model on the same task and the same examples; every
source's label-preserving successes are scored by every run's model (genoarmory/transferability.py says how).
Writes OUT/transfer.json (every count), the transfer_matrix plot, and prints the table. The work is
genoarmory.api.run_transfer's, the same path `genoarmory.transfer()` takes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genoarmory.errors import UserError


def main(argv: list[str]) -> int:
    from genoarmory.api.run_transfer import transfer

    p = argparse.ArgumentParser(prog="python -m genoarmory transfer", description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", type=Path, help="finished attack runs on the same examples")
    p.add_argument("--out", type=Path, help="where transfer.json and the plot go (default: the first run)")
    p.add_argument("--include-label-changed", action="store_true",
                   help="also transfer successes that changed the true label (the paper's protocol)")
    p.add_argument("--device", default="auto")
    args = p.parse_args(argv)
    try:
        result = transfer(args.runs, include_label_changed=args.include_label_changed, device=args.device,
                          out_dir=args.out or args.runs[0])
    except UserError as err:
        print(f"genoarmory: error: {err}", file=sys.stderr)
        return err.exit_code
    result.print()
    print(f"genoarmory: {result.run_dir / 'transfer.json'}   plot: {result.run_dir / 'transfer_matrix.png'}")
    return 0
