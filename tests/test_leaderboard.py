"""Leaderboard: entry schema, `leaderboard add` (protocol and schema refusals), reported import, site build.

Summaries here follow genoarmory/summary.py's build_summary layout (metrics at top level, model /
attack / dataset / defense objects, run metadata), written by `make_run` below; the browser test reuses it.
"""

from __future__ import annotations

import copy
import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from genoarmory.leaderboard import cli
from genoarmory.leaderboard.cli import PACKAGED_BOARD
from genoarmory.leaderboard.entries import entry_id, load_board, schema_errors
from genoarmory.leaderboard.site import format_metric
from genoarmory.metrics.registry import METRICS

REPO = Path(__file__).resolve().parents[1]
PROTOCOL = PACKAGED_BOARD / "data" / "protocol.json"
XSS = "<script>alert(1)</script>"


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A real (tiny, grey) PNG, so copied plots are genuine image files."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_records(n: int = 100, correct: int = 88, success: int = 61, changed: int = 0, seed: int = 0,
                 rc: bool = False):
    """AttackRecords as the engine writes them: the first `correct` examples are classified correctly and
    attacked, the first `success` of those succeed (3 edits each; the first `changed` successes changed
    the oracle label), the rest are skipped as misclassified. `rc`: each record also carries the reverse
    strand's probabilities, as every attack run writes them (the reverse-complement metrics)."""
    import random

    from genoarmory.results import AttackRecord

    rng = random.Random(seed)
    records = []
    for i in range(n):
        sequence = "".join(rng.choice("ACGT") for _ in range(100))
        label = i % 2
        status = "success" if i < success else ("failed" if i < correct else "skipped")
        edits = [[p, sequence[p], "A" if sequence[p] != "A" else "C"] for p in sorted(rng.sample(range(100), 3))] \
            if status == "success" else []
        adv = list(sequence)
        for p, _, alt in edits:
            adv[p] = alt
        clean_pred = label if status != "skipped" else 1 - label
        record = {
            "id": f"test:{i}", "label": label, "sequence": sequence, "clean_pred": clean_pred,
            "clean_probs": [0.3, 0.7] if clean_pred else [0.7, 0.3], "status": status,
            "adv_sequence": "".join(adv) if edits else None, "adv_pred": 1 - label if status == "success" else clean_pred,
            "adv_probs": [0.5, 0.5], "edits": edits, "queries": 1 if status == "skipped" else 40 + i % 7,
            "perturbation_rate": len(edits) / 100, "seconds": 0.125, "attack": "random", "seed": 42,
            "config_hash": "0" * 16, "meta": {"motif_spans": [[40, 47, "MA0108.3"]], "motif_strands": ["+"]},
        }
        if rc:
            record["rc_probs"] = record["clean_probs"] if i % 4 else record["clean_probs"][::-1]
        if status == "skipped":
            record["skip_reason"] = "misclassified"
        if status == "success":
            record.update(label_preserved=i >= changed, adv_oracle_label=label if i >= changed else 1 - label)
        records.append(AttackRecord.from_json(record))
    return records


LABEL_CHECK = {"preserve": "auto", "mode": "oracle", "enforced": True, "verifiable": True,
               "checker": {"name": "motif rule any (MA0108.3)", "kind": "label", "exact": True}, "exact": True,
               "note": "exact: the rule that generated and labelled the task"}


