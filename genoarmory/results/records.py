"""`AttackRecord`: one attacked example, the unit every result is computed from.

One JSON object per line of run_dir/records.jsonl. Fields (0-based positions, half-open spans):
  id, label, sequence            the example as the task gave it
  clean_pred, clean_probs        the victim's answer on the original
  status                         skipped (already wrong: not attacked) | success | failed
  adv_sequence                   the adversarial sequence (successes only, else null)
  adv_pred, adv_probs            the victim's answer on the final sequence (the original when nothing was kept)
  edits                          [[position, ref, alt], ...] turning `sequence` into `adv_sequence`: positions
                                 of `sequence`; an empty ref inserts alt before position, an empty alt deletes
                                 ref there (genoarmory/edits.py)
  queries                        distinct sequences scored for this example
  perturbation_rate              the edit distance spent / len(sequence) for successes, else 0 (substitutions:
                                 len(edits) / len(sequence))
  seconds                        wall time of this example's search (examples overlap: times do not add up)
  attack, seed, config_hash      what produced it
  meta                           the task's ground truth for the example (motif spans, source line)
and, only where they apply: white-box fields (PGD's embedding-space outcome, gradient passes); the label
check of a success (`adv_oracle_label`, `label_preserved`, `element_changes`: a success counts as valid only
when the true label survives); `skip_reason` of a skipped example; the other strand (`rc_probs`: the
victim's answer on the reverse complement of `sequence`; `adv_rc_probs`: on the reverse complement of
`adv_sequence`, successes only), each from a fresh pass apart from the search (attacks/strands.py);
`length_fit`: the edits among `edits` that only keep a fixed length with indels (attack.length=keep: trimmed
or padded at the 3' end, not budgeted).

`from_json` is strict: a record read back (resume, merge, GenoAdv, the leaderboard) is checked field by
field, and its success must be re-verifiable without a model (its edits rebuild its adversarial sequence,
its stored prediction left the label). Anything else is a `RecordError` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, dataclass, field, fields
from enum import Enum
from typing import Any

from genoarmory.edits import cost
from genoarmory.sequence import Edit, apply_edits


class Status(str, Enum):
    SKIPPED = "skipped"  # misclassified before any edit: not attacked, outside ASR's denominator
    SUCCESS = "success"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


class RecordError(ValueError):
    """A record that does not hold together; the message names the field."""


def round_probs(values) -> list[float]:
    return [round(float(p), 6) for p in values]


@dataclass
class AttackRecord:
    id: str
    label: int
    sequence: str
    clean_pred: int
    clean_probs: list[float]
    status: Status
    adv_sequence: str | None
    adv_pred: int
    adv_probs: list[float]
    edits: list[Edit]
    queries: int
    perturbation_rate: float
    seconds: float
    attack: str
    seed: int
    config_hash: str
    meta: dict = field(default_factory=dict)
    # white-box attacks only (None: not measured, and not written)
    embedding_status: str | None = None  # PGD: the outcome in embedding space, before realising DNA
    embedding_pred: int | None = None
    embedding_probs: list[float] | None = None
    embedding_delta_norm: float | None = None
    projected_tokens: int | None = None  # PGD: tokens whose perturbation was realised as DNA
    gradient_queries: int | None = None  # forward+backward passes (PGD steps, attribution steps)
    # label preservation (successes whose task has an oracle; see data/oracles/check.py)
    adv_oracle_label: int | None = None  # the label oracle's label of adv_sequence
    label_preserved: bool | None = None  # did the checked signature (oracle label or elements) survive?
    element_changes: list[str] | None = None  # label-defining elements destroyed (-) or created (+)
    skip_reason: str | None = None  # skipped examples: misclassified | already_target (targeted attacks)
    # the reverse strand (attacks/strands.py): not queries of the search, not counted in `queries`
    rc_probs: list[float] | None = None  # the victim's answer on reverse_complement(sequence)
    adv_rc_probs: list[float] | None = None  # ... on reverse_complement(adv_sequence), successes only
    length_fit: list[Edit] | None = None  # indels under attack.length=keep: the edits that only fit the length

    @property
    def attacked(self) -> bool:
        return self.status is not Status.SKIPPED

    @property
    def succeeded(self) -> bool:
        return self.status is Status.SUCCESS

    @property
    def final_pred(self) -> int:
        """The prediction the example ends with: adversarial for successes, clean otherwise."""
        return self.adv_pred if self.succeeded else self.clean_pred

    def to_json(self) -> dict:
        """Plain data, in field order; optional fields that were not measured are left out."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.default is None:
                continue
            if f.name == "status":
                value = value.value
            elif f.name in ("edits", "length_fit"):
                value = [list(e) for e in value]
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Any, num_labels: int | None = None) -> "AttackRecord":
        """Parse and check one record (see the module note). `num_labels`, when known, bounds the labels."""
        if not isinstance(data, dict):
            raise RecordError(f"a record must be a JSON object, not {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise RecordError(f"unknown field(s) {', '.join(unknown)}")
        missing = [n for n, f in known.items()
                   if n not in data and f.default is MISSING and f.default_factory is MISSING]
        if missing:
            raise RecordError(f"missing field(s) {', '.join(missing)}")
        record = cls(**{k: _check(k, v) for k, v in data.items()})
        record.validate(num_labels)
        return record

    def validate(self, num_labels: int | None = None) -> None:
        n = len(self.sequence)
        if n == 0:
            raise RecordError("sequence is empty")
        classes = num_labels if num_labels is not None else len(self.clean_probs)
        for name in ("label", "clean_pred", "adv_pred"):
            if not 0 <= getattr(self, name) < classes:
                raise RecordError(f"{name}={getattr(self, name)} is not a class of a {classes}-class task")
        if len(self.clean_probs) != classes or len(self.adv_probs) != classes:
            raise RecordError(f"clean_probs/adv_probs must hold {classes} probabilities")
        for name in ("rc_probs", "adv_rc_probs"):
            if getattr(self, name) is not None and len(getattr(self, name)) != classes:
                raise RecordError(f"{name} must hold {classes} probabilities")
        if self.adv_rc_probs is not None and not self.succeeded:
            raise RecordError("only a success carries adv_rc_probs")
        if not 0.0 <= self.perturbation_rate <= 1.0:
            raise RecordError(f"perturbation_rate={self.perturbation_rate} is outside [0, 1]")
        if self.succeeded:
            if self.adv_sequence is None or self.adv_sequence == self.sequence:
                raise RecordError("a success needs an adv_sequence that differs from the sequence")
            if not self.edits:
                raise RecordError("a success needs its edits")
            try:
                rebuilt = apply_edits(self.sequence, self.edits)
            except (ValueError, IndexError) as err:
                raise RecordError(f"edits do not apply to the sequence ({err})") from None
            if rebuilt != self.adv_sequence:
                raise RecordError("edits do not rebuild adv_sequence")
            if self.length_fit is not None and not set(self.length_fit) <= set(self.edits):
                raise RecordError("length_fit holds edits that are not in edits")
            if abs(self.perturbation_rate - spent(self.edits, self.length_fit) / n) > 1e-9:
                raise RecordError(f"perturbation_rate={self.perturbation_rate} is not the edit distance of "
                                  "edits (length_fit aside) / len(sequence)")
        elif self.adv_sequence is not None or self.edits or self.length_fit is not None:
            raise RecordError(f"a {self.status.value} record has no adv_sequence, edits or length_fit")
        if not self.succeeded and (self.label_preserved is not None or self.adv_oracle_label is not None):
            raise RecordError("only a success carries a label check")
        if self.skip_reason is not None and self.status is not Status.SKIPPED:
            raise RecordError("only a skipped record has a skip_reason")


def _need(name: str, ok: bool, want: str, value) -> None:
    if not ok:
        raise RecordError(f"{name} must be {want}, not {value!r}"[:300])


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) and math.isfinite(v)


