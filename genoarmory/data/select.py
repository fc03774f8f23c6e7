"""Seeded subset selection shared by every command: every attack of a comparison sees the same examples."""

from __future__ import annotations

import random

from genoarmory.data.example import Example
from genoarmory.errors import UserError


def parse_shard(shard: str | None) -> tuple[int, int] | None:
    """'i/n' -> (i, n) with 0 <= i < n."""
    if shard in (None, "", "null"):
        return None
    try:
        i, n = (int(x) for x in str(shard).split("/"))
    except ValueError:
        raise UserError(f"dataset.shard={shard!r} is not of the form i/n (e.g. 0/4)") from None
    if n < 1 or not 0 <= i < n:
        raise UserError(f"dataset.shard={shard!r}: need 0 <= i < n")
    return i, n


def select_examples(examples: list[Example], limit: int | None = None, seed: int = 0,
                    shard: str | None = None) -> list[Example]:
    """Take a seeded random subset of `limit` examples (all when None), kept in file order, then the
    i-th of n interleaved shards. The subset depends only on (examples, limit, seed), never on the
    shard, so shards of one selection partition it exactly."""
    chosen = list(examples)
    if limit is not None and int(limit) < len(chosen):
        picked = sorted(random.Random(seed).sample(range(len(chosen)), int(limit)))
        chosen = [chosen[i] for i in picked]
    parsed = parse_shard(shard)
    if parsed:
        i, n = parsed
        chosen = chosen[i::n]
    return chosen
