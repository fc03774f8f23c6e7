"""`attack_examples`: the one attack pipeline, used by the `attack` command and by every defense.

Builds the configured attack for `victim`, resolves the task's label check (`attack.preserve`, see
data/oracles/check.py) and, when it is enforced, adds it to the threat model as a constraint of the search;
opens (or resumes) out_dir/records.jsonl — every record found there is checked against this run's config
hash, its selected examples and the task's labels — runs the engine and returns the records of `examples`,
in order, with the label check that judged them. Every record also carries the victim's answer on the
reverse strand, and `attack.goal=both_strands` pairs every query with it (attacks/strands.py).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from genoarmory.attacks.constraints.label_preserving import PreservesLabel
from genoarmory.attacks.constraints.protected import names_spans
from genoarmory.attacks.engine import run_attack
from genoarmory.attacks.model_oracle import model_oracle
from genoarmory.attacks.recipes import build_attack
from genoarmory.attacks.search import greedy_search
from genoarmory.attacks.strands import ReverseStrand, both_strands
from genoarmory.data.example import Example, Task
from genoarmory.data.oracles.check import LabelCheck, resolve_check
from genoarmory.errors import UserError
from genoarmory.results import CONFIG, AttackRecord, RecordWriter, write_text_atomic


def label_check(cfg, task: Task) -> LabelCheck:
    return resolve_check(task.oracles, cfg.attack.get("preserve", "auto"), model_oracle(cfg, task))


def with_label_spans(examples: list[Example], check: LabelCheck) -> list[Example]:
    """For `attack.protected=meta` on a task whose examples name no spans: the label-defining elements
    of each original (its element oracle), as meta.label_spans."""
    if check.elements is None or all(names_spans(e.meta) for e in examples):
        return examples
    found = check.elements.elements([e.sequence for e in examples])
    return [e if names_spans(e.meta) else replace(e, meta={**e.meta, "label_spans": [[x.start, x.end, x.name]
                                                                                     for x in sorted(els)]})
            for e, els in zip(examples, found)]


def check_room(victim, examples: list[Example], max_edits) -> None:
    """attack.length=change: every example, grown by its whole budget of inserted bases, still fits the model
    (the encoder would truncate it silently otherwise)."""
    for e in examples:
        grown = e.sequence + "A" * max_edits(len(e.sequence))
        tokens = len(victim.encoder.token_ids(grown))
        if tokens > victim.encoder.max_length:
            where = f"{e.meta['source']}:{e.meta['line']}" if "line" in e.meta else e.id
            raise UserError(f"attack.length=change: this {len(e.sequence)}-nt sequence with its budget of "
                            f"insertions is {tokens} tokens, above the model's maximum of {victim.encoder.max_length}; "
                            "use attack.length=keep (trimmed at the 3' end) or a smaller attack.max_edit_distance", where)


def attack_examples(cfg, victim, examples: list[Example], out_dir: Path, config_hash: str, task: Task,
                    config_text: str | None = None, check: LabelCheck | None = None,
                    ) -> tuple[list[AttackRecord], LabelCheck]:
    """`config_text`, when given, is written to out_dir/config.yaml once the records there are known to be
    this configuration's (so a refused resume leaves the folder as it was)."""
    victim.encoder.check_lengths(examples)
    check = check or label_check(cfg, task)
    spec = build_attack(victim, cfg)
    if spec.threat.indels and spec.threat.length == "change":
        check_room(victim, examples, spec.threat.max_edits)
    spec.label_check = check
    spec.annotators.append(ReverseStrand(victim))
    if cfg.attack.get("goal", "one_strand") == "both_strands":
        if cfg.attack.recipe.endswith("textattack_search.build"):
            raise UserError("attack.goal=both_strands needs one of the engine's own searches: TextAttack scores "
                            "candidates in its own loop, which cannot be paired with the other strand")
        spec.search = both_strands(spec.search or greedy_search)
    if check.enforced:
        spec.threat.constraints.append(PreservesLabel(check))
    if cfg.attack.get("protected", None) == "meta":
        examples = with_label_spans(examples, check)
    with RecordWriter(out_dir, config_hash, [e.id for e in examples], task.num_labels) as writer:
        if config_text is not None:
            write_text_atomic(Path(out_dir) / CONFIG, config_text)
        run_attack(spec, victim, examples, writer, int(cfg.seed), config_hash, cfg.attack.get("parallel", "auto"),
                   bool(cfg.progress))
    by_id = {r.id: r for r in writer.records}
    return [by_id[e.id] for e in examples], check
