"""Small wording helpers for what the commands print."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """'1 entry', '2 entries', '0 runs': the count with the noun in the right number."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
