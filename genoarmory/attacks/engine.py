"""The driver: runs the searches of many examples in lock-step and writes one record per example.

Each step gathers every sequence all active searches asked for into ONE `Victim.submit` call
(deduplicated, cached, length-bucketed, OOM-safe there). On CUDA the active examples are split into two
lanes: while the GPU scores one lane's step, the host runs the other lane's searches (Python), so neither
waits for the other; examples never see each other, so the lanes change no record. A transformation with
per-example set-up (`prepare_many`) gets the examples about to start in one call. Records are written in
example order, fsynced one by one, so a killed run resumes exactly where it stopped (finished ids are skipped).
Every success is self-checked: re-scored by a fresh forward pass with the cache bypassed, and rebuilt
from the original through its edit list; a mismatch is an error, never a silent record.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from genoarmory.attacks.goal import Goal, make_goal
from genoarmory.attacks.search import AttackSpec, Budget, Outcome, greedy_search
from genoarmory.data.example import Example
from genoarmory.progress import progress
from genoarmory.results import RecordWriter
from genoarmory.sequence import apply_edits


class SelfCheckError(RuntimeError):
    pass


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


def example_rng(seed: int, example_id: str) -> np.random.Generator:
    """Per-example randomness that does not depend on which other examples run beside it."""
    return np.random.default_rng([int(seed), zlib.crc32(example_id.encode())])


def make_record(ex: Example, outcome: Outcome, queries: int, seconds: float, spec: AttackSpec, seed: int,
                config_hash: str) -> dict:
    success = outcome.status == "success"
    final = outcome.adv_probs if outcome.adv_probs is not None else outcome.clean_probs
    return {
        "id": ex.id, "label": ex.label, "sequence": ex.sequence,
        "clean_pred": int(outcome.clean_probs.argmax()), "clean_probs": [round(float(p), 6) for p in outcome.clean_probs],
        "status": outcome.status,
        "adv_sequence": outcome.adv_sequence if success else None,
        "adv_pred": int(final.argmax()), "adv_probs": [round(float(p), 6) for p in final],
        "edits": [list(e) for e in outcome.edits] if success else [],
        "queries": queries if outcome.queries is None else outcome.queries,
        "perturbation_rate": len(outcome.edits) / len(ex.sequence) if success else 0.0,
        "seconds": round(seconds, 4),
        "attack": spec.name, "seed": seed, "config_hash": config_hash, "meta": ex.meta, **outcome.extra,
    }


def self_check(victim, finished: list[tuple[_Active, Outcome]]) -> None:
    wins = [(a, o) for a, o in finished if o.status == "success"]
    if not wins:
        return
    fresh = victim.predict_proba([o.adv_sequence for _, o in wins], use_cache=False)
    for (a, o), probs in zip(wins, fresh):
        if apply_edits(a.example.sequence, [tuple(e) for e in o.edits]) != o.adv_sequence:
            raise SelfCheckError(f"{a.example.id}: edit list does not rebuild the adversarial sequence")
        if not a.goal.reached(probs[None])[0]:
            raise SelfCheckError(f"{a.example.id}: adversarial sequence no longer fools the model on a fresh pass "
                                 f"(cached {o.adv_probs.round(4)}, fresh {probs.round(4)})")


@dataclass
class _Lane:
    capacity: int
    active: list[_Active] = field(default_factory=list)
    pending: object = None  # the lane's step in flight on the victim


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
        lanes = 2 if getattr(getattr(victim, "device", None), "type", "cpu") == "cuda" else 1
    lanes = max(1, min(int(lanes), parallel))
    return [parallel // lanes + (i < parallel % lanes) for i in range(lanes)]


def run_attack(spec: AttackSpec, victim, examples: list[Example], writer: RecordWriter, seed: int,
               config_hash: str, parallel: int = 32, show_progress: bool = True,
               search_fn: Callable = greedy_search, lanes: int | None = None) -> list[dict]:
    """Attack every example not yet in `writer`; returns all records (earlier ones included).
    `lanes`: how many groups of examples alternate on the victim (None: 2 on CUDA, else 1)."""
    search_fn = spec.search or search_fn  # recipes with their own search (PGD, the TextAttack bridge)
    queue = [e for e in examples if e.id not in writer.done]
    bar = progress(len(examples), f"attack {spec.name}", show_progress, initial=len(examples) - len(queue))
    attacked = sum(r["status"] != "skipped" for r in writer.records)
    wins = sum(r["status"] == "success" for r in writer.records)
    done: dict[int, dict] = {}
    next_write, next_start = 0, 0

    prepare_many = getattr(spec.transformation, "prepare_many", None)
    prepared_until = 0

    def fill(lane: _Lane) -> None:
        nonlocal next_start, prepared_until
        starting = min(lane.capacity - len(lane.active), len(queue) - next_start)
        if prepare_many is not None and starting > 0 and next_start + starting > prepared_until:
            # a transformation with per-example set-up (a masked-LM pass) does it for many examples at once
            end = min(len(queue), max(next_start + starting, prepared_until + parallel))
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
        lane.pending = _submit(victim, [s for a in lane.active for s in a.request]) if lane.active else None

    lanes_ = [_Lane(size) for size in lane_sizes(parallel, victim, lanes)]
    for lane in lanes_:
        fill(lane)
    while next_write < len(queue):
        for lane in lanes_:
            if lane.pending is None:
                continue
            probs = lane.pending.result()
            offset, still, finished = 0, [], []
            for a in lane.active:
                n = len(a.request)
                a.seen.update(a.request)
                a.budget.used = len(a.seen)
                try:
                    a.request = a.search.send(probs[offset:offset + n])
                    still.append(a)
                except StopIteration as stop:
                    finished.append((a, stop.value))
                offset += n
            self_check(victim, finished)
            for a, outcome in finished:
                done[a.index] = make_record(a.example, outcome, len(a.seen), time.perf_counter() - a.started,
                                            spec, seed, config_hash)
            lane.active = still
            fill(lane)
            while next_write in done:
                record = done.pop(next_write)
                writer.append(record)
                next_write += 1
                attacked += record["status"] != "skipped"
                wins += record["status"] == "success"
                bar.update(1)
                bar.set_postfix(asr=f"{wins / max(1, attacked):.2f}", queries=victim.queries)
    bar.close()
    return writer.records
