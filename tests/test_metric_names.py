"""One name per metric (issue 16): every table a command prints, and every metric header of the leaderboard's
pages, names its metrics with the registry's names (metrics/registry.py NAMES: key, label, short header),
never a string of its own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import rich

from conftest import run_cli
from genoarmory.metrics.registry import NAMES

# columns that say what ran, not a metric
IDENTITY = {"run", "model", "dataset", "task", "attack", "defense", "source", "flags", "profile", "severity", "job",
            "status", "overrides", "run_dir", "error", ""}
TEMPLATES = Path(__file__).resolve().parents[1] / "genoarmory" / "leaderboard" / "templates"


def box_rows(text: str) -> list[list[str]]:
    """The cells of each row of a rich table as printed (box-drawing borders)."""
    return [[c.strip() for c in line.strip().strip("│┃").split("│" if "│" in line else "┃")]
            for line in text.splitlines() if line.strip().startswith(("│", "┃"))]


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")  # rich wraps long labels onto a second line in a narrow one


def not_registry(names) -> list[str]:
    return sorted({n for n in names if n not in IDENTITY and n not in NAMES})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("names") / "run"
    assert run_cli("attack", "dataset.limit=6", f"run_dir={out}", "progress=false") == 0  # bertattack: edits in motifs
    return out


def test_the_attacks_table_and_read_use_registry_names(run, capsys):
    from genoarmory.report import print_summary

    summary = json.loads((run / "summary.json").read_text())
    capsys.readouterr()
    print_summary(summary, run)
    labels = [row[0] for row in box_rows(capsys.readouterr().out)]
    assert "attack success rate (ASR)" in labels and "edits in motifs (fold over chance)" in labels
    assert not_registry(labels) == []
    assert run_cli("read", str(run), "--format", "markdown") == 0
    header = [c.strip() for c in capsys.readouterr().out.splitlines()[0].strip("|").split("|")]
    assert "asr" in header and "motif_fold" in header
    assert not_registry(header) == []


def test_defends_comparison_corrupts_table_and_the_sweep_table_use_registry_names(run, capsys, tmp_path):
    from genoarmory.api.defense import print_comparison
    from genoarmory.analysis.track_tables import corruption_table
    from genoarmory.sweep import write_sweep_summary

    before = json.loads((run / "summary.json").read_text())
    after = {**before, "defense": {"name": "at"}, "asr": 0.0}
    capsys.readouterr()
    print_comparison(before, after)
    rows = box_rows(capsys.readouterr().out)
    assert not_registry(rows[0]) == ["change", "defended", "undefended"]  # the comparison's own columns
    assert not_registry(row[0] for row in rows[1:]) == [] and len(rows) > 5

    corrupted = {**before, "corruptions": [{"profile": "illumina", "severity": 0.01, "accuracy": 0.9, "mcc": 0.8,
                                            "label_changed": None, "valid_accuracy": None}]}
    rich.print(corruption_table(corrupted))
    rows = box_rows(capsys.readouterr().out)
    assert not_registry(rows[0]) == [] and rows[2][-1] == "not verifiable"

    (tmp_path / "sweep" / "0").mkdir(parents=True)
    (tmp_path / "sweep" / "0" / "summary.json").write_text((run / "summary.json").read_text())
    _, table = write_sweep_summary(tmp_path / "sweep")
    columns = json.loads(table.read_text())["columns"]
    assert "asr" in columns and not_registry(columns) == []


def test_the_leaderboard_pages_take_metric_headers_from_the_registry():
    """A header written into a template as text (not from `metrics`/`short`) would be a second name."""
    lowered = {n.lower() for n in NAMES}
    found = []
    for template in sorted(TEMPLATES.glob("*.html")):
        for text in re.findall(r"<th[^>]*>([^<{]+)</th>", template.read_text()):
            words = re.sub(r"^(mean\s+)?(δ\s+)?", "", text.strip().lower())
            if words in lowered:
                found.append(f"{template.name}: {text.strip()}")
    assert found == []
