"""The driver: runs the searches of many examples in lock-step and writes one record per example.

Each step gathers every sequence all active searches asked for into ONE `Victim.predict_proba` call
(deduplicated, cached, length-bucketed, OOM-safe there). Records are written in example order,
fsynced one by one, so a killed run resumes exactly where it stopped (finished ids are skipped).
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


def run_attack(spec: AttackSpec, victim, examples: list[Example], writer: RecordWriter, seed: int,
               config_hash: str, parallel: int = 32, show_progress: bool = True,
               search_fn: Callable = greedy_search) -> list[dict]:
    """Attack every example not yet in `writer`; returns all records (earlier ones included)."""
    search_fn = spec.search or search_fn  # recipes with their own search (PGD, the TextAttack bridge)
    queue = [e for e in examples if e.id not in writer.done]
    bar = progress(len(examples), f"attack {spec.name}", show_progress, initial=len(examples) - len(queue))
    active: list[_Active] = []
    done: dict[int, dict] = {}
    next_write, next_start = 0, 0
    while next_write < len(queue):
        while len(active) < parallel and next_start < len(queue):
            ex = queue[next_start]
            goal = make_goal(ex.label, spec.targeted, spec.target_label, victim.num_labels)
            budget = Budget(spec.threat.query_budget)
            a = _Active(next_start, ex, goal, search_fn(spec, victim, ex, goal, example_rng(seed, ex.id), budget),
                        budget, time.perf_counter())
            a.request = next(a.search)
            active.append(a)
            next_start += 1
        flat = [s for a in active for s in a.request]
        probs = victim.predict_proba(flat)
        offset, still, finished = 0, [], []
        for a in active:
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
        active = still
        while next_write in done:
            writer.append(done.pop(next_write))
            next_write += 1
            bar.update(1)
            attacked = [r for r in writer.records if r["status"] != "skipped"]
            wins = sum(r["status"] == "success" for r in attacked)
            bar.set_postfix(asr=f"{wins / max(1, len(attacked)):.2f}", queries=victim.queries)
    bar.close()
    return writer.records
