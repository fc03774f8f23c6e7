"""The one search engine: greedy substitution by importance, written as a generator.

A search yields the list of sequences it needs scored and receives their probabilities; a driver
(attacks/engine.py) runs the searches of many examples in lock-step, so every candidate of a step —
and the steps of many examples — share one large batched forward pass.

Steps, as TextAttack's greedy word-swap with word-importance ranking:
1. score the original; skip it if already misclassified;
2. rank units (the victim's tokens, or single nucleotides) by importance: how much masking the unit
   with N raises the goal score ('mask'), the best single-base substitution in it ('substitution'),
   or a seeded random order ('random');
3. walk the units in that order: propose edits there, keep those the threat model admits (budget,
   protected positions, GC shift, no position edited twice) and an optional filter passes, score
   them all at once, take the best; accept it if it raises the score (or always, for the random
   baseline); stop at success, at the nucleotide budget, or at the query budget.
With `attack.edits=indel|all` the proposals may insert and delete (positions stay the original's, so
the units ranked on the original stay valid) and the threat model fits each candidate's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Generator

import numpy as np

from genoarmory.attacks.constraints import Candidate, ThreatModel
from genoarmory.attacks.goal import Goal
from genoarmory.attacks.transformations import BaseSubstitution, Transformation
from genoarmory.data.example import Example
from genoarmory.data.oracles.check import LabelCheck
from genoarmory.results.records import Status
from genoarmory.sequence import Edit, apply_edits

Search = Generator["list[str] | FilterRequest", np.ndarray, "Outcome"]
# filter(original, candidate sequences, candidate edit lists) -> boolean mask of candidates kept. A filter
# with `many(requests) -> masks` is asked for the requests of all searches in flight at once (engine.py).
CandidateFilter = Callable[[str, list[str], list[list[Edit]]], np.ndarray]


class Confirm(list):
    """Sequences to re-score in float32 by a fresh pass: what a success is decided on when the victim's
    queries run in reduced precision (bf16 on CUDA), whose rounding depends on the batch layout."""


@dataclass
class FilterRequest:
    """A search's candidates for its filter; answered with the boolean mask of those kept."""

    filter: CandidateFilter
    original: str
    candidates: list[str]
    edit_lists: list[list[Edit]]

    def answer_alone(self) -> np.ndarray:
        return np.asarray(self.filter(self.original, self.candidates, self.edit_lists), dtype=bool)


def decided_probs(victim, sequence: str, probs: np.ndarray) -> Search:
    """The probabilities a success is decided on: the scored ones on a float32 victim; on a reduced-precision
    victim a fresh float32 pass, so that no recorded success hinges on batch-layout rounding."""
    if not getattr(victim, "reduced_precision", False):
        return probs
    return (yield Confirm([sequence]))[0]


@dataclass
class AttackSpec:
    """What a recipe composes. `units`: 'token' (the victim's token spans) or 'nucleotide'.

    `importance` may also be a callable `(original, units, goal) -> generator returning one gain per unit`
    (FIMBA's attributions). `search` replaces `greedy_search` for recipes that need another search
    (PGD, the TextAttack bridge); it has greedy_search's signature.
    """

    name: str
    threat: ThreatModel
    transformation: Transformation | None
    importance: str | Callable = "mask"  # mask | substitution | random | callable
    units: str = "token"
    accept: str = "improve"  # improve | always
    candidate_filter: CandidateFilter | None = None
    targeted: bool = False
    target_label: int | None = None
    search: Callable | None = None
    label_check: LabelCheck | None = None  # the task's label check (attacks/run.py sets it); records carry it
    # called with each engine step's finished records (attacks/strands.py: the reverse strand's answers)
    annotators: list[Callable] = field(default_factory=list)


@dataclass
class Outcome:
    status: Status
    clean_probs: np.ndarray
    adv_sequence: str | None = None
    adv_probs: np.ndarray | None = None
    edits: list[Edit] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    queries: int | None = None  # set by searches that count their own queries (TextAttack's count)


@dataclass
class Budget:
    """Per-example query accounting, filled in by the driver (distinct sequences this example asked for)."""

    limit: int | None
    used: int = 0

    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)


def _units(spec: AttackSpec, spans, length: int, locked: frozenset[int]) -> list[tuple[int, int]]:
    if spec.units == "nucleotide":
        return [(p, p + 1) for p in range(length) if p not in locked]
    units = []
    for span in spans:
        if span is not None and span[1] > span[0] and any(p not in locked for p in range(*span)):
            if span not in units:
                units.append(span)
    return units


