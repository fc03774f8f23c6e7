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
searches' and the engine's own Python. On CUDA the victim's launcher thread marks `launcher.launch` and
`launcher.exact` (the tokenising and queueing itself, models/victim.py) beside the caller's spans, which then
hold only the hand-over (`victim.launch`) and the waiting (`victim.wait`): `launcher.*` spans overlap the
others and are not part of that sum (`caller_seconds`).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Iterator

from torch.profiler import record_function

Observer = Callable[[str, float, int], None]
LAUNCHER = "launcher."  # the prefix of the launcher thread's spans


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
        self._lock = threading.Lock()  # the launcher thread reports too

    def __call__(self, name: str, seconds: float, count: int = 0) -> None:
        with self._lock:
            self.seconds[name] += seconds
            self.counts[name] += count
            self.calls[name] += 1

    def caller_seconds(self) -> float:
        """Seconds inside the calling thread's spans (the launcher thread's overlap them)."""
        return sum(v for k, v in self.seconds.items() if not k.startswith(LAUNCHER))

    def summary(self) -> dict:
        return {name: {"seconds": round(self.seconds[name], 4), "calls": self.calls[name],
                       "count": self.counts[name]} for name in sorted(self.seconds)}
