"""The one error type users see: a single clear line, exit code 2, no traceback."""

from __future__ import annotations


class UserError(Exception):
    """Bad input, a missing model, a broken config: reported as one line, exit code 2.

    `where` names the file (and line) the problem is in, when there is one.
    """

    exit_code = 2

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


def report_user_error(err: UserError) -> None:
    """The one line a UserError becomes on stderr."""
    import sys

    print(f"genoarmory: error: {err}", file=sys.stderr)


def located(path, line: int | None = None) -> str:
    """'file:line' (1-based line numbers, as editors show them)."""
    return f"{path}:{line}" if line is not None else str(path)


class FailedJob:
    """What a sweep job with bad input returns instead of stopping the sweep: its one-line error and exit
    code (picklable, so it comes back the same from joblib, Slurm and Ray workers)."""

    def __init__(self, message: str, exit_code: int = UserError.exit_code):
        self.message, self.exit_code = message, exit_code


def suggest(value: str, options, what: str = "options") -> str:
    """'; did you mean X? (options: a, b, c)' for an unknown name, closest match first (difflib's ratio,
    case-insensitive); just the options when nothing is close."""
    import difflib

    options = list(options)
    lowered = {o.lower(): o for o in options}
    close = difflib.get_close_matches(str(value).lower(), list(lowered), n=1, cutoff=0.6)
    hint = f"; did you mean {lowered[close[0]]}?" if close else ""
    return f"{hint} ({what}: {', '.join(options)})"