def _rank(spec: AttackSpec, units, original: str, base_score: float, goal: Goal, rng, budget: Budget) -> Search:
    """Units ordered by importance (most important first); a generator because it may query the victim."""
    if callable(spec.importance):
        gains = np.asarray((yield from spec.importance(original, units, goal)), dtype=np.float64)
    elif spec.importance == "random":
        return [units[i] for i in rng.permutation(len(units))]
    elif spec.importance == "mask":
        probes = [original[:a] + "N" * (b - a) + original[b:] for a, b in units]
        gains = (yield from _scores_within_budget(probes, goal, budget)) - base_score
    elif spec.importance == "substitution":
        sub = BaseSubstitution()
        cands = [[apply_edits(original, e) for e in sub.propose(None, original, u)] for u in units]
        scores = yield from _scores_within_budget([s for c in cands for s in c], goal, budget)
        gains, i = np.empty(len(units)), 0
        for j, c in enumerate(cands):
            gains[j], i = scores[i:i + len(c)].max() - base_score, i + len(c)
    else:
        raise ValueError(f"unknown importance {spec.importance!r}")
    order = sorted(range(len(units)), key=lambda j: (-gains[j], units[j][0]))  # stable: ties by position
    return [units[j] for j in order]


def _scores_within_budget(probes: list[str], goal: Goal, budget: Budget) -> Search:
    """Goal scores of the probes the query budget allows (in order); -inf for the rest, which then rank last."""
    allowed = len(probes) if budget.remaining() is None else min(len(probes), budget.remaining())
    scores = np.full(len(probes), -np.inf)
    if allowed:
        scores[:allowed] = goal.scores((yield probes[:allowed]))
    return scores


def substitute(sequence: str, edits: list[Edit]) -> str:
    """`apply_edits` for the search's hot loop: string slices instead of a list of characters (the same
    string, several times faster on long sequences); other orders go through `apply_edits` itself."""
    pieces, last = [], 0
    for pos, ref, alt in edits:
        if pos < last or sequence[pos] != ref:  # unsorted, repeated or stale: apply_edits sorts it out
            return apply_edits(sequence, edits)
        pieces.append(sequence[last:pos])
        pieces.append(alt)
        last = pos + 1
    pieces.append(sequence[last:])
    return "".join(pieces)


def skip_reason(goal: Goal, clean: np.ndarray, label: int) -> str | None:
    """Why an example is not attacked, or None. Only originally-correct examples are attacked (ASR's
    denominator), for every search; a targeted attack also skips examples whose true class already is the
    target (editing them toward it proves nothing), counted apart in the summary."""
    if int(clean.argmax()) != label:
        return "misclassified"
    if goal.target is not None and label == goal.target:
        return "already_target"
    return None


def should_skip(goal: Goal, clean: np.ndarray, label: int) -> bool:
    return skip_reason(goal, clean, label) is not None


def skipped(goal: Goal, clean: np.ndarray, label: int) -> "Outcome | None":
    """The outcome of a skipped example (with its reason), or None when it is attacked."""
    reason = skip_reason(goal, clean, label)
    return None if reason is None else Outcome(Status.SKIPPED, clean, extra={"skip_reason": reason})


def greedy_search(spec: AttackSpec, victim, example: Example, goal: Goal, rng: np.random.Generator,
                  budget: Budget) -> Search:
    original = example.sequence
    clean = (yield [original])[0]
    if (skip := skipped(goal, clean, example.label)) is not None:
        return skip
    reference = spec.threat.original(original, example.meta)
    base_score = goal.scores(clean[None])[0]
    spans = victim.token_spans(original) if spec.units == "token" else None
    units = _units(spec, spans, len(original), reference.protected)
    order = yield from _rank(spec, units, original, base_score, goal, rng, budget)
    state = spec.transformation.prepare(original, rng)
    current, score, probs = original, base_score, clean
    made = Candidate(original, [], [])  # what the search has kept so far
    max_edits = spec.threat.max_edits(len(original))
    for unit in order:
        if spec.threat.spent(made) >= max_edits or budget.remaining() == 0:
            break
        if spec.threat.indels:  # proposals in the original's coordinates, whatever the length has become
            proposals = spec.threat.extend(reference, made, spec.transformation.propose(state, original, unit))
        else:
            proposals = [Candidate(substitute(current, e), sorted(made.edits + e), e)
                         for e in spec.transformation.propose(state, current, unit)]
        admitted = spec.threat.admit(proposals, reference)
        kept = [c for c, ok in zip(proposals, admitted) if ok]
        if kept and spec.candidate_filter is not None:
            mask = yield FilterRequest(spec.candidate_filter, original, [c.sequence for c in kept],
                                       [made.edits + c.new for c in kept])
            kept = [c for c, m in zip(kept, mask) if m]
        if budget.remaining() is not None:
            kept = kept[: budget.remaining()]
        if not kept:
            continue
        cand_probs = yield [c.sequence for c in kept]
        scores = goal.scores(cand_probs)
        best = int(scores.argmax())
        if spec.accept == "always" or scores[best] > score:
            made, score, probs = kept[best], scores[best], cand_probs[best]
            current = made.sequence
            if goal.reached(probs[None])[0]:
                decided = yield from decided_probs(victim, current, probs)
                if goal.reached(decided[None])[0]:
                    return Outcome(Status.SUCCESS, clean, current, decided, made.edits, _fitted(made))
                # reduced-precision rounding only: keep the edit and walk on
    return Outcome(Status.FAILED, clean, current, probs, made.edits)


def _fitted(made: Candidate) -> dict:
    """A success's record names the edits that only fit the length (attack.length=keep with indels)."""
    return {"length_fit": made.fit} if made.fit else {}