def make_summary(model="tiny-6mer", attack="bertattack", defense="none", task="motif/tata", records=None,
                 model_path=None) -> dict:
    """A summary.json as `python -m genoarmory attack` writes it (field names of genoarmory/summary.py),
    its metrics computed from `records` by the metrics code (metrics/compute.py)."""
    from genoarmory.metrics.compute import attack_metrics

    records = make_records() if records is None else records
    config = {
        "model": {"name": model, "family": "tiny", "tokenizer": "kmer6", "path": model_path, "hub_id": None, "max_length": 512},
        "dataset": {"name": task, "task": "tata", "split": "test", "limit": 100, "seed": 0, "shard": None,
                    "loader": {"_target_": "genoarmory.data.motif.make_motif_task", "name": task, "n_train": 100, "seed": 0}},
        "attack": {"name": attack, "max_perturb_ratio": 0.1, "query_budget": None, "protected": None,
                   "preserve": "auto", "k": 48},
        "defense": {"name": defense},
        "sequence": {"policy": "error", "too_long": "error"},
        "seed": 42, "device": "auto", "run_dir": "runs/x", "data_root": "data",
    }
    summary = {
        **attack_metrics(records, 2, True),
        "model": {"name": model, "path": model_path or f"/nonexistent/genoarmory-cache/{model}", "quantize": None},
        "attack": dict(config["attack"]),
        "dataset": {"name": task, "split": "test", "limit": 100, "seed": 0, "shard": None, "num_labels": 2},
        "defense": {"name": defense},
        "budget": {"max_perturb_ratio": 0.1, "query_budget": None, "max_length": 512},
        "seed": 42, "label_check": dict(LABEL_CHECK), "config": config, "config_hash": "0123456789abcdef",
        "versions": {"genoarmory": "0.1.0", "python": "3.11.2", "torch": "2.13.0", "transformers": "4.57.1"},
        "commit": "6a82d72", "device": "cpu (x86_64, 2 cores, 2 threads)", "date": "2026-01-02T03:04:05+00:00",
        "wall_seconds": 3.5,
        "motif_enrichment": {"n_edits": 198, "inside": 151, "expected_fraction": 0.07, "p_value": 1e-90},
    }
    if defense != "none":
        summary["dsr"] = 1 - summary["valid_asr"]
    return summary


def make_run(root: Path, name: str, plots: bool = False, over: dict | None = None, records=None,
             **summary_kw) -> Path:
    """A run folder (records.jsonl + summary.json); `over` replaces top-level summary fields afterwards
    (a hand-edited summary, for the refusals)."""
    from genoarmory.results import write_records

    run = root / name
    run.mkdir(parents=True)
    records = make_records() if records is None else records
    summary = make_summary(records=records, **summary_kw)
    summary.update(over or {})
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    write_records(run / "records.jsonl", records)
    if plots:
        (run / "plots").mkdir()
        for plot in ("positions", "substitutions"):
            (run / "plots" / f"{plot}.png").write_bytes(png_bytes())
            (run / "plots" / f"{plot}.pdf").write_bytes(b"%PDF-1.4\n")
    return run


