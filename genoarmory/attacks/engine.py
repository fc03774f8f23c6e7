"""The driver: runs the searches of many examples in lock-step and writes one record per example.

Each step gathers every sequence all active searches asked for into ONE `Victim.submit` call
(deduplicated, cached, length-bucketed, OOM-safe there). On CUDA the active examples are split into two
lanes: while the GPU scores one lane's step, the host runs the other lane's searches (Python), so neither
waits for the other; examples never see each other, so the lanes change no record. A transformation with
per-example set-up (`prepare_many`) gets the examples about to start in one call. A search may also ask
for its candidate filter (`FilterRequest`: answered for all searches of a lane at once, through the
filter's `many` when it has one) or for a float32 confirmation of a success (`Confirm`, on victims whose
queries run in bf16: queued beside the lane's scores). Records are written in
example order, fsynced per engine step: the records that became ready in one step go in one
`RecordWriter.extend` (one write, one fsync per batch), so a killed run loses at most the records not yet
fsynced (those in flight) and resumes exactly where it stopped (finished ids are skipped).
Every success is self-checked: re-scored by a fresh forward pass with the cache bypassed (float32 where
queries run in bf16, as the success was decided), and rebuilt
from the original through its edit list; a mismatch is an error, never a silent record.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from genoarmory.attacks.goal import Goal, make_goal
from genoarmory.attacks.host_state import attack_host_state
from genoarmory.attacks.search import AttackSpec, Budget, Confirm, FilterRequest, Outcome, greedy_search
from genoarmory.data.example import Example
from genoarmory.observe import span
from genoarmory.progress import progress
from genoarmory.results import AttackRecord, RecordWriter, Status, make_record
from genoarmory.sequence import apply_edits


class SelfCheckError(RuntimeError):
    pass


CONFIRM_BATCH = 16  # float32 confirmations sent together (see `_launch`)
CONFIRM_WAIT = 4  # lane steps a confirmation may wait for others


@dataclass
class _Active:
    index: int
    example: Example
    goal: Goal
    search: object
    budget: Budget
    started: float
    request: list[str] = field(default_factory=list)
    seen: set = field(default_factory=set)
    confirmed: dict = field(default_factory=dict)  # sequence -> probabilities of its fresh float32 pass
    held: int = 0  # lane steps its confirmation has waited for company (see `_launch`)


def example_rng(seed: int, example_id: str) -> np.random.Generator:
    """Per-example randomness that does not depend on which other examples run beside it."""
    return np.random.default_rng([int(seed), zlib.crc32(example_id.encode())])


def self_check(victim, finished: list[tuple[_Active, Outcome]]) -> None:
    """A success decided by a fresh float32 pass (a `Confirm`) was re-scored already; every other one gets a
    fresh pass now (float32 where queries run in bf16)."""
    wins = [(a, o) for a, o in finished if o.status is Status.SUCCESS]
    if not wins:
        return
    unconfirmed = [o.adv_sequence for a, o in wins if o.adv_sequence not in a.confirmed]
    if not unconfirmed:
        fresh = {}
    elif getattr(victim, "reduced_precision", False):
        fresh = dict(zip(unconfirmed, victim.predict_proba(unconfirmed, use_cache=False, exact=True)))
    else:
        fresh = dict(zip(unconfirmed, victim.predict_proba(unconfirmed, use_cache=False)))
    for a, o in wins:
        probs = a.confirmed.get(o.adv_sequence, fresh.get(o.adv_sequence))
        if apply_edits(a.example.sequence, [tuple(e) for e in o.edits]) != o.adv_sequence:
            raise SelfCheckError(f"{a.example.id}: edit list does not rebuild the adversarial sequence")
        if not a.goal.reached(probs[None])[0]:
            raise SelfCheckError(f"{a.example.id}: adversarial sequence no longer fools the model on a fresh pass "
                                 f"(recorded {o.adv_probs.round(4)}, fresh {probs.round(4)})")


@dataclass
class _Lane:
    capacity: int
    active: list[_Active] = field(default_factory=list)
    pending: object = None  # the lane's scores in flight on the victim
    pending_exact: object = None  # its float32 confirmations in flight (reduced-precision victims only)
    confirming: set = field(default_factory=set)  # ids of the searches whose confirmation is in flight


class _Ready:
    """`submit` for victims that only have `predict_proba` (duck-typed stand-ins)."""

    def __init__(self, probs: np.ndarray):
        self.probs = probs

    def result(self) -> np.ndarray:
        return self.probs


def _submit(victim, sequences: list[str]):
    submit = getattr(victim, "submit", None)
    return submit(sequences) if submit is not None else _Ready(victim.predict_proba(sequences))


def lane_sizes(parallel: int, victim, lanes: int | None = None) -> list[int]:
    """Examples in flight per lane: two lanes on CUDA (host and GPU overlap), one elsewhere."""
    parallel = max(1, int(parallel))
    if lanes is None:
        lanes = 2 if _on_cuda(victim) else 1
    lanes = max(1, min(int(lanes), parallel))
    return [parallel // lanes + (i < parallel % lanes) for i in range(lanes)]


def resolve_parallel(parallel: int | str | None, victim) -> int:
    """Examples stepped together; 'auto': 512 on CUDA, where bigger forward passes cost the host no more
    (on an H200, 512 against 32 gave 1.1x-3.8x the queries/s, and memory is bounded by the victim's batch
    size, not by this: benchmarks/RESULTS.md); 32 elsewhere (CPU batches are full long before that)."""
    if parallel in (None, "auto"):
        return 512 if _on_cuda(victim) else 32
    return max(1, int(parallel))


def _on_cuda(victim) -> bool:
    return getattr(getattr(victim, "device", None), "type", "cpu") == "cuda"


def _advance(a: _Active, answer, finished: list) -> bool:
    """Send `answer` to the search; False (and the outcome in `finished`) when it is done."""
    try:
        a.request = a.search.send(answer)
        return True
    except StopIteration as stop:
        finished.append((a, stop.value))
        return False


def _filter_masks(requests: list[FilterRequest]) -> list[np.ndarray]:
    """Every request of the same filter in one call when it can take many (one batched encoder pass)."""
    masks: list = [None] * len(requests)
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(requests):
        groups.setdefault(id(r.filter), []).append(i)
    for idx in groups.values():
        many = getattr(requests[idx[0]].filter, "many", None)
        answers = many([requests[i] for i in idx]) if many else [requests[i].answer_alone() for i in idx]
        for i, m in zip(idx, answers):
            masks[i] = m
    return masks


def _answer_filters(active: list[_Active], finished: list) -> list[_Active]:
    """Answer filter requests until every running search asks for scores; returns those still running."""
    while True:
        asking = [a for a in active if isinstance(a.request, FilterRequest)]
        if not asking:
            return active
        done = {id(a) for a, m in zip(asking, _filter_masks([a.request for a in asking])) if not _advance(a, m, finished)}
        active = [a for a in active if id(a) not in done]


def _answer_scores(lane: _Lane, finished: list) -> list[_Active]:
    """Give each search its slice of the lane's scores (float32 confirmations apart); returns those running."""
    probs = lane.pending.result()
    exact = lane.pending_exact.result() if lane.pending_exact is not None else None
    offsets, still = [0, 0], []
    for a in lane.active:
        confirm = isinstance(a.request, Confirm)
        if confirm and id(a) not in lane.confirming:  # held back this step: still waiting
            still.append(a)
            continue
        n, start = len(a.request), offsets[confirm]
        offsets[confirm] += n
        if not confirm:
            a.seen.update(a.request)
            a.budget.used = len(a.seen)
        answer = (exact if confirm else probs)[start:start + n]
        if confirm:
            a.confirmed.update(zip(a.request, answer))
        if _advance(a, answer, finished):
            still.append(a)
    return still


