"""What a thread that launches many small torch calls loses while another thread runs Python (CPU, one run).

    python benchmarks/gil_handoff.py [--ops 5000] [--intervals 5,1,0.5,0.2,0.1]

The victim's launcher thread (models/victim.py) queues a forward pass as hundreds of small calls (compiled layer
calls, kernel launches). Each call releases Python's GIL and must take it back; while the engine's searches run
Python on the calling thread, taking it back waits for that thread to give it up, which CPython forces only every
`sys.getswitchinterval()` seconds (5 ms by default). This measures that hand-off on its own: the seconds per
small torch call alone, then beside a thread running Python, at each switch interval, and how much of its own
rate the Python thread keeps. Run 10's profiles (RESULTS.md) found the GPU idle while the launcher thread was
mid-launch and the calling thread ran the searches; this is the mechanism's size on this machine, not a GPU
figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

import torch


def small_calls(n: int) -> float:
    """Seconds for `n` tiny torch calls (each one releases and retakes the GIL, as a launch does)."""
    x = torch.zeros(4)
    start = time.perf_counter()
    for _ in range(n):
        torch.add(x, 1)
    return time.perf_counter() - start


def python_rate(seconds: float) -> float:
    """Units of pure-Python work per second, alone."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        sum(range(1000))
        done += 1
    return done / seconds


def beside_python(n: int) -> tuple[float, float]:
    """(seconds for `n` small calls on a thread of their own, Python units/s on the other thread meanwhile)."""
    stop, done = threading.Event(), [0]

    def searches():
        while not stop.is_set():
            sum(range(1000))
            done[0] += 1

    other = threading.Thread(target=searches)
    other.start()
    out: list[float] = []
    start = time.perf_counter()
    launcher = threading.Thread(target=lambda: out.append(small_calls(n)))
    launcher.start()
    launcher.join()
    elapsed = time.perf_counter() - start
    stop.set()
    other.join()
    return out[0], done[0] / elapsed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ops", type=int, default=5000)
    p.add_argument("--intervals", type=lambda t: [float(x) for x in t.split(",")], default=[5, 1, 0.5, 0.2, 0.1],
                   help="switch intervals to try, in ms")
    args = p.parse_args(argv)
    default = sys.getswitchinterval()
    torch.set_num_threads(1)  # the calls' own work stays on one core
    try:
        alone_s = small_calls(args.ops) / args.ops
        alone_rate = python_rate(1.0)
        rows = []
        for ms in args.intervals:
            sys.setswitchinterval(ms / 1e3)
            seconds, rate = beside_python(args.ops)
            rows.append({"switch_interval_ms": ms, "us_per_call_beside_python": round(seconds / args.ops * 1e6, 1),
                         "slowdown": round(seconds / args.ops / alone_s, 1),
                         "python_thread_keeps": round(rate / alone_rate, 2)})
    finally:
        sys.setswitchinterval(default)
    print(json.dumps({"ops": args.ops, "us_per_call_alone": round(alone_s * 1e6, 2), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