def make_model_folder(root: Path, name: str, weights: bytes = b"weights") -> Path:
    """A model folder in HF layout (the file contents stand in for weights: only their hashes matter here)."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "tokenizer.json").write_text('{"model": {"vocab": {}}}')
    (folder / "config.json").write_text("{}")
    return folder


def new_board(root: Path) -> Path:
    board = root / "board"
    (board / "data" / "entries").mkdir(parents=True)
    shutil.copy(PROTOCOL, board / "data" / "protocol.json")
    return board


def lb(*argv) -> int:
    return cli.main([str(a) for a in argv])


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


# ---------------------------------------------------------------- add


def test_add_writes_a_valid_verified_entry_with_plots(tmp_path, capsys):
    board = new_board(tmp_path)
    run = make_run(tmp_path, "run1", plots=True, defense="at")
    assert lb("add", run, "--board", board) == 0
    (path,) = (board / "data" / "entries" / "verified").rglob("*.json")
    entry = json.loads(path.read_text())
    assert schema_errors(entry) == []
    assert (entry["source"], entry["model"], entry["task"], entry["attack"], entry["defense"]) == \
        ("verified", "tiny-6mer", "motif/tata", "bertattack", "at")
    assert entry["metrics"]["asr"] == 61 / 88 and entry["metrics"]["dsr"] == 1 - 61 / 88
    assert entry["metrics"]["origin_acc"] == 0.88 and entry["metrics"]["after_attack_acc"] == 0.27
    assert entry["metrics"]["valid_asr"] == 61 / 88 and entry["metrics"]["label_changed"] == 0
    assert set(entry["metrics"]) <= {m.key for m in METRICS}  # the registry's vocabulary, no second one
    assert entry["threat"]["preserve"] == "auto" and entry["label_check"]["mode"] == "oracle"
    assert entry["budget"] == {"max_perturb_ratio": 0.1, "query_budget": None}
    assert entry["selection"] == {"split": "test", "limit": 100, "seed": 0, "too_long": "error"}
    assert entry["n_examples"] == 100 and entry["config_hash"] == "0123456789abcdef"
    assert entry["protocol"] == "genoarmory-v2" and entry["run"]["dir"].endswith("run1")
    assert entry["motif_enrichment"]["inside"] == 151
    assert entry["plots"] == ["positions.png", "substitutions.png"]  # PDFs stay with the run
    copied = board / "data" / "plots" / entry_id(entry)
    assert (copied / "positions.png").read_bytes() == png_bytes()
    assert "added" in capsys.readouterr().out


def test_indel_bases_are_filed_only_where_the_threat_model_allows_indels(tmp_path, capsys):
    """A substitution run inserts no base: its 0 would read as a measured figure on the entry page."""
    board = new_board(tmp_path)
    attack = make_summary()["attack"]
    runs = [make_run(tmp_path, "substitution"),
            make_run(tmp_path, "indel", over={"attack": {**attack, "edits": "indel", "length": "keep"}})]
    assert lb("add", *runs, "--board", board) == 0, capsys.readouterr().err
    entries = {e["threat"].get("edits", "substitution"): e for e in load_board(board)}
    assert "average_indel_bases" not in entries["substitution"]["metrics"]
    assert entries["indel"]["metrics"]["average_indel_bases"] == 0.0  # allowed, none made: still shown


@pytest.mark.parametrize("change, message", [
    ({"attack": {"name": "bertattack", "max_perturb_ratio": 0.2, "query_budget": None}}, "attack.max_perturb_ratio is 0.2"),
    ({"attack": {"name": "bertattack", "max_perturb_ratio": 0.1, "query_budget": 500}}, "attack.query_budget is 500"),
    ({"attack": {"name": "bertattack", "max_perturb_ratio": 0.1, "query_budget": None, "preserve": "none"}},
     'attack.preserve is "none", the board\'s protocol needs "auto"'),
    ({"dataset": {"name": "motif/tata", "split": "test", "limit": 50, "seed": 0}}, "dataset.limit is 50"),
    ({"dataset": {"name": "motif/tata", "split": "dev", "limit": 100, "seed": 0}}, 'dataset.split is "dev"'),
    ({"dataset": {"name": "motif/tata", "split": "test", "limit": 100, "seed": 3}}, "dataset.seed is 3"),
    ({"dataset": {"name": "motif/tata", "split": "test", "limit": 100}}, "the summary has no dataset.seed"),
])
def test_add_refuses_a_run_off_the_board_protocol(tmp_path, capsys, change, message):
    board = new_board(tmp_path)
    run = make_run(tmp_path, "run", over=change)
    assert lb("add", run, "--board", board) == 2
    err = capsys.readouterr().err
    assert "protocol" in err and message in err and err.count("\n") == 1  # one line, no traceback
    assert files_under(board / "data" / "entries") == []


def test_add_refuses_truncation_policy(tmp_path, capsys):
    board = new_board(tmp_path)
    run = make_run(tmp_path, "run")
    summary = json.loads((run / "summary.json").read_text())
    summary["config"]["sequence"]["too_long"] = "truncate"
    (run / "summary.json").write_text(json.dumps(summary))
    assert lb("add", run, "--board", board) == 2
    assert 'config.sequence.too_long is "truncate"' in capsys.readouterr().err


@pytest.mark.parametrize("change, message", [
    ({"date": "yesterday"}, "date: 'yesterday' does not match"),
    ({"commit": "x" * 65}, "commit: "),
    ({"config_hash": None}, "config_hash"),
    ({"dsr": None}, None),  # defense=none: dsr may be absent or null
])
def test_add_refuses_an_entry_that_fails_the_schema(tmp_path, capsys, change, message):
    board = new_board(tmp_path)
    run = make_run(tmp_path, "run", over=change)
    code = lb("add", run, "--board", board)
    if message is None:
        assert code == 0
        return
    assert code == 2
    assert message in capsys.readouterr().err
    assert files_under(board / "data") == [board / "data" / "protocol.json"]


def test_add_refuses_a_defended_run_without_dsr_and_non_finite_metrics(tmp_path, capsys):
    board = new_board(tmp_path)
    run = make_run(tmp_path, "a", defense="freelb")
    summary = json.loads((run / "summary.json").read_text())
    del summary["dsr"]
    (run / "summary.json").write_text(json.dumps(summary))
    assert lb("add", run, "--board", board) == 2
    assert "dsr: missing from the summary" in capsys.readouterr().err
    make_run(tmp_path, "b", over={"clean_mcc": float("nan")})
    assert lb("add", tmp_path / "b", "--board", board) == 2
    assert "clean_mcc: summary says nan" in capsys.readouterr().err
    assert files_under(board / "data" / "entries") == []


def test_add_is_all_or_nothing_and_keeps_existing_entries(tmp_path, capsys):
    board = new_board(tmp_path)
    good = make_run(tmp_path, "good")
    bad = make_run(tmp_path, "bad", over={"attack": {"name": "textfooler", "max_perturb_ratio": 0.5, "query_budget": None}})
    assert lb("add", good, bad, "--board", board) == 2
    assert files_under(board / "data" / "entries") == []
    assert lb("add", good, "--board", board) == 0
    other = make_run(tmp_path, "other", over={"config_hash": "fedcba9876543210"})
    assert lb("add", other, "--board", board) == 2  # same key, another run: needs --replace
    assert "--replace" in capsys.readouterr().err
    assert lb("add", other, "--board", board, "--replace") == 0
    (entry,) = load_board(board)
    assert entry["config_hash"] == "fedcba9876543210"


def test_add_takes_a_sweep_folder(tmp_path):
    board = new_board(tmp_path)
    for i, attack in enumerate(["bertattack", "textfooler", "random"] * 4):  # 0..11: numeric order, not 0, 1, 10
        make_run(tmp_path / "sweep", str(i), model=f"m{i // 3}", attack=attack)
    assert lb("add", tmp_path / "sweep", "--board", board) == 0
    entries = load_board(board)
    assert len(entries) == 12 and {e["run"]["dir"].rsplit("/", 1)[1] for e in entries} == {str(i) for i in range(12)}


def test_add_errors_are_one_line(tmp_path, capsys):
    board = new_board(tmp_path)
    assert lb("add", tmp_path / "missing", "--board", board) == 2
    assert "no such run folder" in capsys.readouterr().err
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json")
    assert lb("add", tmp_path / "broken", "--board", board) == 2
    err = capsys.readouterr().err
    assert "summary.json:1" in err and err.count("\n") == 1


@pytest.mark.parametrize("enrichment, message", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"edits_in_motif": NaN}', "not a finite number"),
])
def test_add_refuses_a_hostile_motif_enrichment_file_in_one_line(tmp_path, capsys, enrichment, message):
    """Issue 21 item 11: motif_enrichment.json beside the summary is read as data like every other file."""
    board = new_board(tmp_path)
    run = make_run(tmp_path, "run", over={"motif_enrichment": None})  # so add reads the file
    (run / "motif_enrichment.json").write_text(enrichment)
    assert lb("add", run, "--board", board) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not list((board / "data" / "entries").iterdir())


def test_add_reads_what_the_attack_command_writes(tmp_path, capsys):
    """Contract with genoarmory.summary: a summary built by the attack command's own code, from the default
    composed config, is accepted under the board's protocol and its numbers land unchanged in the entry."""
    from conftest import compose
    from omegaconf import OmegaConf

    from genoarmory.results import run_metadata
    from genoarmory.summary import build_summary

    from genoarmory.results import write_records

    config = OmegaConf.to_container(compose(["attack=random", "model=tiny-char"]), resolve=True)
    records = make_records(n=24, correct=18, success=12, rc=True)
    summary = build_summary(records, 2, config, run_metadata(config, "cpu"),
                            {"name": "tiny-char", "path": str(tmp_path / "model")})
    run = tmp_path / "run"
    run.mkdir()
    (run / "summary.json").write_text(json.dumps(summary))
    write_records(run / "records.jsonl", records)
    board = new_board(tmp_path)
    assert lb("add", run, "--board", board) == 0, capsys.readouterr().err
    (entry,) = load_board(board)
    assert (entry["model"], entry["task"], entry["attack"], entry["defense"]) == ("tiny-char", "motif/tata", "random", "none")
    assert entry["metrics"]["asr"] == summary["asr"] == 2 / 3
    assert entry["metrics"]["origin_acc"] == summary["origin_acc"] == 0.75
    assert entry["metrics"]["average_queries"] == summary["average_queries"]
    assert entry["metrics"]["perturbation_rate"] == summary["perturbation_rate"] == pytest.approx(0.03)
    assert entry["config_hash"] == summary["config_hash"] and entry["flags"] == summary["flags"]
    assert entry["motif_enrichment"] == summary["motif_enrichment"]
    # counts and rates of the reverse-strand metrics pass the schema too (n_rc_checked is a count)
    assert entry["metrics"]["n_rc_checked"] == 24 and entry["metrics"]["rc_consistency"] == 18 / 24


