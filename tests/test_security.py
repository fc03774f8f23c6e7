"""Loading a checkpoint never runs code it ships unless asked: auto_map (remote code) is refused without
model.trust_remote_code=true, pickle weights without model.allow_pickle=true, and even with
allow_pickle a pickle that would run code is refused (weights-only unpickling). Path traversal in
`download --source` archives is covered in test_download.py / test_hub.py."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from conftest import run_cli
from genoarmory.errors import UserError
from genoarmory.models.load import check_safety, load_classifier, read_config


@pytest.fixture
def checkpoint(tmp_path, quick_tiny_model) -> Path:
    folder = tmp_path / "checkpoint"
    shutil.copytree(quick_tiny_model / "model", folder)
    return folder


def attack_argv(folder: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["attack", "model=tiny-6mer", f"model.path={folder}", "attack=random", "dataset.limit=2",
            "dataset.loader.n_train=20", "dataset.loader.n_dev=20", "progress=false", f"run_dir={tmp_path / 'run'}",
            *extra]


def refused(argv, tmp_path, capsys) -> str:
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("genoarmory: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "run").exists()
    return lines[0]


def ship_code(folder: Path, marker: Path) -> None:
    """Make `folder` a checkpoint with its own model code (auto_map) that leaves `marker` if it ever runs."""
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "modeling_shipped.ShippedModel"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_shipped.py").write_text(
        f"open({str(marker)!r}, 'w').write('shipped code ran')\n"
        "from transformers import BertForSequenceClassification\n"
        "class ShippedModel(BertForSequenceClassification):\n    pass\n")


def test_shipped_model_code_is_refused_unless_trust_remote_code(checkpoint, tmp_path, capsys):
    marker = tmp_path / "ran"
    ship_code(checkpoint, marker)
    error = refused(attack_argv(checkpoint, tmp_path), tmp_path, capsys)
    assert "ships its own model code" in error and "model.trust_remote_code=true" in error
    assert str(checkpoint) in error and not marker.exists()
    check_safety(checkpoint, read_config(checkpoint), trust_remote_code=True, allow_pickle=False)  # asked: allowed


def safetensors_to_pickle(folder: Path, extra: dict | None = None) -> None:
    from safetensors.torch import load_file

    weights = load_file(folder / "model.safetensors")
    (folder / "model.safetensors").unlink()
    torch.save({**weights, **(extra or {})}, folder / "pytorch_model.bin")


def test_pickle_weights_are_refused_unless_allow_pickle(checkpoint, tmp_path, capsys):
    safetensors_to_pickle(checkpoint)
    error = refused(attack_argv(checkpoint, tmp_path), tmp_path, capsys)
    assert "only pickle weights (pytorch_model.bin)" in error and "model.allow_pickle=true" in error
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert run_cli(*attack_argv(checkpoint, tmp_path, "model.allow_pickle=true")) == 0  # asked: it loads
    finally:
        torch.set_num_threads(before)


class RunsCode:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_even_with_allow_pickle_a_pickle_that_runs_code_is_refused(checkpoint, tmp_path):
    marker = tmp_path / "pickle-ran"
    safetensors_to_pickle(checkpoint, {"payload": RunsCode(marker)})
    with pytest.raises(UserError, match="cannot load model"):
        load_classifier(checkpoint, 2, trust_remote_code=False, allow_pickle=True)
    assert not marker.exists()


def test_a_folder_without_weights_names_the_flag(checkpoint):
    (checkpoint / "model.safetensors").unlink()
    with pytest.raises(UserError, match="no weight files; GenoArmory loads safetensors only"):
        check_safety(checkpoint, read_config(checkpoint), trust_remote_code=False, allow_pickle=False)
