"""Batch per-example gradient work (PGD, attributions) across the examples the engine runs in lock-step.

The engine advances every active search one step at a time. A search that needs gradient work
registers its input here and then yields an empty request; by the time it resumes, every other search
of that step has registered too, and the first `result` call computes all pending inputs in one
batched call. With any other driver it still works, just with smaller batches.
"""

from __future__ import annotations

from typing import Any, Callable


class Gathered:
    def __init__(self, compute: Callable[[list[Any]], list[Any]]):
        """`compute(items) -> results`, one result per item, in order."""
        self.compute = compute
        self._pending: list[tuple[int, Any]] = []
        self._done: dict[int, Any] = {}
        self._next = 0

    def register(self, item: Any) -> int:
        ticket, self._next = self._next, self._next + 1
        self._pending.append((ticket, item))
        return ticket

    def result(self, ticket: int) -> Any:
        if ticket not in self._done:
            pending, self._pending = self._pending, []
            results = self.compute([item for _, item in pending])
            self._done.update({t: r for (t, _), r in zip(pending, results)})
        return self._done.pop(ticket)
