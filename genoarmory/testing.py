"""Helpers for tests and benchmarks: compose the config as the CLI does, load the embedded default,
make records by hand. In the package (not tests/) so benchmarks use them without importing tests."""

from __future__ import annotations


def compose(overrides: list[str] | None = None, command: str = "attack"):
    """The composed and checked config of `command` exactly as the CLI would build it (no Hydra run),
    progress bars off."""
    from genoarmory.config_compose import compose_checked

    return compose_checked(command, list(overrides or []) + ["progress=false"])


def embedded_default(limit: int, overrides: list[str] | None = None):
    """(cfg, task, victim, examples): the embedded default's victim and `limit` of its examples."""
    from genoarmory.data import evaluation_examples, load_task
    from genoarmory.models.load import load_victim

    cfg = compose([f"dataset.limit={limit}", *(overrides or [])])
    task = load_task(cfg)
    return cfg, task, load_victim(cfg, task), evaluation_examples(cfg, task)


def record(id: str = "x", sequence: str = "ACGTACGTAC", label: int = 0, status: str = "failed",
           adv_sequence: str | None = None, num_labels: int = 2, config_hash: str = "test", **fields):
    """A valid AttackRecord made by hand (a success needs `adv_sequence`; its edits are the difference)."""
    from genoarmory.results.records import AttackRecord, Status
    from genoarmory.sequence import diff_edits

    status = Status(status)
    probs = [1.0 if k == label else 0.0 for k in range(num_labels)]
    wrong = (label + 1) % num_labels
    adv_probs = [1.0 if k == wrong else 0.0 for k in range(num_labels)] if status is Status.SUCCESS else probs
    edits = diff_edits(sequence, adv_sequence) if status is Status.SUCCESS else []
    values = dict(id=id, label=label, sequence=sequence, clean_pred=label, clean_probs=probs, status=status,
                  adv_sequence=adv_sequence if status is Status.SUCCESS else None,
                  adv_pred=wrong if status is Status.SUCCESS else label, adv_probs=adv_probs, edits=edits,
                  queries=1, perturbation_rate=len(edits) / len(sequence), seconds=0.0, attack="test", seed=0,
                  config_hash=config_hash, meta={})
    values.update(fields)
    out = AttackRecord(**values)
    out.validate(num_labels)
    return out


def loose_record(**fields):
    """An AttackRecord with defaults for every field left out, NOT validated: for analysis code that must
    cope with whatever a records file holds (broken edits, odd statuses)."""
    from genoarmory.results.records import AttackRecord, Status

    seq = fields.get("sequence", "A")
    values = dict(id="x", label=0, sequence=seq, clean_pred=0, clean_probs=[1.0, 0.0], status=Status.FAILED,
                  adv_sequence=None, adv_pred=0, adv_probs=[1.0, 0.0], edits=[], queries=0, perturbation_rate=0.0,
                  seconds=0.0, attack="test", seed=0, config_hash="test", meta={})
    values.update(fields)
    values["status"] = Status(values["status"])
    values["edits"] = [tuple(e) for e in values["edits"]]
    return AttackRecord(**values)


def read_json_records(path) -> list[dict]:
    """The checked records of a run as plain JSON objects (what a reader of records.jsonl sees)."""
    from genoarmory.results import read_records

    return [r.to_json() for r in read_records(path)]