# ---------------------------------------------------------------- reported


@pytest.fixture(scope="module")
def imported_board(tmp_path_factory, shared_reference) -> Path:
    """The CSV imported once for the module (1,690 entries take ~1 s to write and check)."""
    board = new_board(tmp_path_factory.mktemp("imported"))
    assert lb("import-reported", shared_reference, "--board", board) == 0
    return board


def test_reported_entries_cite_the_paper_and_keep_flags(imported_board, shared_reference):
    entries = load_board(imported_board)
    assert len(entries) == sum(1 for _ in shared_reference.open()) - 1  # one entry per CSV row
    assert all(e["source"] == "reported" and "2505.10983" in e["citation"]["text"] for e in entries)
    assert {e["model"] for e in entries} == {"dnabert2", "nt1-500m", "nt2-500m", "hyenadna-small", "genomeocean-100m"}
    by_key = {(e["model"], e["task"], e["attack"], e["defense"]): e for e in entries}
    first = by_key[("dnabert2", "gue/mouse/0", "bertattack", "adfar")]  # the CSV's first row
    assert first["metrics"]["origin_acc"] == 0.54 and first["metrics"]["asr"] == 0.5556
    assert first["metrics"]["average_queries"] == 246.05 and "clean accuracy near chance" in first["flags"]
    assert abs(first["metrics"]["dsr"] - 0.4444) < 1e-12
    nonnumeric = by_key[("nt1-500m", "gue/prom/prom_core_notata", "bertattack", "none")]
    assert nonnumeric["metrics"]["origin_acc"] is None and any("non-numeric" in f for f in nonnumeric["flags"])
    assert by_key[("dnabert2", "gue/tf/0", "bertattack", "adfar")]["citation"]["original_task_name"] == "tf0"


