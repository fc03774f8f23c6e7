"""`read RUN_DIR --examples N`: attacked examples side by side, as TextAttack's coloured output shows them:
the original and the adversarial sequence with every edited nucleotide highlighted, the true label, and
the model's prediction and probability before and after (and whether the true label survived)."""

from __future__ import annotations

from genoarmory.results import AttackRecord

ORDER = {"success": 0, "failed": 1, "skipped": 2}


def pick(records: list[AttackRecord], n: int) -> list[AttackRecord]:
    """The first n examples, successes first (what the attack did), then failures, then skipped ones."""
    return sorted(records, key=lambda r: ORDER.get(str(r.status), 3))[:n]


def _marked(sequence: str, positions: set[int], style: str):
    from rich.text import Text

    text = Text(sequence, no_wrap=False, overflow="fold")
    for i in sorted(positions):
        if 0 <= i < len(sequence):
            text.stylize(style, i, i + 1)
    return text


def _prob(probs: list[float], k: int) -> str:
    return f"{probs[k]:.3f}" if 0 <= k < len(probs) else "?"


def example_panel(r: AttackRecord):
    """One record as a rich Panel: header line, original (edits red), adversarial (edits green)."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    positions = {int(e[0]) for e in r.edits}
    status = str(r.status)
    head = Text.assemble((f"{r.id}", "bold"), f"  true label {r.label}  ",
                         f"clean: {r.clean_pred} (p={_prob(r.clean_probs, r.clean_pred)})")
    if r.succeeded:
        head.append(f"  ->  adversarial: {r.adv_pred} (p={_prob(r.adv_probs, r.adv_pred)})")
        head.append(f"  {len(r.edits)} edit{'s' if len(r.edits) != 1 else ''}, {r.queries} queries")
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
    grid.add_row("original", _marked(r.sequence, positions, "bold white on red"))
    if r.succeeded and r.adv_sequence:
        grid.add_row("adversarial", _marked(r.adv_sequence, positions, "bold black on green"))
        edits = ", ".join(f"{int(p) + 1}:{a}>{b}" for p, a, b in r.edits[:12]) + (" ..." if len(r.edits) > 12 else "")
        grid.add_row("edits", edits)
    body = [head, grid]
    border = {"success": "red", "failed": "green"}.get(status, "dim")
    return Panel(Group(*body), border_style=border, title=status, title_align="right")
