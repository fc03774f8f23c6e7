"""`visualize` writes the four plots (PNG + PDF) and their numbers; `read` prints runs, sweeps and the board."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genoarmory.results import AttackRecord

from genoarmory.analysis.edits import edit_statistics
from genoarmory.analysis.enrichment import enrichment_summary
from genoarmory.analysis.plots import PLOT_NAMES
from genoarmory.commands import read, visualize

ROOT = Path(__file__).resolve().parents[1]


def fake_run(run_dir: Path, attack: str, asr: float, n: int = 40, seed: int = 0, with_enrichment: bool = True):
    """A run folder as `attack` writes it: edits concentrated in the ground-truth span of each example."""
    rng = np.random.default_rng(seed)
    records = []
    for i in range(n):
        seq = "".join(rng.choice(list("ACGT"), 100))
        start = int(rng.integers(0, 90))
        pos = sorted({start + 2, start + 5})
        edits = [[p, seq[p], "G" if seq[p] != "G" else "A"] for p in pos]
        adv = list(seq)
        for p, _, a in edits:
            adv[p] = a
        status = "success" if i % 4 else "failed"
        records.append({"id": f"test:{i}", "label": 1, "sequence": seq, "clean_pred": 1, "clean_probs": [0.1, 0.9],
                        "status": status, "adv_sequence": "".join(adv) if status == "success" else None,
                        "adv_pred": 0, "adv_probs": [0.8, 0.2], "edits": edits if status == "success" else [],
                        "queries": 20, "perturbation_rate": 0.02 if status == "success" else 0.0, "seconds": 0.1,
                        "attack": attack, "seed": 0, "config_hash": "test",
                        "meta": {"motif_spans": [[start, start + 7, "MA0108.3"]]}})
    run_dir.mkdir(parents=True)
    (run_dir / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    summary = {"origin_acc": 0.95, "after_attack_acc": round(0.95 * (1 - asr), 4), "asr": asr,
               "average_queries": 20.0, "perturbation_rate": 0.02, "clean_mcc": 0.9, "adv_mcc": -0.4,
               "n_examples": n, "model": {"name": "tiny-6mer", "path": "/m"}, "attack": {"name": attack},
               "dataset": {"name": "motif/tata"}, "config": {}, "versions": {}, "flags": []}
    records = [AttackRecord.from_json(r) for r in records]
    if with_enrichment:
        summary["motif_enrichment"] = enrichment_summary(records)
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return records


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    records = fake_run(root / "0", "bertattack", 0.75)
    fake_run(root / "1", "textfooler", 0.5, seed=1, with_enrichment=False)
    return root, records


@pytest.fixture(scope="module")
def visualized(sweep):
    root, _ = sweep
    assert visualize.main([str(root)]) == 0  # a sweep: one set of plots per run
    return root


def test_visualize_writes_every_plot_as_png_and_pdf(visualized):
    for run in ("0", "1"):
        plots = visualized / run / "plots"
        for name in PLOT_NAMES:
            assert (plots / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert (plots / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"


def test_visualize_stats_are_the_numbers_behind_the_plots(visualized, sweep):
    _, records = sweep
    stats = json.loads((visualized / "0" / "plots" / "stats.json").read_text())
    assert stats["edits"] == json.loads(json.dumps(edit_statistics(records)))
    assert stats["edits"]["n_used"] == 30 and stats["edits"]["n_edits"] == 60  # 3 of 4 succeed, 2 edits each
    assert sum(map(sum, stats["edits"]["substitutions"]["matrix"])) == 60
    assert sorted(set(stats["edits"]["motif_offsets"])) == [2, 5]
    enrichment = stats["motif_enrichment"]
    assert enrichment["observed_fraction"] == 1.0 and enrichment["expected_fraction"] == pytest.approx(0.07)
    assert enrichment["p_value"] < 1e-50


def test_enrichment_fallback_file_only_when_the_summary_lacks_it(visualized):
    assert not (visualized / "0" / "motif_enrichment.json").exists()
    fallback = json.loads((visualized / "1" / "motif_enrichment.json").read_text())
    assert fallback["method"] == "ground_truth_spans" and fallback["fold_enrichment"] > 10


def test_read_a_sweep_in_every_format(sweep, capsys):
    root, _ = sweep
    assert read.main([str(root), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["run"], r["attack"], r["asr"]) for r in rows] == [("0", "bertattack", 0.75), ("1", "textfooler", 0.5)]
    assert rows[0]["model"] == "tiny-6mer" and rows[0]["motif_fold"] > 10 and "motif_fold" not in rows[1]

    assert read.main([str(root), "--format", "csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["asr"] for r in table] == ["0.7500", "0.5000"] and table[1]["motif_fold"] == ""

    assert read.main([str(root / "0"), "--format", "markdown"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[0].startswith("| run | model |") and "| 0.7500 |" in lines[2]

    assert read.main([str(root)]) == 0
    out = capsys.readouterr().out
    assert "textfooler" in out and "0.7500" in out and "after_attack_acc" in out


def test_read_leaderboard_entries(tmp_path, capsys):
    entries = tmp_path / "data" / "entries" / "verified" / "tiny-6mer"
    entries.mkdir(parents=True)
    base = {"schema_version": 2, "source": "verified", "model": "tiny-6mer", "defense": "none",
            "metrics": {"origin_acc": 0.9, "after_attack_acc": 0.1, "asr": 0.89, "average_queries": 50.0}}
    (entries / "a.json").write_text(json.dumps({**base, "task": "motif/tata", "attack": "random"}))
    (entries / "b.json").write_text(json.dumps({**base, "task": "gue/tf/0", "attack": "bertattack",
                                                "metrics": {**base["metrics"], "dsr": 0.11}}))
    (tmp_path / "data" / "catalog.json").write_text(json.dumps({"models": ["x"]}))  # not an entry: ignored
    assert read.main(["leaderboard", "--board", str(tmp_path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["task"], r["attack"]) for r in rows] == [("gue/tf/0", "bertattack"), ("motif/tata", "random")]
    assert rows[0]["dsr"] == 0.11 and "dsr" not in rows[1] and rows[1]["asr"] == 0.89
    assert read.main(["leaderboard", "--board", str(tmp_path), "--format", "markdown"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("| source | model | task | attack | defense | origin_acc |") and "dsr" in header


@pytest.mark.parametrize("argv, message", [
    (["read", "{tmp}/missing"], "no such run folder"),
    (["read", "{tmp}/empty"], "no summary.json"),
    (["visualize", "{tmp}/empty"], "no records.jsonl"),
    (["read", "leaderboard", "--board", "{tmp}/empty"], "no leaderboard data folder"),
    (["visualize", "{tmp}/corrupt"], r"records\.jsonl:1: corrupt record"),
])
def test_bad_paths_are_one_line_errors(tmp_path, capsys, argv, message):
    import re

    (tmp_path / "empty").mkdir()
    (tmp_path / "corrupt").mkdir()
    (tmp_path / "corrupt" / "records.jsonl").write_text("{not json\n{}\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    module = {"read": read, "visualize": visualize}[argv[0]]
    assert module.main(argv[1:]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("genoarmory: error:") and re.search(message, err)


def test_cli_entry_point_dispatches_read(sweep):
    root, _ = sweep
    done = subprocess.run([sys.executable, "-m", "genoarmory", "read", str(root / "0"), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and json.loads(done.stdout)[0]["attack"] == "bertattack"
    bad = subprocess.run([sys.executable, "-m", "genoarmory", "read", str(root / "nope")],
                         capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