def test_committed_reported_entries_match_the_csv(imported_board):
    """The entries in git are exactly what import-reported makes from the CSV (never hand-edited)."""
    fresh = {p.relative_to(imported_board): p.read_text() for p in (imported_board / "data" / "entries").rglob("*.json")}
    committed_root = PACKAGED_BOARD
    committed = {p.relative_to(committed_root): p.read_text()
                 for p in (committed_root / "data" / "entries" / "reported").rglob("*.json")}
    assert committed == fresh


def test_check_validates_every_committed_entry(capsys):
    assert lb("check", "--board", PACKAGED_BOARD) == 0
    assert "entries pass the schema and the board's protocol" in capsys.readouterr().out


def test_a_protocol_change_invalidates_older_verified_entries(tmp_path, capsys):
    board = new_board(tmp_path)
    assert lb("add", make_run(tmp_path, "run"), "--board", board) == 0
    protocol = json.loads((board / "data" / "protocol.json").read_text())
    protocol["name"] = "genoarmory-v3"
    (board / "data" / "protocol.json").write_text(json.dumps(protocol))
    assert lb("check", "--board", board) == 2
    assert "added under protocol 'genoarmory-v2'" in capsys.readouterr().err
    assert lb("build", "--out", tmp_path / "site", "--board", board) == 2


def test_check_names_the_bad_file(tmp_path, capsys):
    board = new_board(tmp_path)
    lb("add", make_run(tmp_path, "run"), "--board", board)
    (path,) = (board / "data" / "entries").rglob("*.json")
    entry = json.loads(path.read_text())
    entry["source"] = "rumoured"
    path.write_text(json.dumps(entry))
    assert lb("check", "--board", board) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "source" in err


# ---------------------------------------------------------------- build


def test_build_renders_every_page_escaped(tmp_path, capsys):
    board = new_board(tmp_path)
    runs = [make_run(tmp_path, "a", plots=True), make_run(tmp_path, "b", model=XSS, attack="random"),
            make_run(tmp_path, "c", defense="adfar", attack="textfooler")]
    assert lb("add", *runs, "--board", board) == 0
    out = tmp_path / "site"
    assert lb("build", f"run_dir={out}", "--board", board) == 0
    assert "3 entries" in capsys.readouterr().out
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert "index.html" in pages and len([p for p in pages if p.startswith("entries/")]) == 3
    assert len([p for p in pages if p.startswith("models/")]) == 2
    for page in out.rglob("*.html"):
        html = page.read_text()
        assert XSS not in html, page  # escaped everywhere, including the embedded JSON
        assert "fetch(" not in html
    index = (out / "index.html").read_text()
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in index  # JSON for the table
    model_page = next(out.glob("models/script-alert-1-script*.html")).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in model_page
    assert (out / "assets" / "leaderboard.js").is_file() and (out / "assets" / "leaderboard.css").is_file()
    assert len(list((out / "plots").rglob("*.png"))) == 2
    entry = json.loads(next((board / "data" / "entries").rglob("*/tiny-6mer/*bertattack__none.json")).read_text())
    entry_page = (out / "entries" / f"{entry_id(entry)}.html").read_text()
    assert f'src="../plots/{entry_id(entry)}/positions.png"' in entry_page
    assert format_metric(entry["metrics"]["asr"], "rate") in entry_page and "&#34;too_long&#34;" in entry_page


