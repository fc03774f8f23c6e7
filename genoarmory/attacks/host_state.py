"""How the Python process is set while an attack loop runs: its garbage collector and its GIL hand-off.

Both are process-wide, so each is set for the attack only and put back afterwards, also on an error. The
engine enters `attack_host_state` around its loop; benchmarks switch each part off or change it through the
module's constants.
"""

from __future__ import annotations

import contextlib
import gc
import sys

FREEZE_HEAP = True  # `frozen_heap` around the attack loop (benchmarks/host_cost.py turns it off to compare)
# gc's third threshold inside the attack loop: how many collections of the middle generation come between two
# full ones (Python's own: 10); None leaves Python's. `frozen_heap` says why 100
FULL_COLLECTION_THRESHOLD: int | None = 100
# `sys.setswitchinterval` while an attack runs on a victim with a launcher thread (CUDA); None: Python's own
# (5 ms): shorter intervals measured no steady gain on the H200 (RESULTS.md, run 11)
LAUNCH_SWITCH_INTERVAL: float | None = None


@contextlib.contextmanager
def frozen_heap():
    """The objects alive when an attack starts (models, tokenizers, compiled code, data) kept out of Python's
    garbage collections until it ends (`gc.freeze`), and full collections ten times rarer inside the loop.

    The searches allocate fast enough to trigger full collections, and each walks every tracked object with
    the GIL held: on the H200, 0.74-1.2 M objects in 0.39-0.65 s, in attack runs of 1.1-20 s (RESULTS.md,
    run 11). Freezing leaves such a collection only what the attack made (49-86 k objects, 0.03-0.05 s, run 11),
    and fewer of them are cheaper still (benchmarks/host_cost.py, side by side, BERT-Attack: 10.2-10.8 µs per
    query at this threshold, 10.0-11.1 with none in the loop, 11.0-11.5 frozen at Python's threshold, 22.1-22.9
    with Python's own collector). They are made rarer, not stopped: a compile inside the loop
    (`model.compile=auto` meeting a new length bucket) leaves hundreds of thousands of cyclic objects (0.67-0.79
    M freed by the full collections of DNABERT-2's cold runs in run 11), and an attack meeting many buckets must
    not keep all of them until it ends. The young generations are collected as usual. At the end one full
    collection walks what the attack made, the heap still frozen, which also resets the collector's counts so
    the whole heap is not walked straight after; then every frozen object goes back to the oldest generation.
    A heap already partly frozen is frozen all the same: on the H200 other code in the process had frozen 375
    objects, and skipping the freeze then left the whole heap to the collector (run 11). Unfreezing them
    afterwards only lets the collector look at them again."""
    threshold, freeze = gc.get_threshold(), FREEZE_HEAP
    if FULL_COLLECTION_THRESHOLD is not None:
        gc.set_threshold(threshold[0], threshold[1], FULL_COLLECTION_THRESHOLD)
    if freeze:
        gc.freeze()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if freeze:
            gc.collect()  # only the attack's objects: the heap is still frozen
            gc.unfreeze()


@contextlib.contextmanager
def quick_handoff(victim):
    """A shorter GIL switch interval while the victim's launcher thread (models/victim.py) works beside the
    searches. That thread's launch of a forward pass is hundreds of small torch calls, each giving the GIL up
    and taking it back; taking it back waits until the thread running Python is made to give it up, every
    switch interval (benchmarks/gil_handoff.py: a 2 µs call took 360 µs beside a Python thread at the default
    5 ms, 32-41 µs at 0.2 ms). Off in the product (LAUNCH_SWITCH_INTERVAL None): on the H200 it gained nothing
    steady (RESULTS.md, run 11); benchmarks turn it on to measure. Victims without a launcher thread (CPU) keep
    Python's own interval either way."""
    if LAUNCH_SWITCH_INTERVAL is None or not getattr(victim, "launch_thread", False):
        yield
        return
    before = sys.getswitchinterval()
    sys.setswitchinterval(LAUNCH_SWITCH_INTERVAL)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@contextlib.contextmanager
def attack_host_state(victim):
    """Both of the above, for one attack loop on `victim`."""
    with frozen_heap(), quick_handoff(victim):
        yield
