"""`read RUN_DIR --examples N`: attacked examples side by side, as TextAttack's coloured output shows them:
the original and the adversarial sequence with every edited nucleotide highlighted, the true label, and
the model's prediction and probability before and after (and whether the true label survived).
Indels: a deleted base is struck through in the original, inserted bases are highlighted in the
adversarial sequence (at their place there), and edits read `12:->AC` (inserted before base 12) and
`12:A>-` (deleted); a fixed length's fit (`length_fit`) is listed apart and shown dim."""

from __future__ import annotations

from genoarmory.edits import shift
from genoarmory.results import AttackRecord

ORDER = {"success": 0, "failed": 1, "skipped": 2}


def pick(records: list[AttackRecord], n: int) -> list[AttackRecord]:
    """The first n examples, successes first (what the attack did), then failures, then skipped ones."""
    return sorted(records, key=lambda r: ORDER.get(str(r.status), 3))[:n]


def _marked(sequence: str, positions: set[int], style: str):
    from rich.text import Text

    text = Text(sequence, no_wrap=False, overflow="fold")
    _mark(text, positions, style)
    return text


def _mark(text, positions: set[int], style: str) -> None:
    for i in sorted(positions):
        if 0 <= i < len(text.plain):
            text.stylize(style, i, i + 1)


def _places(edits) -> tuple[set[int], set[int]]:
    """Bases the edits touch in the original, and in the edited sequence (substitutes, inserted bases)."""
    edits = [(int(p), str(a), str(b)) for p, a, b in edits]
    original, edited = set(), set()
    for pos, ref, alt in edits:
        original.update(range(pos, pos + len(ref)))
        if alt:  # where it lands: original base `pos` sits at shift(pos), after the bases inserted before it
            at = shift(edits, pos)
            edited.update(range(at - len(alt), at) if not ref else [at])
    return original, edited


def _edit_text(edits) -> str:
    return ", ".join(f"{int(p) + 1}:{a or '-'}>{b or '-'}" for p, a, b in edits[:12]) + (" ..." if len(edits) > 12 else "")


def _prob(probs: list[float], k: int) -> str:
    return f"{probs[k]:.3f}" if 0 <= k < len(probs) else "?"


def example_panel(r: AttackRecord):
    """One record as a rich Panel: header line, original (edits red), adversarial (edits green)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    fit = set(r.length_fit or [])
    own = [e for e in r.edits if e not in fit]
    in_original, in_adversarial = _places(own)
    fit_original, fit_adversarial = _places([e for e in r.edits if e in fit])
    status = str(r.status)
    head = Text.assemble((f"{r.id}", "bold"), f"  true label {r.label}  ",
                         f"clean: {r.clean_pred} (p={_prob(r.clean_probs, r.clean_pred)})")
    if r.succeeded:
        head.append(f"  ->  adversarial: {r.adv_pred} (p={_prob(r.adv_probs, r.adv_pred)})")
        head.append(f"  {len(own)} edit{'s' if len(own) != 1 else ''}, {r.queries} queries")
        if r.label_preserved is False:
            head.append("  true label changed", style="bold red")
        elif r.label_preserved:
            head.append("  true label kept", style="green")
    else:
        head.append(f"  {status}{f' ({r.skip_reason})' if r.skip_reason else ''}, {r.queries} queries")
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    deleted = {p for p, a, b in own if not b for p in range(int(p), int(p) + len(a))}
    original = _marked(r.sequence, in_original - deleted, "bold white on red")
    for style, where in (("bold red strike", deleted), ("dim strike", fit_original)):
        _mark(original, where, style)
    grid.add_row("original", original)
    if r.succeeded and r.adv_sequence:
        adversarial = _marked(r.adv_sequence, in_adversarial, "bold black on green")
        _mark(adversarial, fit_adversarial - in_adversarial, "dim underline")
        grid.add_row("adversarial", adversarial)
        grid.add_row("edits", _edit_text(own))
        if fit:
            grid.add_row("length fit", _edit_text(sorted(fit)))
    body = [head, grid]
    border = {"success": "red", "failed": "green"}.get(status, "dim")
    return Panel(Group(*body), border_style=border, title=status, title_align="right")
