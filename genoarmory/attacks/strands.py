"""Both strands of the DNA: the reverse-strand check of every record, and the `both_strands` goal.

A double-stranded sequence and its reverse complement are the same molecule, so on a strand-agnostic task
a model should answer both alike (data/strands.py says which tasks are not strand-agnostic).

`ReverseStrand` annotates every finished record (attacks/engine.py calls it once per step, for all records
of the step) with the victim's answer on the reverse complement of the original (`rc_probs`) and, for a
success, of the adversarial sequence (`adv_rc_probs`): fresh passes outside the search (cache bypassed,
float32), not counted as the search's queries. The summary's `rc_consistency`, `rc_prob_gap` and
`both_strands_asr` are computed from them (metrics/compute.py).

`attack.goal=both_strands` (`both_strands(search)`): success only when the model is fooled on the sequence
AND on its reverse complement at once, so an attack cannot win by exploiting a strand asymmetry alone.
Every sequence a search asks for is scored on both strands (each candidate costs two queries, and the query
budget is shared: the search sees half of what is left); the search climbs the strand on which the goal is
furthest from reached (the larger margin of the true label, or the larger gap to the target), so its goal
is reached exactly when it is reached on both. Records keep the probabilities of the sequence as given
(the strand the search edits); `adv_rc_probs` shows the other strand fooled as well. So under this goal an
example is attacked when the model is right on at least one strand, and skipped only when it is wrong on
both. Searches that score through their own loop (attack=textattack) cannot be paired and are refused.
"""

from __future__ import annotations

import numpy as np

from genoarmory.attacks.goal import Goal
from genoarmory.attacks.search import Budget, Confirm, FilterRequest, Outcome
from genoarmory.results.records import AttackRecord, round_probs
from genoarmory.sequence import reverse_complement

GOALS = ("one_strand", "both_strands")


class ReverseStrand:
    """Fills `rc_probs` (every record) and `adv_rc_probs` (successes) from one fresh pass of the victim."""

    def __init__(self, victim):
        self.victim = victim

    def __call__(self, records: list[AttackRecord]) -> None:
        wins = [r for r in records if r.succeeded]
        sequences = [reverse_complement(r.sequence) for r in records]
        sequences += [reverse_complement(r.adv_sequence) for r in wins]
        if not sequences:
            return
        probs = self.victim.predict_proba(sequences, use_cache=False, exact=True)
        for r, p in zip(records, probs[:len(records)]):
            r.rc_probs = round_probs(p)
        for r, p in zip(wins, probs[len(records):]):
            r.adv_rc_probs = round_probs(p)


def resistance(goal: Goal, probs: np.ndarray) -> np.ndarray:
    """How far each row is from reaching the goal (> 0: not reached): the true label's margin over the best
    other class, or (targeted) the best other class's margin over the target."""
    probs = np.asarray(probs, dtype=np.float64)
    keep = goal.target if goal.target is not None else goal.label
    others = np.delete(probs, keep, axis=1).max(axis=1)
    margin = probs[:, keep] - others
    return -margin if goal.target is not None else margin


def least_fooled(goal: Goal, forward: np.ndarray, reverse: np.ndarray) -> np.ndarray:
    """Per row, the probabilities of the strand on which the goal is furthest from reached."""
    if len(forward) == 0:
        return forward
    pick_forward = resistance(goal, forward) >= resistance(goal, reverse)
    return np.where(pick_forward[:, None], forward, reverse)


class _HalfBudget(Budget):
    """The search's view of a shared budget when each of its sequences costs two queries."""

    def __init__(self, outer: Budget):
        super().__init__(outer.limit)
        self.outer = outer

    def remaining(self) -> int | None:
        left = self.outer.remaining()
        return None if left is None else left // 2


def both_strands(search_fn):
    """A search function with `search_fn`'s signature whose goal must be reached on both strands at once."""

    def search(spec, victim, example, goal, rng, budget):
        inner = search_fn(spec, victim, example, goal, rng, _HalfBudget(budget))
        forward: dict[str, np.ndarray] = {}  # sequence -> the victim's answer on it as given
        request = next(inner)
        while True:
            if isinstance(request, FilterRequest):
                answer = yield request
            else:
                asked = list(request)
                paired = asked + [reverse_complement(s) for s in asked]
                probs = yield (Confirm(paired) if isinstance(request, Confirm) else paired)
                ahead, behind = probs[:len(asked)], probs[len(asked):]
                forward.update(zip(asked, ahead))
                answer = least_fooled(goal, ahead, behind)
            try:
                request = inner.send(answer)
            except StopIteration as stop:
                return _as_given(stop.value, example.sequence, forward)

    return search


def _as_given(outcome: Outcome, original: str, forward: dict) -> Outcome:
    """The outcome with the probabilities of the sequences as given (what records hold for every goal)."""
    outcome.clean_probs = forward.get(original, outcome.clean_probs)
    if outcome.adv_sequence is not None and outcome.adv_sequence in forward:
        outcome.adv_probs = forward[outcome.adv_sequence]
    return outcome
