"""When the GPU idled during a profiled attack, and what the host was doing then.

From one torch.profiler run (gpu_attack.py --profile): the device's kernels and copies are merged into
busy intervals; the rest of the run's window is idle time. Each idle interval is split by what the
calling thread was inside at that moment (the innermost `genoarmory.*` span of observe.py, or
`(searches)`: the searches' and engine's own Python, outside every span) and by whether the victim's
launcher thread was launching (`launcher.*` spans). So the idle time reads as its cause: the GPU waiting
for a launch that is under way (`launching`: the host's launch cost bounds it), for a request nobody has
made yet while the searches run (`(searches)`, `idle launcher`), or behind a masked-LM set-up or a filter.
"""

from __future__ import annotations

from collections import defaultdict

PREFIX = "genoarmory."
LAUNCHER = PREFIX + "launcher."


def _merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _complement(busy: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    gaps, at = [], start
    for a, b in busy:
        if a > at:
            gaps.append((at, min(a, end)))
        at = max(at, b)
    if at < end:
        gaps.append((at, end))
    return [(a, b) for a, b in gaps if b > a]


def _cut(gap: tuple[float, float], marks: list[float]) -> list[tuple[float, float]]:
    """`gap` cut at every span boundary inside it, so each piece has one host state throughout."""
    points = [gap[0], *sorted(m for m in marks if gap[0] < m < gap[1]), gap[1]]
    return list(zip(points, points[1:]))


def device_work(event) -> bool:
    """A kernel, copy or memset: device-side events other than the GPU copies of record_function ranges
    (`is_user_annotation`), which span every kernel launched inside a range, idle time between them included."""
    return str(event.device_type).endswith("CUDA") and not getattr(event, "is_user_annotation", False)


def device_gaps(events, top: int = 8) -> dict:
    """Busy fraction and idle seconds by host state, from a profiler's `events()` (times in µs). The window
    is from the first to the last `genoarmory.*` span (the attack itself)."""
    device = [(e.time_range.start, e.time_range.end) for e in events if device_work(e)]
    spans = [e for e in events if e.name.startswith(PREFIX) and not str(e.device_type).endswith("CUDA")]  # host side
    if not device or not spans:
        return {"busy_fraction": None, "why": "no device activity or no spans recorded"}
    launcher = [(e.time_range.start, e.time_range.end) for e in spans if e.name.startswith(LAUNCHER)]
    launcher_threads = {e.thread for e in spans if e.name.startswith(LAUNCHER)}
    caller = [e for e in spans if not e.name.startswith(LAUNCHER) and e.thread not in launcher_threads]
    start = min(e.time_range.start for e in spans)
    end = max(e.time_range.end for e in spans)
    busy = _merged([(max(a, start), min(b, end)) for a, b in device if b > start and a < end])
    busy_s = sum(b - a for a, b in busy)
    marks = [t for e in spans for t in (e.time_range.start, e.time_range.end)]
    idle: dict[str, float] = defaultdict(float)
    for gap in _complement(busy, start, end):
        for a, b in _cut(gap, marks):
            mid = (a + b) / 2
            inside = [e for e in caller if e.time_range.start <= mid < e.time_range.end]
            # innermost: the latest-starting span that holds this moment
            where = max(inside, key=lambda e: e.time_range.start).name[len(PREFIX):] if inside else "(searches)"
            if not launcher:  # a CPU victim, or a profile of the calling thread only: say nothing of it
                idle[where] += (b - a) / 1e6
                continue
            launching = any(s <= mid < t for s, t in launcher)
            idle[f"{where}, {'launching' if launching else 'idle launcher'}"] += (b - a) / 1e6
    ranked = sorted(idle.items(), key=lambda kv: -kv[1])
    return {"window_s": round((end - start) / 1e6, 3), "busy_fraction": round(busy_s / (end - start), 3),
            "idle_s": round(sum(idle.values()), 3), "launcher_spans": len(launcher),
            "idle_by_host_state": {k: round(v, 3) for k, v in ranked[:top]}}