def _launch(victim, lane: _Lane) -> None:
    """Queue the lane's scores, and its float32 confirmations once CONFIRM_BATCH of them are waiting, one has
    waited CONFIRM_WAIT steps, or nothing else is left to score (each pass costs the host a full launch)."""
    lane.pending_exact, lane.confirming = None, set()
    if not lane.active:
        lane.pending = None
        return
    lane.pending = _submit(victim, [s for a in lane.active if not isinstance(a.request, Confirm) for s in a.request])
    asking = [a for a in lane.active if isinstance(a.request, Confirm)]
    if not asking:
        return
    if (sum(len(a.request) for a in asking) >= CONFIRM_BATCH or max(a.held for a in asking) >= CONFIRM_WAIT
            or len(asking) == len(lane.active)):
        lane.pending_exact = victim.submit([s for a in asking for s in a.request], exact=True)
        lane.confirming = {id(a) for a in asking}
        for a in asking:
            a.held = 0
    else:
        for a in asking:
            a.held += 1


def run_attack(spec: AttackSpec, victim, examples: list[Example], writer: RecordWriter, seed: int,
               config_hash: str, parallel: int | str = "auto", show_progress: bool = True,
               search_fn: Callable = greedy_search, lanes: int | None = None) -> list[AttackRecord]:
    """Attack every example not yet in `writer`; returns all records (earlier ones included).
    `lanes`: how many groups of examples alternate on the victim (None: 2 on CUDA, else 1)."""
    search_fn = spec.search or search_fn  # recipes with their own search (PGD, the TextAttack bridge)
    parallel = resolve_parallel(parallel, victim)
    queue = [e for e in examples if e.id not in writer.done]
    # smoothing=0: the ETA is the whole run's average rate; records finish in bursts (a lane's batch), so the
    # default moving average made the first estimates swing wildly
    bar = progress(len(examples), f"attack {spec.name}", show_progress, initial=len(examples) - len(queue),
                   smoothing=0)
    shown = [0.0]  # when the postfix was last refreshed

    def show(force: bool = False) -> None:
        """asr so far and the cumulative queries, refreshed per answered batch, not
        only when a record is written: a long first example used to freeze `queries=`. At most as often as
        the bar itself redraws (0.2 s on a terminal, 30 s in a log)."""
        now = time.monotonic()
        if force or now - shown[0] >= max(0.5, getattr(bar, "mininterval", 0.5)):  # a disabled bar has none
            shown[0] = now
            bar.set_postfix(asr=f"{wins / max(1, attacked):.2f}", queries=victim.queries)

    attacked = sum(r.attacked for r in writer.records)
    wins = sum(r.succeeded for r in writer.records)
    done: dict[int, AttackRecord] = {}
    next_write, next_start = 0, 0

    observer = getattr(victim, "observer", None)  # observe.py: the benchmark's time split
    prepare_many = getattr(spec.transformation, "prepare_many", None)
    prepared_until = 0

    def start_searches(lane: _Lane) -> None:
        nonlocal next_start, prepared_until
        starting = min(lane.capacity - len(lane.active), len(queue) - next_start)
        if prepare_many is not None and starting > 0 and next_start + starting > prepared_until:
            # a transformation with per-example set-up (a masked-LM pass) does it for many examples at once
            end = min(len(queue), max(next_start + starting, prepared_until + parallel))
            with span(observer, "engine.prepare", end - max(prepared_until, next_start)):
                prepare_many([e.sequence for e in queue[max(prepared_until, next_start):end]])
            prepared_until = end
        while len(lane.active) < lane.capacity and next_start < len(queue):
            ex = queue[next_start]
            goal = make_goal(ex.label, spec.targeted, spec.target_label, victim.num_labels)
            budget = Budget(spec.threat.query_budget)
            a = _Active(next_start, ex, goal, search_fn(spec, victim, ex, goal, example_rng(seed, ex.id), budget),
                        budget, time.perf_counter())
            a.request = next(a.search)
            lane.active.append(a)
            next_start += 1

    def settle(lane: _Lane, finished: list) -> None:
        """Top the lane up, answer its filter requests, record what finished, queue its next scores."""
        start_searches(lane)
        with span(observer, "engine.filter"):
            lane.active = _answer_filters(lane.active, finished)
        self_check(victim, finished)  # its passes are the victim's own spans
        made = []
        for a, outcome in finished:
            record = make_record(a.example, outcome, len(a.seen), time.perf_counter() - a.started,
                                 spec.name, seed, config_hash)
            if spec.label_check is not None and record.succeeded:  # what the task's oracle says of it
                fields = spec.label_check.record_fields(record.sequence, record.adv_sequence, record.edits)
                for key, value in fields.items():
                    setattr(record, key, value)
            done[a.index] = record
            made.append(record)
        for annotate in spec.annotators if made else ():
            annotate(made)
        _launch(victim, lane)

    with attack_host_state(victim):  # the collector and the GIL hand-off set for the loop (host_state.py)
        lanes_ = [_Lane(size) for size in lane_sizes(parallel, victim, lanes)]
        for lane in lanes_:
            settle(lane, [])
        while next_write < len(queue):
            for lane in lanes_:
                if lane.pending is None:
                    continue
                finished: list = []
                lane.active = _answer_scores(lane, finished)
                settle(lane, finished)
                show()
                ready = []  # the records now next in example order: one write and one fsync for all of them
                while next_write in done:
                    ready.append(done.pop(next_write))
                    next_write += 1
                if ready:
                    with span(observer, "engine.records", len(ready)):
                        writer.extend(ready)
                    for record in ready:
                        attacked += record.attacked
                        wins += record.succeeded
                    bar.update(len(ready))
    show(force=True)
    bar.close()
    return writer.records