def _check(name: str, value):
    """One field's type (JSON gives lists, strings, numbers); returns the typed value."""
    if name in ("id", "sequence", "attack", "config_hash"):
        _need(name, isinstance(value, str), "a string", value)
    elif name in ("label", "clean_pred", "adv_pred", "seed"):
        _need(name, _is_int(value), "an integer", value)
    elif name in ("queries", "projected_tokens", "gradient_queries", "embedding_pred", "adv_oracle_label"):
        if value is None and name != "queries":
            return None
        _need(name, _is_int(value) and value >= 0, "a non-negative integer", value)
    elif name in ("perturbation_rate", "seconds", "embedding_delta_norm"):
        if value is None and name == "embedding_delta_norm":
            return None
        _need(name, _is_num(value) and value >= 0, "a finite non-negative number", value)
    elif name in ("clean_probs", "adv_probs", "embedding_probs", "rc_probs", "adv_rc_probs"):
        if value is None and name in ("embedding_probs", "rc_probs", "adv_rc_probs"):
            return None
        _need(name, isinstance(value, list) and all(_is_num(p) and 0 <= p <= 1 for p in value),
              "a list of probabilities", value)
    elif name == "status":
        try:
            return Status(value)
        except ValueError:
            raise RecordError(f"status must be skipped, success or failed, not {value!r}"[:300]) from None
    elif name == "embedding_status":
        _need(name, value in (None, "success", "failed"), "success or failed", value)
    elif name == "label_preserved":
        _need(name, value is None or isinstance(value, bool), "true, false or null", value)
    elif name == "element_changes":
        _need(name, value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value)),
              "a list of strings or null", value)
    elif name == "skip_reason":
        _need(name, value in (None, "misclassified", "already_target"), "misclassified or already_target", value)
    elif name == "adv_sequence":
        _need(name, value is None or isinstance(value, str), "a string or null", value)
    elif name in ("edits", "length_fit"):
        if value is None and name == "length_fit":
            return None
        ok = isinstance(value, list) and all(
            isinstance(e, list) and len(e) == 3 and _is_int(e[0]) and e[0] >= 0
            and isinstance(e[1], str) and isinstance(e[2], str) for e in value)
        _need(name, ok, "a list of [position, ref, alt]", value)
        return [tuple(e) for e in value]
    elif name == "meta":
        _need(name, isinstance(value, dict), "an object", value)
    return value


