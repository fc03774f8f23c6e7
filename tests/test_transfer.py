"""The transfer matrix: every run's successes against every run's model, on the same examples."""

from __future__ import annotations

import json

import numpy as np

from genoarmory.results import read_records
from genoarmory.testing import embedded_default

from conftest import run_cli


def test_transfer_matrix_of_two_tiny_families(tmp_path):
    runs = []
    for model in ("tiny-6mer", "tiny-char"):
        out = tmp_path / model
        assert run_cli("attack", f"model={model}", "attack=random", "attack.max_perturb_ratio=0.2",
                       "dataset.limit=10", f"run_dir={out}", "progress=false") == 0
        runs.append(out)
    assert run_cli("transfer", *map(str, runs), "--out", str(tmp_path / "matrix")) == 0
    report = json.loads((tmp_path / "matrix" / "transfer.json").read_text())
    assert report["models"] == ["tiny-6mer", "tiny-char"]
    assert (tmp_path / "matrix" / "transfer_matrix.png").is_file()
    rates = report["rates"]
    assert rates[0][0] == 1.0 and rates[1][1] == 1.0  # a source's own successes still fool it
    # tiny-6mer's successes against tiny-char, scored here by tiny-char's own victim
    _, _, char, _ = embedded_default(1, ["model=tiny-char"])
    records = read_records(runs[0] / "records.jsonl")
    wins = [r for r in records if r.succeeded]
    clean = char.predict_proba([r.sequence for r in wins]).argmax(1)
    adv = char.predict_proba([r.adv_sequence for r in wins]).argmax(1)
    labels = np.array([r.label for r in wins])
    base = clean == labels
    cell = next(c for c in report["counts"] if c["source"] == "tiny-6mer" and c["target"] == "tiny-char")
    assert cell["original_correct"] == int(base.sum()) and cell["fooled"] == int((adv[base] != labels[base]).sum())
    if base.any():
        assert rates[0][1] == cell["fooled"] / cell["original_correct"]


def test_transfer_refuses_runs_on_other_examples(tmp_path, capsys):
    for limit in (4, 5):
        assert run_cli("attack", "attack=random", f"dataset.limit={limit}", f"run_dir={tmp_path / str(limit)}",
                       "progress=false") == 0
    assert run_cli("transfer", str(tmp_path / "4"), str(tmp_path / "5")) == 2
    assert "different examples" in capsys.readouterr().err
