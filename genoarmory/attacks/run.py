"""`attack_examples`: the one attack pipeline, used by the `attack` command and by every defense.

Builds the configured attack for `victim`, opens (or resumes) out_dir/records.jsonl — every record found
there is checked against this run's config hash, its selected examples and the task's labels — runs
the engine and returns the records of `examples`, in order.
"""

from __future__ import annotations

from pathlib import Path

from genoarmory.attacks.engine import run_attack
from genoarmory.attacks.recipes import build_attack
from genoarmory.data.example import Example
from genoarmory.results import CONFIG, AttackRecord, RecordWriter, write_text_atomic


def attack_examples(cfg, victim, examples: list[Example], out_dir: Path, config_hash: str,
                    num_labels: int | None = None, config_text: str | None = None) -> list[AttackRecord]:
    """`config_text`, when given, is written to out_dir/config.yaml once the records there are known to be
    this configuration's (so a refused resume leaves the folder as it was)."""
    victim.encoder.check_lengths(examples)
    spec = build_attack(victim, cfg)
    with RecordWriter(out_dir, config_hash, [e.id for e in examples], num_labels) as writer:
        if config_text is not None:
            write_text_atomic(Path(out_dir) / CONFIG, config_text)
        run_attack(spec, victim, examples, writer, int(cfg.seed), config_hash, cfg.attack.get("parallel", "auto"),
                   bool(cfg.progress))
    by_id = {r.id: r for r in writer.records}
    return [by_id[e.id] for e in examples]
