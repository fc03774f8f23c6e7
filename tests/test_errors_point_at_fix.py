"""Each error a new user meets names the fix in one line (issue 16, item 4)."""

from __future__ import annotations

import shutil

import pytest

import genoarmory as ga
from conftest import compose, run_cli


@pytest.mark.parametrize("override, fix", [
    ("model=dnabert", "model=dnabert: no such option; did you mean dnabert2? (model options: caduceus, "),
    ("attack=bertatack", "did you mean bertattack? (attack options: bertattack, fimba, pgd, random, textattack, textfooler)"),
    ("dataset=gue/EMP/h3", "did you mean gue/EMP/H3? (dataset options: gue/EMP/H3, gue/EMP/H3K14ac,"),
    ("dataset=motif/tat", "did you mean motif/tata? (dataset options: motif/ctcf, motif/grammar, motif/tata)"),
])
def test_unknown_option_says_did_you_mean(override, fix, capsys, tmp_path):
    assert run_cli("attack", override, f"run_dir={tmp_path / 'run'}") == 2
    err = capsys.readouterr().err
    assert fix in err and err.count("\n") == 1 and not (tmp_path / "run").exists()


@pytest.mark.parametrize("alias, name", [("bert-attack", "bertattack"), ("BERT-Attack", "bertattack"),
                                         ("textfooler", "textfooler"), ("text-fooler", "textfooler")])
def test_textattack_recipe_names_are_accepted(alias, name):
    assert compose([f"attack={alias}"]).attack.name == name


def test_missing_mlm_with_model_path_says_set_attack_mlm(tmp_path, capsys):
    own = tmp_path / "lonely"  # the model without its mlm/ sibling
    shutil.copytree(ga.embedded_model("tiny-6mer") / "model", own)
    assert run_cli("attack", f"model.path={own}", "dataset.limit=1", f"run_dir={tmp_path / 'run'}") == 2
    err = capsys.readouterr().err
    assert "set attack.mlm=<local MLM folder or hub id>" in err and "download" not in err


def test_wrong_data_root_names_the_missing_folder(tmp_path, capsys):
    task = tmp_path / "gue" / "tf" / "0"
    task.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        (task / f"{split}.csv").write_text("sequence,label\nACGTACGT,0\nACGTACGA,1\n")
    assert run_cli("attack", "dataset=gue/tf/0", f"data_root={tmp_path}", f"run_dir={tmp_path / 'run'}") == 2
    err = capsys.readouterr().err
    assert f"no {tmp_path}/tf/0/ folder" in err and f"set data_root={tmp_path / 'gue'}" in err
    assert "unreachable" not in err.split("(nor could")[0]