def test_build_accepts_out_option_and_refuses_to_clobber(tmp_path, capsys):
    board = new_board(tmp_path)
    lb("add", make_run(tmp_path, "a"), "--board", board)
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    assert lb("build", "--out", foreign, "--board", board) == 2
    assert "not a previous leaderboard build" in capsys.readouterr().err
    assert (foreign / "thesis.tex").read_text() == "precious"
    site = tmp_path / "site"
    assert lb("build", "--out", site, "--board", board) == 0
    assert lb("build", f"run_dir={site}", "--board", board) == 0  # a previous build is replaced
    assert lb("build", "outdir=x", "--board", board) == 2


def test_build_refuses_a_board_with_a_broken_entry(tmp_path, capsys):
    board = new_board(tmp_path)
    lb("add", make_run(tmp_path, "a"), "--board", board)
    (path,) = (board / "data" / "entries").rglob("*.json")
    path.write_text(path.read_text().replace('"asr": 0.69', '"asr": 6.9'))
    assert '"asr": 6.9' in path.read_text()
    assert lb("build", "--out", tmp_path / "site", "--board", board) == 2
    assert "asr" in capsys.readouterr().err and not (tmp_path / "site").exists()


@pytest.mark.parametrize("value, kind, shown", [
    (0.5556, "rate", "55.6%"), (1.0, "rate", "100.0%"), (0.0005, "rate", "0.1%"), (None, "rate", "—"),
    (246.05, "count", "246.1"), (-0.4201, "mcc", "-0.420"), (0.0625, "mcc", "0.063"),
])
def test_format_metric(value, kind, shown):
    assert format_metric(value, kind) == shown


def test_schema_rejects_script_urls_and_reported_without_citation():
    entry = make_reported_entry()
    assert schema_errors(entry) == []
    bad = copy.deepcopy(entry)
    bad["links"][0]["url"] = "javascript:alert(1)"
    assert any("links.0.url" in e for e in schema_errors(bad))
    bad = copy.deepcopy(entry)
    del bad["citation"]
    assert any("citation" in e for e in schema_errors(bad))


def make_reported_entry() -> dict:
    return {"schema_version": 2, "source": "reported", "model": "dnabert2", "task": "gue/EMP/H3", "attack": "pgd",
            "defense": "none", "metrics": {"origin_acc": 0.9, "after_attack_acc": 0.4, "asr": None,
                                           "embedding_asr": 0.55, "average_queries": None},
            "budget": {"max_perturb_ratio": None, "query_budget": None}, "n_examples": None, "flags": [],
            "threat": {"name": "pgd (embedding space) · budget not stated · no query cap · preserve=none",
                       "attack": "pgd", "max_perturb_ratio": None, "query_budget": None, "preserve": "none",
                       "label_check": None, "space": "embedding"},
            "date": "2025-05", "citation": {"text": "Luo et al. 2025", "url": "https://arxiv.org/abs/2505.10983",
                                            "license": "MIT", "source_file": "metadata/PGD/dnabert.json"},
            "links": [{"label": "paper", "url": "https://arxiv.org/abs/2505.10983"}]}


@pytest.fixture(scope="module")
def shared_reference(shared_dir) -> Path:
    return shared_dir / "reference" / "genoarmory_reported.csv"


# ---------------------------------------------------------------- trust: records, identity, finite numbers


@pytest.mark.parametrize("change, message", [
    ({"asr": 0.0}, "asr: summary says 0.0, records give 0.693"),
    ({"n_examples": 100, "n_success": 5}, "n_success: summary says 5, records give 61"),
    ({"valid_asr": 0.9}, "valid_asr: summary says 0.9"),
])
def test_add_refuses_a_summary_that_disagrees_with_its_records(tmp_path, capsys, change, message):
    board = new_board(tmp_path)
    run = make_run(tmp_path, "run", over=change)
    assert lb("add", run, "--board", board) == 2
    err = capsys.readouterr().err
    assert "disagrees with records.jsonl" in err and message in err and err.count("\n") == 1
    assert files_under(board / "data" / "entries") == []


