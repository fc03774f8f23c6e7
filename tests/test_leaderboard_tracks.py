"""The leaderboard's tracks: `leaderboard add` of real certify, corrupt and transfer runs on the embedded
default (recomputed from their per-example files; a disagreeing summary, a forged row, an off-protocol run
refused), the track schema, `leaderboard check`, `read`, and the built site in headless Chromium."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import genoarmory as ga
from genoarmory.defenses.certificate import certified_radius, clopper_pearson_lower
from genoarmory.defenses.certify import certified_summary
from genoarmory.leaderboard.entries import track_schema_errors
from genoarmory.leaderboard.site import format_metric
from genoarmory.leaderboard.tracks import load_tracks, track_id
from genoarmory.metrics.corruption import corruption_summary

from conftest import run_cli
from test_leaderboard import XSS, files_under, lb, new_board
from test_leaderboard_browser import browser, open_page  # noqa: F401  (fixtures: headless Chromium)

CERTIFY = ["defense.noise=0.2", "defense.n=20", "defense.n0=4", "defense.alpha=0.05"]


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """Protocol runs (the seeded 100 test examples of motif/tata): certify, corrupt, two attacks and their
    transfer matrix, made by the commands; and a certify run made by the Python API (a model of its own name)."""
    root = tmp_path_factory.mktemp("tracks")
    out = {"root": root, "certify": root / "certify", "corrupt": root / "corrupt", "matrix": root / "matrix"}
    assert run_cli("certify", *CERTIFY, f"run_dir={out['certify']}", "progress=false") == 0
    assert run_cli("corrupt", f"run_dir={out['corrupt']}", "progress=false") == 0
    sources = []
    for model in ("tiny-6mer", "tiny-bpe"):
        sources.append(root / model)
        assert run_cli("attack", f"model={model}", "attack=random", f"run_dir={sources[-1]}", "progress=false") == 0
    assert run_cli("transfer", *map(str, sources), "--out", str(out["matrix"])) == 0
    victim = ga.Victim.from_pretrained(ga.embedded_model("tiny-6mer") / "model", name="from-python")
    ga.certify(victim, task=ga.load_task("motif/tata"), noise=0.2, n=20, n0=4, alpha=0.05, run_dir=root / "api")
    out["api"] = root / "api"
    return out


def tampered(run: Path, where: Path, change) -> Path:
    """A copy of the run folder with `change(folder)` applied (a hand edit)."""
    copy = where / f"{run.name}-edited"
    shutil.copytree(run, copy)
    change(copy)
    return copy


def edit_json(path: Path, **fields) -> None:
    data = json.loads(path.read_text())
    data.update(fields)
    path.write_text(json.dumps(data))


def test_certify_run_becomes_a_certified_entry_recomputed_from_its_rows(runs, tmp_path):
    board = new_board(tmp_path)
    assert lb("add", runs["certify"], "--board", board) == 0
    (entry,) = load_tracks(board)
    assert track_schema_errors(entry) == [] and entry["track"] == "certified"
    certificates = rows(runs["certify"] / "certificates.jsonl")
    for r in certificates:  # every radius follows from its own count, independently of the stored one
        assert r["radius"] == certified_radius(clopper_pearson_lower(r["count"], 20, 0.05), 0.2, 3)
    assert entry["metrics"] == certified_summary(certificates, [0, 1, 2, 3])
    assert entry["setting"] == {"noise": 0.2, "n": 20, "n0": 4, "alpha": 0.05, "radii": [0, 1, 2, 3],
                                "name": "p=0.2 · n=20 · n0=4 · α=0.05", "key": "p0.2-n20-n04-a0.05"}
    assert len(entry["identity"]["model"]["weights_sha256"]) == 64 and entry["n_examples"] == 100
    assert lb("check", "--board", board) == 0


def test_add_refuses_a_certify_summary_that_disagrees_with_its_certificates(runs, tmp_path, capsys):
    board = new_board(tmp_path)

    def inflate(folder):
        summary = json.loads((folder / "summary.json").read_text())
        summary["certified_accuracy"]["1"] = 0.99
        edit_json(folder / "summary.json", certified_accuracy=summary["certified_accuracy"], certified_acc_r1=0.99)

    assert lb("add", tampered(runs["certify"], tmp_path, inflate), "--board", board) == 2
    assert "summary.json disagrees with certificates.jsonl: certified_accuracy" in capsys.readouterr().err
    assert files_under(board / "data") == [board / "data" / "protocol.json"]  # nothing written


def test_add_refuses_a_certificate_row_its_count_does_not_support(runs, tmp_path, capsys):
    def forge(folder):  # a row claims radius 3, and the summary is rebuilt to agree with the forged rows
        forged = rows(folder / "certificates.jsonl")
        forged[0].update(radius=3, prediction=forged[0]["label"], vote=forged[0]["label"])
        (folder / "certificates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in forged))
        edit_json(folder / "summary.json", **certified_summary(forged, [0, 1, 2, 3]))

    assert lb("add", tampered(runs["certify"], tmp_path, forge), "--board", new_board(tmp_path / "other")) == 2
    assert "certifies radius" in capsys.readouterr().err


def test_add_refuses_a_certify_run_off_the_protocol(runs, tmp_path, capsys):
    def fewer(folder):
        summary = json.loads((folder / "summary.json").read_text())
        edit_json(folder / "summary.json", dataset={**summary["dataset"], "limit": 50})

    assert lb("add", tampered(runs["certify"], tmp_path, fewer), "--board", new_board(tmp_path / "other")) == 2
    assert "dataset.limit is 50" in capsys.readouterr().err


def test_corrupt_run_becomes_a_corruptions_entry_and_a_forged_read_is_refused(runs, tmp_path, capsys):
    board = new_board(tmp_path)
    assert lb("add", runs["corrupt"], "--board", board) == 0
    (entry,) = load_tracks(board)
    assert entry["track"] == "corruptions" and track_schema_errors(entry) == []
    assert entry["metrics"] == corruption_summary(rows(runs["corrupt"] / "corruptions.jsonl"))
    assert len(entry["metrics"]["corruptions"]) == 12 and entry["setting"]["seed"] == 42

    def forge(folder):  # a corrupted read replaced by its clean read (and scored so), summary rebuilt
        forged = rows(folder / "corruptions.jsonl")
        clean = next(r for r in forged if r["profile"] == "clean" and r["id"] == forged[-1]["id"])
        forged[-1].update(sequence=clean["sequence"], pred=clean["pred"])
        (folder / "corruptions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in forged))
        edit_json(folder / "summary.json", **corruption_summary(forged))

    assert lb("add", tampered(runs["corrupt"], tmp_path, forge), "--board", new_board(tmp_path / "other")) == 2
    assert "is not the one the seeded profile gives" in capsys.readouterr().err


def test_transfer_folder_becomes_a_matrix_scored_again(runs, tmp_path, capsys):
    board = new_board(tmp_path)
    assert lb("add", runs["matrix"], "--board", board) == 0
    (entry,) = load_tracks(board)
    report = json.loads((runs["matrix"] / "transfer.json").read_text())
    assert entry["metrics"]["rates"] == report["rates"] and entry["metrics"]["models"] == ["tiny-6mer", "tiny-bpe"]
    assert [s["name"] for s in entry["identity"]["models"]] == ["tiny-6mer", "tiny-bpe"]
    assert track_schema_errors(entry) == []

    def inflate(folder):
        edit_json(folder / "transfer.json", rates=[[1.0, 1.0], [1.0, 1.0]])

    assert lb("add", tampered(runs["matrix"], tmp_path, inflate), "--board", new_board(tmp_path / "other")) == 2
    assert "transfer.json disagrees with its runs scored again: rates" in capsys.readouterr().err


def test_track_schema_bounds_rates_and_names_the_track():
    entry = {"schema_version": 1, "track": "certified", "source": "verified", "model": "m", "task": "t",
             "setting": {"name": "s", "key": "k", "noise": 0.1, "n": 10, "n0": 2, "alpha": 0.1, "radii": [0]},
             "metrics": {"n_examples": 1, "certified_accuracy": {"0": 1.5}, "origin_acc": 1, "smoothed_acc": 1,
                         "abstain_rate": 0, "mean_certified_radius": 0},
             "n_examples": 1, "selection": {}, "config_hash": None, "versions": {}, "commit": None, "device": None,
             "protocol": "p", "run": {"dir": "x", "file": "certificates.jsonl"}, "date": "2026-01-01",
             "identity": {"model": {"path": None, "weights_sha256": None, "tokenizer_sha256": None, "hub_id": None,
                                    "revision": None}, "data": {"kind": "generated", "sha256": None}, "filed_as": "x"},
             "flags": []}
    assert any("certified_accuracy.0" in e for e in track_schema_errors(entry))
    entry["metrics"]["certified_accuracy"]["0"] = 1.0
    assert track_schema_errors(entry) == []
    assert any("track" in e for e in track_schema_errors({**entry, "track": "bogus"}))


def test_the_api_run_is_an_entry_like_the_cli_run(runs, tmp_path):
    board = new_board(tmp_path)
    assert lb("add", runs["certify"], runs["api"], "--board", board) == 0
    cli, api = sorted(load_tracks(board), key=lambda e: e["model"] != "tiny-6mer")
    assert api["model"] == "from-python" and api["metrics"] == cli["metrics"]  # the same weights and examples
    assert api["identity"]["model"]["weights_sha256"] == cli["identity"]["model"]["weights_sha256"]


def test_read_shows_each_kind_of_run(runs, capsys):
    assert run_cli("read", str(runs["certify"])) == 0
    out = capsys.readouterr().out
    assert all(part in out for part in ("certified (smoothing", "p=0.2,", "n=20,", "alpha=0.05)", "radius r"))
    assert run_cli("read", str(runs["corrupt"])) == 0
    assert "natural corruptions" in capsys.readouterr().out
    assert run_cli("read", str(runs["matrix"])) == 0
    assert "source \\ target" in capsys.readouterr().out


# ---------------------------------------------------------------- the built site, in a browser

@pytest.fixture(scope="module")
def site(runs, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tracks-site")
    board = new_board(root)
    noisier = root / "certify-p0.1"  # a second smoothing setting: a second table
    assert run_cli("certify", "defense.noise=0.1", "defense.n=20", "defense.n0=4", "defense.alpha=0.05",
                   f"run_dir={noisier}", "progress=false") == 0
    def hostile(folder):  # a name no config accepts, as a hand-edited run (or board file) could carry it
        summary = json.loads((folder / "summary.json").read_text())
        edit_json(folder / "summary.json", model={**summary["model"], "name": XSS})

    xss = tampered(runs["certify"], root, hostile)
    assert lb("add", runs["certify"], runs["api"], xss, noisier, runs["corrupt"], runs["matrix"], "--board", board) == 0
    out = root / "site"
    assert lb("build", f"run_dir={out}", "--board", board) == 0
    return board, out


@pytest.mark.browser
def test_track_tables_show_the_entries_numbers_and_keep_their_state_in_the_url(site, open_page):
    board, out = site
    entries = {track_id(e): e for e in load_tracks(board)}
    page = open_page(out / "index.html")
    select = page.locator("#certified-select")
    (wider,) = [o for o in select.locator("option").all_text_contents() if "p=0.2" in o]
    assert len(select.locator("option").all()) == 2  # one table per smoothing setting
    select.select_option(label=wider)
    assert "cert=" in page.evaluate("() => location.hash")
    visible = page.locator('.track-table[data-track="certified"]:not([hidden]) tbody tr')
    shown = {tr.get_attribute("data-id"): [td.text_content() for td in tr.locator("td").all()] for tr in visible.all()}
    assert len(shown) == 3 and XSS in [entries[i]["model"] for i in shown]  # p=0.2: the embedded model thrice
    for key, cells in shown.items():
        acc = entries[key]["metrics"]["certified_accuracy"]
        assert cells[1] == entries[key]["model"] and cells[2:6] == [format_metric(acc[str(r)], "rate") for r in range(4)]
    ranks = [entries[k]["metrics"]["certified_accuracy"]["1"] for k in shown]
    assert ranks == sorted(ranks, reverse=True)
    assert page.locator("#certified script").count() == 0 and XSS in page.text_content("#certified")
    page.select_option("#corruptions-metric", "mcc")
    again = open_page(out / "index.html")
    again.goto(page.url)
    assert again.locator("#certified-select").evaluate("s => s.selectedOptions[0].textContent") == wider
    assert again.locator('.track-table[data-track="certified"]:not([hidden]) tbody tr').count() == 3
    (corrupt,) = [e for e in entries.values() if e["track"] == "corruptions"]
    first = again.locator('.track-table[data-track="corruptions"] tbody tr td:nth-child(6)')
    assert "cmetric=mcc" in again.evaluate("() => location.hash")
    assert first.inner_text() == format_metric(corrupt["metrics"]["corruptions"][0]["mcc"], "mcc")  # MCC shown
    again.select_option("#corruptions-metric", "acc")
    assert first.inner_text() == format_metric(corrupt["metrics"]["corruptions"][0]["accuracy"], "rate")
    (matrix,) = [e for e in entries.values() if e["track"] == "transfer"]
    cells = again.locator(".transfer-matrix tbody td").all()
    assert [json.loads(td.get_attribute("data-value")) for td in cells] == \
        [x for row in matrix["metrics"]["rates"] for x in row]
    assert cells[0].evaluate("td => td.style.backgroundColor") != ""  # coloured as heat


@pytest.mark.parametrize("row_change, message", [
    ({"count": "20"}, "count is not a count"), ({"count": 999}, "count is not a count"),
    ({"label": True}, "label is not a count"),
])
def test_add_refuses_certificate_rows_of_the_wrong_kind_in_one_line(runs, tmp_path, capsys, row_change, message):
    def edit(folder):
        forged = rows(folder / "certificates.jsonl")
        forged[2].update(row_change)
        (folder / "certificates.jsonl").write_text("".join(json.dumps(r) + "\n" for r in forged))

    assert lb("add", tampered(runs["certify"], tmp_path, edit), "--board", new_board(tmp_path)) == 2
    err = capsys.readouterr().err
    assert message in err and "certificates.jsonl:3" in err and "Traceback" not in err


@pytest.mark.browser
def test_track_tables_fit_a_phone(site, open_page):
    page = open_page(site[1] / "index.html", width=390)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390  # wide tables scroll in their box
    assert page.locator("#corruptions-select").is_visible() and page.locator(".transfer-matrix").is_visible()
