"""`read RUN_DIR --examples N` shows original vs adversarial with the edits, labels and probabilities;
`read` fits the terminal and keeps every column (flags included)."""

from __future__ import annotations

import json

import pytest

import genoarmory as ga
from conftest import run_cli
from genoarmory.analysis.table import render


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = ga.embedded_model("tiny-6mer")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    victim = ga.Victim.wrap(AutoModelForSequenceClassification.from_pretrained(folder / "model"),
                            AutoTokenizer.from_pretrained(folder / "model"), mlm=folder / "mlm")
    result = ga.attack(victim, task=ga.load_task("motif/tata"), limit=4)
    return result.save(tmp_path_factory.mktemp("read") / "run")


def test_examples_show_sequences_edits_labels_and_probabilities(run, capsys):
    assert run_cli("read", str(run), "--examples", "2") == 0
    out = capsys.readouterr().out
    records = [json.loads(line) for line in (run / "records.jsonl").read_text().splitlines()]
    success = next(r for r in records if r["status"] == "success")
    # the edits, found independently: where the two sequences differ
    diff = [f"{i + 1}:{a}>{b}" for i, (a, b) in enumerate(zip(success["sequence"], success["adv_sequence"])) if a != b]
    assert ", ".join(diff[:12]) in out.replace("│", "").replace("\n", " ") or diff[0] in out
    assert f"true label {success['label']}" in out
    assert f"adversarial: {success['adv_pred']} (p={success['adv_probs'][success['adv_pred']]:.3f})" in out
    assert "original" in out and out.count("success") >= 1 and "2 of 4 examples" in out


def test_examples_refuse_a_bad_count(run, capsys):
    assert run_cli("read", str(run), "--examples", "0") == 0  # 0 = none asked
    assert run_cli("read", str(run), "--examples", "-1") == 2
    assert "positive number" in capsys.readouterr().err


def test_a_wide_table_is_turned_to_fit_the_terminal():
    rows = [{"run": f"run-{i}", "model": "tiny-6mer", "asr": 0.5 + i / 10, "valid_asr": 0.4, "average_queries": 57.6,
             "flags": "clean accuracy near chance"} for i in range(3)]
    text = render(rows, "table", "runs", width=60)
    assert max(len(line) for line in text.splitlines()) <= 60
    flags = [line for line in text.splitlines() if line.startswith("│ flags")]
    assert flags and flags[0].count("clean") == 3  # the flags row, for every run, not cut off
    assert all(f"run-{i}" in text for i in range(3))
    wide = render(rows, "table", "runs")  # not a terminal: one row per run, never cut
    assert "clean accuracy near chance" in wide
