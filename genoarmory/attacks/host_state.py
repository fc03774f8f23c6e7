"""How the Python process is set while an attack loop runs: its garbage collector and its GIL hand-off.

Both are process-wide, so each is set for the attack only and put back afterwards, also on an error; a
setting someone else made (a heap already frozen) is left as it is. The engine enters `attack_host_state`
around its loop; benchmarks switch each part off or change it through the module's constants.
"""

from __future__ import annotations

import contextlib
import gc
import sys

FREEZE_HEAP = True  # `frozen_heap` around the attack loop (benchmarks/host_cost.py turns it off to compare)
# `sys.setswitchinterval` while an attack runs on a victim with a launcher thread (CUDA); None: Python's own
# (5 ms). Set from the side-by-side runs in benchmarks/RESULTS.md (run 11)
LAUNCH_SWITCH_INTERVAL: float | None = None


@contextlib.contextmanager
def frozen_heap():
    """The objects alive when an attack starts (models, tokenizers, compiled code, data) kept out of Python's
    garbage collections until it ends (`gc.freeze`): they live for the whole attack anyway, and the searches
    allocate fast enough to trigger full collections that walk all of them with the GIL held. One such
    collection doubled the host's time per query (benchmarks/host_cost.py, side by side: 20.5-21.5 against
    10.5-11.2 µs per query for BERT-Attack on the embedded default). Objects made during the attack are
    collected as usual; at the end the frozen ones go back to the oldest generation. A heap someone else
    froze is left as it is."""
    if not FREEZE_HEAP or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def quick_handoff(victim):
    """A shorter GIL switch interval while the victim's launcher thread (models/victim.py) works beside the
    searches. That thread's launch of a forward pass is hundreds of small torch calls, each giving the GIL up
    and taking it back; taking it back waits until the thread running Python is made to give it up, every
    switch interval (benchmarks/gil_handoff.py: a 2 µs call took 360 µs beside a Python thread at the default
    5 ms, 32-41 µs at 0.2 ms). Victims without a launcher thread (CPU) keep Python's own interval."""
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