def test_add_refuses_a_summary_with_fewer_records_than_it_claims(tmp_path, capsys):
    board = new_board(tmp_path)
    run = make_run(tmp_path, "run")
    from genoarmory.results import write_records

    write_records(run / "records.jsonl", make_records()[:10])  # 10 records under a summary of 100
    assert lb("add", run, "--board", board) == 2
    assert "n_examples: summary says 100, records give 10" in capsys.readouterr().err
    (run / "records.jsonl").unlink()
    assert lb("add", run, "--board", board) == 2
    assert "records.jsonl" in capsys.readouterr().err


def test_add_files_a_mislabelled_hub_model_under_its_folder_name(tmp_path, capsys, monkeypatch):
    """`model=dnabert2 model.path=<a random local model>` is not DNABERT-2: filed as the folder's own model."""
    from genoarmory.leaderboard import catalog
    from genoarmory.leaderboard.identity import model_identity

    board = new_board(tmp_path)
    folder = make_model_folder(tmp_path, "random-dnabert2", b"random weights")
    run = make_run(tmp_path, "run", model="dnabert2", model_path=str(folder))
    assert lb("add", run, "--board", board) == 0
    out = capsys.readouterr().out
    (entry,) = load_board(board)
    assert entry["model"] == "random-dnabert2" and entry["model_hub_id"] is None
    assert "matches no known revision of zhihan1996/DNABERT-2-117M" in entry["identity"]["filed_as"] and "user model" in out
    assert not any("huggingface.co" in link["url"] for link in entry["links"])  # no model card of a model it is not
    assert entry["identity"]["model"]["weights_sha256"] == model_identity(str(folder))["weights_sha256"]

    # the same folder, once its hash is a known revision of the hub model, is filed under the hub name
    known = copy.deepcopy(catalog.catalog())
    known["models"]["dnabert2"]["known_weights"] = {"abc123": entry["identity"]["model"]["weights_sha256"]}
    monkeypatch.setattr(catalog, "catalog", lambda: known)
    board2 = new_board(tmp_path / "second")
    assert lb("add", run, "--board", board2) == 0
    (entry,) = load_board(board2)
    assert entry["model"] == "dnabert2" and entry["model_hub_id"] == "zhihan1996/DNABERT-2-117M"
    assert "abc123" in entry["identity"]["filed_as"]


def test_identity_hashes_are_recorded_and_check_rehashes_them(tmp_path, capsys):
    import hashlib

    board = new_board(tmp_path)
    folder = make_model_folder(tmp_path, "tiny-model", b"tiny weights")
    run = make_run(tmp_path, "run", model_path=str(folder))
    assert lb("add", run, "--board", board) == 0
    (entry,) = load_board(board)
    model = entry["identity"]["model"]
    assert model["weights_files"] == {"model.safetensors": hashlib.sha256(b"tiny weights").hexdigest()}
    assert set(model["tokenizer_files"]) == {"tokenizer.json"} and model["tokenizer_sha256"]
    assert entry["identity"]["data"]["kind"] == "generated" and len(entry["identity"]["data"]["sha256"]) == 64
    assert lb("check", "--board", board) == 0
    assert ("of 1 verified entries, re-hashed here and matching: weights and tokenizer of 1, the attacked data "
            "file of 0 (0 have nothing on this machine to re-hash)") in capsys.readouterr().out
    (folder / "model.safetensors").write_bytes(b"swapped weights")
    assert lb("check", "--board", board) == 2
    assert "no longer match the entry's hash" in capsys.readouterr().err


def test_csv_data_is_hashed(tmp_path):
    from genoarmory.leaderboard.identity import data_identity, file_sha256

    (tmp_path / "tf" / "0").mkdir(parents=True)
    (tmp_path / "tf" / "0" / "test.csv").write_text("sequence,label\nACGT,1\n")
    config = {"data_root": str(tmp_path), "dataset": {"split": "test", "loader": {"_target_": "genoarmory.data.gue.load_gue", "task": "tf/0"}}}
    data = data_identity(config, {})
    assert data["kind"] == "csv" and data["sha256"] == file_sha256(tmp_path / "tf" / "0" / "test.csv")


