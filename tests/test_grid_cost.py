"""benchmarks/grid_cost.py: the paper grid's cost adds up, and N GPUs share it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import grid_cost as G  # noqa: E402


def test_one_gpu_takes_the_sum_of_the_cells_and_more_gpus_never_take_longer():
    rows = G.cell_hours(1000)
    measured = [r for r in rows if r["hours"] is not None]
    assert len(rows) == 20 and len(measured) == sum(rate is not None for rate in G.RATES.values())
    total = sum(1000 * G.TASKS / G.RATES[(r["model"], r["attack"])][0] for r in measured) / 3600
    assert G.makespan_hours(rows, 1, 0.0) == pytest.approx(total)
    starts = 60 * G.TASKS * len(measured) / 3600  # every job pays its start once
    assert G.makespan_hours(rows, 1, 60.0) == pytest.approx(total + starts)
    spans = [G.makespan_hours(rows, n, 60.0) for n in (1, 2, 4, 8)]
    assert all(a >= b for a, b in zip(spans, spans[1:]))
    longest_job = max(1000 / G.RATES[(r["model"], r["attack"])][0] + 60 for r in measured) / 3600
    assert spans[-1] >= max(longest_job, spans[0] / 8) - 1e-9  # no schedule beats either bound
