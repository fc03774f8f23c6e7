"""`python -m genoarmory attack model=... dataset=... attack=...`: attack a victim on a task.

Writes run_dir/records.jsonl (one AttackRecord per example, resumable), run_dir/config.yaml and
run_dir/summary.json, and prints a one-screen summary. With no arguments: the embedded default model on
the embedded default task. One process at a time per run_dir (a second one is told the folder is busy).
The work is genoarmory.api.pipeline's, the same path `genoarmory.attack()` takes.
"""

from __future__ import annotations

from genoarmory.api.pipeline import attack_configured as attack
from genoarmory.commands.hydra_entry import run_hydra


def main(argv: list[str]) -> int:
    return run_hydra("attack", argv, attack)
