"""Named time spans of an attack, for benchmarks and profiles, without reaching into the code they time.

The victim and the attack engine mark their phases with `span(observer, name)`: every span is a
torch.profiler `record_function` range (named `genoarmory.<name>`, so a profile shows where the host's
time goes), and, when the victim carries an observer, a call `observer(name, seconds, count)` at its end.
`Timings` is such an observer: seconds and counts per span name. Nothing here changes what runs; with no
observer and no profiler a span costs a few microseconds.

Span names: `victim.launch` (tokenise and queue a request's forward passes; count: sequences),
`victim.exact` (the same for a float32 pass; count: sequences), `victim.wait` (wait for the device's
probabilities), `engine.prepare` (a transformation's per-example set-up, BERT-Attack's masked LM),
`engine.filter` (candidate filters, with the search steps they answer), `engine.records` (writing and
fsyncing records). Spans do not nest, so their seconds add up; what is left of a run's time is the
searches' and the engine's own Python.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Iterator

from torch.profiler import record_function

Observer = Callable[[str, float, int], None]


@contextmanager
def span(observer: Observer | None, name: str, count: int = 0) -> Iterator[None]:
    with record_function(f"genoarmory.{name}"):
        if observer is None:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        finally:
            observer(name, time.perf_counter() - start, count)


class Timings:
    """An observer that adds up seconds and counts per span name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)

    def __call__(self, name: str, seconds: float, count: int = 0) -> None:
        self.seconds[name] += seconds
        self.counts[name] += count
        self.calls[name] += 1

    def summary(self) -> dict:
        return {name: {"seconds": round(self.seconds[name], 4), "calls": self.calls[name],
                       "count": self.counts[name]} for name in sorted(self.seconds)}