def test_non_finite_numbers_are_refused_everywhere(tmp_path, capsys):
    entry = make_reported_entry()
    entry["metrics"]["origin_acc"] = float("nan")
    assert any("metrics.origin_acc: nan is not a finite number" in e for e in schema_errors(entry))
    board = new_board(tmp_path)
    lb("add", make_run(tmp_path, "run"), "--board", board)
    (path,) = (board / "data" / "entries").rglob("*.json")
    path.write_text(path.read_text().replace('"after_attack_acc": 0.27', '"after_attack_acc": NaN'))
    assert lb("check", "--board", board) == 2
    assert "NaN is not a number JSON allows" in capsys.readouterr().err
    assert lb("build", "--out", tmp_path / "site", "--board", board) == 2


def test_reported_figures_are_preserve_none_pgd_in_embedding_space_and_impossible_ones_flagged(imported_board):
    entries = load_board(imported_board)
    assert all(e["threat"]["preserve"] == "none" and e["metrics"]["valid_asr"] is None for e in entries)
    pgd = [e for e in entries if e["attack"] == "pgd"]
    assert pgd and all(e["metrics"]["asr"] is None and e["threat"]["space"] == "embedding" for e in pgd)
    assert any(e["metrics"].get("embedding_asr") is not None for e in pgd)
    zero_queries = [e for e in entries if any(f.startswith("impossible: ASR") for f in e["flags"])]
    assert len(zero_queries) == 50  # the count: queries 0 with ASR > 0
    for e in zero_queries:
        asr = e["metrics"]["asr"] if e["metrics"]["asr"] is not None else e["metrics"]["embedding_asr"]
        assert e["metrics"]["average_queries"] == 0 and asr > 0
    zero_clean = [e for e in entries if any(f.startswith("impossible: DSR") for f in e["flags"])]
    assert all(e["metrics"]["origin_acc"] == 0 for e in zero_clean)


def test_rankings_order_by_robust_accuracy_and_mark_near_chance(tmp_path):
    from genoarmory.leaderboard import views

    board = new_board(tmp_path)
    runs = [make_run(tmp_path, "strong", model="m-strong", records=make_records(success=10)),
            make_run(tmp_path, "weak", model="m-weak", records=make_records(success=80)),
            make_run(tmp_path, "chance", model="m-chance", records=make_records(correct=52, success=0)),
            make_run(tmp_path, "defended", model="m-weak", defense="at", records=make_records(success=40))]
    assert lb("add", *runs, "--board", board) == 0
    entries = load_board(board)
    (ranking,) = views.rankings(entries)
    order = [(r["e"]["model"], r["e"]["defense"]) for r in ranking["rows"]]
    robust = [r["robust"] for r in ranking["rows"]]
    assert robust == sorted(robust, reverse=True)
    assert order[0] == ("m-strong", "none") and order[-1] == ("m-weak", "none")
    assert [r["near_chance"] for r in ranking["rows"] if r["e"]["model"] == "m-chance"] == [True]  # 52 % on 2 classes
    (best,) = views.best_models(entries)
    assert best["wins"][0] == ("m-strong", 1)  # near-chance m-chance (ASR 0) is not "most robust"
    (effect,) = views.defense_effects(entries)
    assert effect["e"]["defense"] == "at" and effect["d_success"] == pytest.approx((40 - 80) / 88)
    (summary,) = views.defense_summary([effect])
    assert (summary["helped"], summary["hurt"], summary["n"]) == (1, 0, 1)


def test_a_hub_snapshot_with_unknown_weights_is_named_by_its_repo_and_revision(tmp_path, capsys):
    board = new_board(tmp_path)
    snapshot = tmp_path / "hub" / "models--zhihan1996--DNABERT-2-117M" / "snapshots"
    folder = make_model_folder(snapshot, "7bce263b15377fc15361f52cfab88f8b586abda0", b"some weights")
    run = make_run(tmp_path, "run", model="dnabert2", model_path=str(folder))
    assert lb("add", run, "--board", board) == 0
    (entry,) = load_board(board)
    assert entry["model"] == "zhihan1996/DNABERT-2-117M@7bce263b1537" and entry["model_hub_id"] is None
    assert (entry["identity"]["model"]["hub_id"], entry["identity"]["model"]["revision"]) == \
        ("zhihan1996/DNABERT-2-117M", "7bce263b15377fc15361f52cfab88f8b586abda0")