def spent(edits: list[Edit], length_fit: list[Edit] | None = None) -> int:
    """The edit distance a success spent: its edits, the length fit aside (substitutions: len(edits))."""
    return cost(edits) - cost(length_fit or [])


def make_record(example, outcome, queries: int, seconds: float, attack: str, seed: int,
                config_hash: str) -> AttackRecord:
    """The record of one finished search (`outcome`: attacks.search.Outcome)."""
    success = outcome.status == Status.SUCCESS
    final = outcome.adv_probs if outcome.adv_probs is not None else outcome.clean_probs
    return AttackRecord(
        id=example.id, label=example.label, sequence=example.sequence,
        clean_pred=int(outcome.clean_probs.argmax()), clean_probs=round_probs(outcome.clean_probs),
        status=Status(outcome.status),
        adv_sequence=outcome.adv_sequence if success else None,
        adv_pred=int(final.argmax()), adv_probs=round_probs(final),
        edits=[tuple(e) for e in outcome.edits] if success else [],
        queries=queries if outcome.queries is None else outcome.queries,
        perturbation_rate=spent(outcome.edits, outcome.extra.get("length_fit")) / len(example.sequence) if success else 0.0,
        seconds=round(seconds, 4), attack=attack, seed=seed, config_hash=config_hash, meta=example.meta,
        **outcome.extra,
    )
