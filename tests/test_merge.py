"""`merge`: the shards of one attack merge into the unsharded run's records and summary; shards of
different settings, missing, repeated or unfinished shards are refused with one line and exit code 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from conftest import run_cli
from genoarmory.testing import read_json_records

METRICS = ("n_examples", "n_attacked", "n_success", "origin_acc", "after_attack_acc", "asr", "average_queries",
           "perturbation_rate", "average_edits", "clean_mcc", "adv_mcc", "clean_f1", "adv_f1", "flags", "config_hash")
N = 23  # not a multiple of 3: shards of unequal size


def settings(model: Path, *extra: str) -> list[str]:
    return ["model=tiny-6mer", f"model.path={model / 'model'}", "attack=random", f"dataset.limit={N}",
            "dataset.loader.n_train=20", "dataset.loader.n_dev=20", "progress=false", *extra]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, quick_tiny_model):
    """The unsharded run and a 3-shard sweep of the same attack."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: OpenMP threads would spin against other processes
    root = tmp_path_factory.mktemp("merge")
    try:
        assert run_cli("attack", *settings(quick_tiny_model, f"run_dir={root / 'whole'}")) == 0
        assert run_cli("attack", "-m", *settings(quick_tiny_model, "dataset.shard=0/3,1/3,2/3",
                                                 f"run_dir={root / 'shards'}")) == 0
    finally:
        torch.set_num_threads(before)
    return root


def without_time(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("seconds", "config_hash")}


def test_merged_shards_equal_the_unsharded_run(runs, capsys):
    assert run_cli("merge", str(runs / "shards" / "0"), str(runs / "shards" / "1"), str(runs / "shards" / "2"),
                   "--out", str(runs / "merged")) == 0
    assert "merged 3 shards (23 records)" in capsys.readouterr().out
    merged = json.loads((runs / "merged" / "summary.json").read_text())
    whole = json.loads((runs / "whole" / "summary.json").read_text())
    for key in METRICS:
        assert merged[key] == whole[key], key
    assert merged["dataset"] == whole["dataset"] and merged["model"] == whole["model"]
    assert merged["dataset"]["shard"] is None
    assert [s["shard"] for s in merged["merged_from"]] == ["0/3", "1/3", "2/3"]
    got, expected = read_json_records(runs / "merged" / "records.jsonl"), read_json_records(runs / "whole" / "records.jsonl")
    assert [without_time(r) for r in got] == [without_time(r) for r in expected]


def test_a_sweep_folder_stands_for_its_shards_and_the_default_out_is_beside_them(runs):
    assert run_cli("merge", str(runs / "shards")) == 0
    merged = json.loads((runs / "shards" / "merged" / "summary.json").read_text())
    assert merged["n_examples"] == N
    assert run_cli("merge", *(str(runs / "shards" / str(i)) for i in range(3))) == 0  # a merge may be redone


def copy_shards(runs: Path, tmp_path: Path) -> list[Path]:
    out = []
    for i in range(3):
        shutil.copytree(runs / "shards" / str(i), tmp_path / str(i))
        out.append(tmp_path / str(i))
    return out


def edit_summary(folder: Path, change) -> None:
    path = folder / "summary.json"
    summary = json.loads(path.read_text())
    change(summary)
    path.write_text(json.dumps(summary))


def refused(capsys, *argv) -> str:
    assert run_cli("merge", *map(str, argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("genoarmory: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_refuses_shards_run_with_other_settings_naming_the_setting(runs, tmp_path, capsys):
    shards = copy_shards(runs, tmp_path)
    edit_summary(shards[2], lambda s: s["config"]["attack"].update(max_perturb_ratio=0.2))
    err = refused(capsys, *shards, "--out", tmp_path / "m")
    assert "attack.max_perturb_ratio (0.1 vs 0.2)" in err and not (tmp_path / "m").exists()


def test_refuses_missing_and_repeated_shards(runs, tmp_path, capsys):
    shards = copy_shards(runs, tmp_path)
    assert "missing shard(s) 1/3" in refused(capsys, shards[0], shards[2], "--out", tmp_path / "m")
    shutil.copytree(shards[1], tmp_path / "copy-of-1")  # the same shard in two folders
    assert "given twice" in refused(capsys, shards[0], shards[1], shards[2], tmp_path / "copy-of-1", "--out", tmp_path / "m")
    edit_summary(shards[1], lambda s: s["config"]["dataset"].update(shard=None))
    assert "not a shard" in refused(capsys, *shards, "--out", tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_refuses_an_unfinished_shard(runs, tmp_path, capsys):
    shards = copy_shards(runs, tmp_path)
    lines = (shards[1] / "records.jsonl").read_text().splitlines(keepends=True)
    (shards[1] / "records.jsonl").write_text("".join(lines[:-1]))  # records and summary disagree
    assert "rerun this shard to finish it" in refused(capsys, *shards, "--out", tmp_path / "m")
    (shards[1] / "summary.json").unlink()  # killed before the end: no summary at all
    assert "shard not finished" in refused(capsys, *shards, "--out", tmp_path / "m")


def test_refuses_to_overwrite_a_real_run_or_a_shard(runs, tmp_path, capsys):
    shards = copy_shards(runs, tmp_path)
    assert "not a merge" in refused(capsys, *shards, "--out", runs / "whole")
    assert "one of the shards" in refused(capsys, *shards, "--out", shards[0])
