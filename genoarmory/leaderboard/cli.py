"""`python -m genoarmory leaderboard {add,build,import-reported,check}`.

    leaderboard add RUN_DIR [RUN_DIR ...]   run summary.json -> verified entry (refused if off-protocol);
                                            a sweep folder adds every run below it; certify / corrupt
                                            runs and transfer folders go to their track
    leaderboard build run_dir=OUT           render the static site (also: --out OUT; default _site)
    leaderboard import-reported [CSV]       rewrite the reported entries from the paper's figures
    leaderboard check                       schema-check every entry; verified ones must follow the protocol,
                                            and their weights / tokenizer / data hashes are re-checked
                                            wherever those files exist on this machine
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genoarmory.errors import UserError
from genoarmory.text import counted

# the committed board (its data/: protocol, entries, plots) ships inside the package, so an installed
# wheel builds the same site as a checkout
PACKAGED_BOARD = Path(__file__).resolve().parent / "board"
# a checkout's ../shared copy of the paper's figures (import-reported's default)
DEFAULT_CSV = Path(__file__).resolve().parents[3] / "shared" / "reference" / "genoarmory_reported.csv"


def default_board() -> Path:
    """./leaderboard when the current folder holds a board of its own (leaderboard/data/), else the
    board that ships with the package."""
    local = Path("leaderboard")
    return local if (local / "data").is_dir() else PACKAGED_BOARD


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genoarmory leaderboard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--board", type=Path, default=None,
                        help="leaderboard folder holding data/ (default: ./leaderboard if it has data/, else the "
                             "board shipped with the package)")
    sub = parser.add_subparsers(dest="action", required=True)
    board_option = argparse.ArgumentParser(add_help=False)  # --board also after the action
    board_option.add_argument("--board", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    add = sub.add_parser("add", parents=[board_option], help="turn run summaries into verified entries")
    add.add_argument("run_dirs", nargs="+", type=Path, metavar="RUN_DIR")
    add.add_argument("--replace", action="store_true", help="overwrite an entry that came from another run")
    build = sub.add_parser("build", parents=[board_option], help="render the static site")
    build.add_argument("overrides", nargs="*", metavar="run_dir=OUT", help="where to write the site")
    build.add_argument("--out", type=Path, default=None, help="where to write the site (default _site)")
    imp = sub.add_parser("import-reported", parents=[board_option], help="rewrite the reported entries from the paper's figures")
    imp.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV)
    sub.add_parser("check", parents=[board_option], help="schema-check every entry")
    return parser


def _out_dir(args) -> Path:
    """--out, or run_dir=OUT composed with conf/leaderboard.yaml (Hydra's compose API and grammar)."""
    from genoarmory.config_compose import compose_checked

    try:
        run_dir = compose_checked("leaderboard", args.overrides).run_dir if args.overrides else None
    except UserError as err:
        raise UserError(f"build takes run_dir=OUT (or --out OUT): {err}") from None
    out = args.out
    if run_dir is not None:
        if out is not None and Path(run_dir) != out:
            raise UserError("give the output folder once (run_dir=OUT or --out OUT)")
        out = Path(run_dir)
    return out or Path("_site")


def _run(args) -> int:
    board = args.board or default_board()
    if args.action == "add":
        from genoarmory.leaderboard.add import add_runs

        from genoarmory.results import read_json_object

        for path in add_runs(args.run_dirs, board, replace=args.replace):
            print(f"added {path} ({read_json_object(path, 'board entry')['identity']['filed_as']})")
    elif args.action == "build":
        from genoarmory.leaderboard.site import build_site

        stats = build_site(board, _out_dir(args))
        print(f"built {stats['out']}/index.html: {counted(stats['entries'], 'entry', 'entries')} "
              f"({stats['verified']} verified, {stats['reported']} reported), "
              f"{counted(stats['tracks'], 'track entry', 'track entries')}, {counted(stats['models'], 'model')} "
              "— open it in a browser, no server needed")
    elif args.action == "import-reported":
        from genoarmory.leaderboard.reported import import_reported

        n = import_reported(args.csv, board)
        print(f"wrote {counted(n, 'reported entry', 'reported entries')} under {board / 'data' / 'entries' / 'reported'}")
    elif args.action == "check":
        from genoarmory.leaderboard.add import check_board_protocol
        from genoarmory.leaderboard.entries import entry_id, entry_path, load_board

        from genoarmory.leaderboard.identity import checked_here, recheck

        from genoarmory.leaderboard.tracks import load_tracks, track_checked_here, track_id, track_path, track_recheck

        entries = load_board(board)
        check_board_protocol(board, entries)
        verified = [e for e in entries if e["source"] == "verified"]
        for e in verified:
            problems = recheck(e["identity"])
            if problems:
                raise UserError(f"{entry_id(e)}: {problems[0]}", str(entry_path(board, e)))
        tracks = load_tracks(board)
        check_board_protocol(board, tracks)
        for e in tracks:
            problems = track_recheck(e)
            if problems:
                raise UserError(f"{track_id(e)}: {problems[0]}", str(track_path(board, e)))
        parts = [checked_here(e["identity"]) for e in verified]
        weights, data = sum("weights" in p for p in parts), sum("data" in p for p in parts)
        print(f"{counted(len(entries), 'entry', 'entries')} pass the schema and the board's protocol "
              f"({board / 'data' / 'entries'}); of {len(verified)} verified entries, re-hashed here and matching: "
              f"weights and tokenizer of {weights}, the attacked data file of {data} "
              f"({sum(not p for p in parts)} have nothing on this machine to re-hash)")
        if tracks:
            print(f"{counted(len(tracks), 'track entry', 'track entries')} pass the track schema and the board's "
                  f"protocol ({board / 'data' / 'tracks'}); {sum(map(track_checked_here, tracks))} of {len(tracks)} "
                  "re-hashed here and match")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:  # argparse: usage errors exit 2, --help exits 0
        return int(exit_.code or 0)
    try:
        return _run(args)
    except UserError as err:
        print(f"genoarmory: error: {err}", file=sys.stderr)
        return err.exit_code
