"""`genoarmory.certify`, `genoarmory.corrupt` and `genoarmory.transfer` give what the commands give on the
embedded default (the commands call them: one path), and their results save run folders `read` takes."""

from __future__ import annotations

import json

import pytest

import genoarmory as ga
from genoarmory.errors import UserError

from conftest import run_cli

LIMIT = 4
CERTIFY = {"noise": 0.2, "n": 60, "n0": 8, "alpha": 0.01}


def rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_certify_gives_the_cli_certificates(tmp_path):
    out = tmp_path / "cli"
    assert run_cli("certify", f"dataset.limit={LIMIT}", *(f"defense.{k}={v}" for k, v in CERTIFY.items()),
                   f"run_dir={out}", "progress=false") == 0
    result = ga.certify(ga.Victim.from_pretrained("tiny-6mer"), task=ga.load_task("motif/tata"), limit=LIMIT,
                        **CERTIFY)
    assert result.rows == rows(out / "certificates.jsonl")
    cli = json.loads((out / "summary.json").read_text())
    assert result.certified_accuracy() == {int(r): v for r, v in cli["certified_accuracy"].items()}
    assert result.summary["config_hash"] == cli["config_hash"]  # the same composed config
    assert list(result.to_pandas()["radius"]) == [r["radius"] for r in result.rows]
    saved = result.save(tmp_path / "api")
    assert rows(saved / "certificates.jsonl") == result.rows and "certified accuracy r0=" in repr(result)
    with pytest.raises(UserError, match="already holds a run"):
        result.save(out)


def test_corrupt_gives_the_cli_rows_and_the_table(tmp_path):
    out = tmp_path / "cli"
    profiles = {"illumina": [0.01], "truncate": [0.5]}
    assert run_cli("corrupt", f"dataset.limit={LIMIT}", "corruption.profiles.illumina=[0.01]",
                   "~corruption.profiles.nanopore", "~corruption.profiles.n_mask", "corruption.profiles.truncate=[0.5]",
                   f"run_dir={out}", "progress=false") == 0
    result = ga.corrupt(ga.Victim.from_pretrained("tiny-6mer"), task=ga.load_task("motif/tata"), limit=LIMIT,
                        profiles=profiles)
    assert result.rows == rows(out / "corruptions.jsonl")
    cli = json.loads((out / "summary.json").read_text())
    assert result.summary["corruptions"] == cli["corruptions"]
    assert list(result.table()["profile"]) == ["illumina", "truncate"]
    saved = result.save(tmp_path / "api")
    assert (saved / "corruption_curves.png").is_file() and run_cli("read", str(saved)) == 0


def test_sequences_in_memory_are_certified_without_a_task():
    task = ga.load_task("motif/tata")
    examples = task.split("test")[:3]
    victim = ga.Victim.from_pretrained(ga.embedded_model("tiny-6mer") / "model")
    result = ga.certify(victim, [e.sequence for e in examples], [e.label for e in examples], **CERTIFY)
    assert [r["label"] for r in result.rows] == [e.label for e in examples]
    assert [r["id"] for r in result.rows] == ["0", "1", "2"]  # named by position, as attack() names them
    with pytest.raises(UserError, match="labels"):
        ga.corrupt(victim, [examples[0].sequence])


def attack_runs(root) -> list:
    """Random attacks of two tiny families on the same examples: what `transfer` takes."""
    runs = [root / model for model in ("tiny-6mer", "tiny-bpe")]
    for run in runs:
        assert run_cli("attack", f"model={run.name}", "attack=random", "attack.max_perturb_ratio=0.2",
                       f"dataset.limit={LIMIT}", f"run_dir={run}", "progress=false") == 0
    return runs


def test_transfer_gives_the_cli_matrix(tmp_path):
    runs = attack_runs(tmp_path)
    assert run_cli("transfer", *map(str, runs), "--out", str(tmp_path / "cli")) == 0
    result = ga.transfer(runs)
    assert result.summary == json.loads((tmp_path / "cli" / "transfer.json").read_text())
    assert result.models == ["tiny-6mer", "tiny-bpe"] and result.matrix().shape == (2, 2)
    assert len(result.to_pandas()) == 4
    result.save(tmp_path / "api")
    assert (tmp_path / "api" / "transfer_matrix.png").is_file()


def test_read_opens_a_transfer_folder_and_names_what_a_folder_lacks(tmp_path):
    runs = attack_runs(tmp_path)
    out = tmp_path / "matrix"
    assert run_cli("transfer", *map(str, runs), "--out", str(out)) == 0
    result = ga.read(out)
    assert isinstance(result, ga.TransferResult) and result.run_dir == out
    assert result.summary == json.loads((out / "transfer.json").read_text()) and result.matrix().shape == (2, 2)
    assert list(ga.read(tmp_path)["run"]) == ["tiny-6mer", "tiny-bpe"]  # runs below it: their metrics rows
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"no summary\.json .* no transfer\.json") as err:
        ga.read(tmp_path / "empty")
    assert err.value.where == str(tmp_path / "empty")
    broken = tmp_path / "broken"
    broken.mkdir()
    report = json.loads((out / "transfer.json").read_text())
    (broken / "transfer.json").write_text(json.dumps({**report, "rates": report["rates"][:1]}))
    with pytest.raises(UserError, match="rates is not a 2 x 2 matrix") as err:
        ga.read(broken)
    assert err.value.where == str(broken / "transfer.json")
