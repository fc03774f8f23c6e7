"""Nucleotide edits of every kind, always in the ORIGINAL sequence's coordinates.

An edit is `(position, ref, alt)`:
  substitution  one base each: the base `ref` at `position` becomes `alt`;
  insertion     ref '': the bases `alt` go in before original base `position` (0 ... len: len appends);
  deletion      alt '': the bases `ref` starting at `position` are removed.
Because every position refers to the original (never to a partly edited sequence), an edit list is a
set: its order does not matter, and a record rebuilds its adversarial sequence from the original in one
left-to-right pass. An original base is touched by at most one edit, and a position holds at most one
insertion (two would have no order). Edit distance, what the budget counts: one per substituted,
inserted or deleted base.

Fixed-length inputs (`attack.length=keep`) are fitted at the 3' end, as a window anchored at its 5'
start would see the mutated genome: an insertion pushes the last bases out of the window (they become
deletions there), a deletion pulls bases in; as the genome's next bases are unknown, the pulled-in bases
are copies of the deleted ones, in order (so a deletion never changes base composition). The fit is
written as ordinary edits, so the record still rebuilds by applying its edits, and `length_fit` names them.
"""

from __future__ import annotations

from typing import Iterable

Edit = tuple[int, str, str]  # (0-based position in the original, reference bases, alternative bases)
KINDS = ("substitution", "insertion", "deletion")


def kind(edit: Edit) -> str:
    _, ref, alt = edit
    return "insertion" if not ref else "deletion" if not alt else "substitution"


def cost(edits: Iterable[Edit]) -> int:
    """Edit distance of an edit list: bases substituted, inserted and deleted."""
    return sum(len(alt) if not ref else len(ref) if not alt else 1 for _, ref, alt in edits)


def order(edit: Edit) -> tuple[int, int]:
    """Sort key: by position, an insertion before the edit of the base it precedes."""
    return edit[0], 0 if not edit[1] else 1


def apply_any(sequence: str, edits: Iterable[Edit]) -> str:
    """Apply edits of any kind (module note); ValueError for an edit that does not match the original, that
    overlaps another, or that is neither a single-base substitution, an insertion nor a deletion."""
    pieces, last, inserted = [], 0, -1
    for pos, ref, alt in sorted(edits, key=order):
        if not ref and not alt:
            raise ValueError(f"edit at {pos} has neither ref nor alt")
        if ref and alt and (len(ref) != 1 or len(alt) != 1):
            raise ValueError(f"edit {pos}:{ref}>{alt} is neither a substitution, an insertion nor a deletion")
        if pos < last or (not ref and pos == inserted) or pos > len(sequence):
            raise ValueError(f"edit {pos}:{ref or '-'}>{alt or '-'} overlaps another edit or lies outside the sequence")
        if ref and sequence[pos:pos + len(ref)] != ref:
            raise ValueError(f"edit {pos}:{ref}>{alt or '-'} does not match {sequence[pos:pos + len(ref)]!r}")
        pieces += [sequence[last:pos], alt]
        last = pos + len(ref)
        if not ref:
            inserted = pos
    pieces.append(sequence[last:])
    return "".join(pieces)


def keys(edit: Edit) -> list:
    """What an edit occupies: each original base it substitutes or deletes (an int), or the insertion slot
    before `position` (a tuple). Two edits of one list never share a key."""
    pos, ref, _ = edit
    return [("insertion", pos)] if not ref else list(range(pos, pos + len(ref)))


def merge(edits: list[Edit], new: list[Edit]) -> list[Edit] | None:
    """`edits` plus the `new` ones not already in it, sorted; None when a new edit occupies what another does."""
    present = set(edits)
    added = [e for e in new if e not in present]
    taken = {k for e in edits for k in keys(e)}
    for e in added:
        for k in keys(e):
            if k in taken:
                return None
            taken.add(k)
    return sorted(edits + added, key=order)


def fit_length(original: str, edits: list[Edit], length: int) -> tuple[list[Edit], list[Edit]]:
    """`edits` fitted to a result of `length` bases at the 3' end (module note): (all edits, the fit's own).
    Single-base edits throughout (a fitted multi-base edit is split per base)."""
    inserted = {pos: alt for pos, ref, alt in edits if not ref}
    became = list(original)  # what each original base became: itself, its substitute, or '' (deleted)
    for pos, ref, alt in edits:
        for j in range(len(ref)):
            became[pos + j] = alt if j == 0 else ""
    excess = sum(map(len, became)) + sum(map(len, inserted.values())) - length
    fit: list[Edit] = []
    slot = len(original)
    while excess > 0 and slot >= 0:  # trim from the 3' end: the insertion at `slot`, then the base before it
        ins = inserted.get(slot, "")
        cut = min(excess, len(ins))
        if cut:
            inserted[slot] = ins[:len(ins) - cut]
            excess -= cut
        if excess > 0 and slot > 0 and became[slot - 1]:
            became[slot - 1] = ""
            fit.append((slot - 1, original[slot - 1], ""))
            excess -= 1
        slot -= 1
    if excess < 0:  # pad with copies of the deleted bases (the first ones, in position order)
        deleted = "".join(original[p] for p in range(len(original)) if not became[p])
        pad = deleted[:-excess]
        inserted[len(original)] = inserted.get(len(original), "") + pad
        fit.append((len(original), "", pad))
    out: list[Edit] = []
    for p in range(len(original) + 1):
        if inserted.get(p):
            out.append((p, "", inserted[p]))
        if p < len(original) and became[p] != original[p]:
            out.append((p, original[p], became[p]))
    fitted = {e for e in out}
    return out, sorted((e for e in fit if e in fitted), key=order)


def shift(edits: Iterable[Edit], position: int) -> int:
    """Where original base `position` lies in the edited sequence (bases before it inserted minus deleted)."""
    moved = 0
    for pos, ref, alt in edits:
        if not ref and pos <= position:
            moved += len(alt)
        elif not alt and pos + len(ref) <= position:
            moved -= len(ref)
    return position + moved


def kinds_label(attack: dict) -> str | None:
    """How a run's summary, table and leaderboard name its edit kinds: None for substitutions (as every run
    before indels), else e.g. 'indel · edit distance ≤10% · length keep'."""
    kinds = attack.get("edits") or "substitution"
    if kinds == "substitution":
        return None
    ratio = attack.get("max_edit_distance")
    ratio = attack.get("max_perturb_ratio") if ratio is None else ratio
    budget = f"edit distance ≤{ratio * 100:g}%" if isinstance(ratio, (int, float)) else "budget not stated"
    return f"{kinds} · {budget} · length {attack.get('length') or 'keep'}"
