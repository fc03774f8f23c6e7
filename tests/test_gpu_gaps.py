"""benchmarks/gpu_gaps.py: a profiled run's GPU idle time, split by what the host was doing then."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import gpu_gaps  # noqa: E402


def event(name, start_ms, end_ms, thread=1, device="DeviceType.CPU", annotation=False):
    return SimpleNamespace(name=name, device_type=device, thread=thread, is_user_annotation=annotation,
                           time_range=SimpleNamespace(start=start_ms * 1e3, end=end_ms * 1e3))


def kernel(start_ms, end_ms):
    return event("sm90_gemm", start_ms, end_ms, thread=0, device="DeviceType.CUDA")


def test_idle_time_is_split_by_the_callers_span_and_the_launchers_state():
    # the attack's window: 0-100 ms (first to last span). Kernels overlap at 10-30 and 20-40 (busy 10-40),
    # and run at 70-90 (busy). Idle: 0-10, 40-70, 90-100.
    events = [
        event("genoarmory.engine.prepare", 0, 10),          # caller: masked-LM set-up, launcher idle
        event("genoarmory.victim.wait", 40, 60),            # caller waits 40-60 ...
        event("genoarmory.launcher.launch", 50, 75, thread=2),  # ... while the launcher launches from 50
        event("genoarmory.engine.records", 90, 100),
        event("aten::mm", 41, 42),                           # not a span: ignored
        kernel(10, 30), kernel(20, 40), kernel(70, 90), kernel(95, 130),  # last kernel outlives the window
        # the GPU's copy of a span covers its kernels and the idle time between them: not device work
        event("genoarmory.launcher.launch", 10, 90, thread=0, device="DeviceType.CUDA", annotation=True),
    ]
    out = gpu_gaps.device_gaps(events)
    assert out["window_s"] == pytest.approx(0.1)
    assert out["busy_fraction"] == pytest.approx((30 + 20 + 5) / 100)  # 10-40, 70-90, 95-100
    idle = out["idle_by_host_state"]
    assert idle == pytest.approx({
        "engine.prepare, idle launcher": 0.010,
        "victim.wait, idle launcher": 0.010,   # 40-50
        "victim.wait, launching": 0.010,       # 50-60
        "(searches), launching": 0.010,        # 60-70: outside every caller span, launcher still at it
        "engine.records, idle launcher": 0.005,  # 90-95
    })
    assert out["idle_s"] == pytest.approx(0.045)


def test_without_launcher_spans_the_launchers_state_is_not_guessed():
    events = [event("genoarmory.victim.wait", 0, 10), kernel(5, 10)]
    out = gpu_gaps.device_gaps(events)
    assert out["idle_by_host_state"] == pytest.approx({"victim.wait": 0.005}) and out["launcher_spans"] == 0


def test_no_device_activity_says_so():
    assert gpu_gaps.device_gaps([event("genoarmory.victim.wait", 0, 1)])["busy_fraction"] is None
