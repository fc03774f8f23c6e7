"""Bad input through the real command (`attack`, in-process): one clear line naming file and line where
there is one, exit code 2, no traceback, nothing written (the run dir is never created).
The policy cases that are not errors (N under skip / replace, truncate) check what the run did instead."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import run_cli
from genoarmory.testing import read_json_records

TRAIN = "sequence,label\n" + "".join(f"{'ACGT' * 10 + 'AC'[i % 2] * 4},{i % 2}\n" for i in range(8))
GOOD = "ACGTTGCAACGGTACCATGA"


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # 2 shared cores: OpenMP threads would spin against other processes
    yield
    torch.set_num_threads(before)


def gue_task(root: Path, test_csv: str) -> Path:
    """A GUE-format task folder data_root/tf/0 whose test.csv is `test_csv`; returns test.csv's path."""
    folder = root / "tf" / "0"
    folder.mkdir(parents=True)
    (folder / "train.csv").write_text(TRAIN)
    (folder / "test.csv").write_text(test_csv)
    return folder / "test.csv"


def attack(tmp_path: Path, model: Path, *extra: str) -> tuple[list[str], Path]:
    run_dir = tmp_path / "run"
    return ["attack", "model=tiny-6mer", f"model.path={model / 'model'}", "dataset=gue/tf/0",
            f"data_root={tmp_path / 'gue'}", "attack=random", "progress=false", f"run_dir={run_dir}", *extra], run_dir


def fails_cleanly(argv: list[str], run_dir: Path, capsys) -> str:
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert not run_dir.exists(), "a failed run must write nothing"
    return err


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("genoarmory: error: "), err
    return lines[0]


CSV_CASES = {
    "no sequence column": ("seq,label\nACGT,0\n", 1, "no `sequence` column"),
    "no label column": ("sequence,class\nACGT,0\n", 1, "no `label` column"),
    "label out of range": (f"sequence,label\n{GOOD},0\n{GOOD},2\n", 3, "label 2 out of range (0..1)"),
    "negative label": (f"sequence,label\n{GOOD},-1\n", 2, "label -1 out of range"),
    "label not an integer": (f"sequence,label\n{GOOD},one\n", 2, "label 'one' is not an integer"),
    "fractional label": (f"sequence,label\n{GOOD},1.5\n", 2, "label '1.5' is not an integer"),
    "empty sequence": (f"sequence,label\n{GOOD},0\n,1\n", 3, "empty sequence"),
    "N under policy error": (f"sequence,label\n{GOOD},0\nACGNT,1\n", 3, "ambiguous base 'N' at position 4"),
    "too many fields": (f"sequence,label\n{GOOD},0,7\n", 2, "expected 2 fields, found 3"),
}


@pytest.mark.parametrize("case", CSV_CASES)
def test_bad_csv_is_one_line_naming_file_and_line(case, tmp_path, quick_tiny_model, capsys):
    text, line, message = CSV_CASES[case]
    path = gue_task(tmp_path / "gue", text)
    # GUE skips (and counts) its published N bases by default (data/gue.py); refusing them is asked for
    argv, run_dir = attack(tmp_path, quick_tiny_model, *(["+dataset.loader.ambiguous=error"] if "N under" in case else []))
    error = one_line(fails_cleanly(argv, run_dir, capsys))
    assert f"{path}:{line}: {message}" in error


@pytest.mark.parametrize("policy", ["error", "skip", "replace"])
def test_a_character_that_is_no_dna_is_an_error_under_every_policy(policy, tmp_path, quick_tiny_model, capsys):
    path = gue_task(tmp_path / "gue", f"sequence,label\n{GOOD},0\nACGXT,1\n")
    argv, run_dir = attack(tmp_path, quick_tiny_model, f"sequence.policy={policy}")
    assert f"{path}:3: character 'X' at position 4 is not DNA" in one_line(fails_cleanly(argv, run_dir, capsys))


def test_n_under_skip_drops_the_example_and_under_replace_becomes_a_base(tmp_path, quick_tiny_model):
    gue_task(tmp_path / "gue", f"sequence,label\n{GOOD},0\nACGNTACGNNACGTACGTAA,1\n{GOOD[::-1]},1\n")
    argv, run_dir = attack(tmp_path, quick_tiny_model, "sequence.policy=skip")
    assert run_cli(*argv) == 0
    assert [r["id"] for r in read_json_records(run_dir / "records.jsonl")] == ["test:2", "test:4"]

    argv, run_dir = attack(tmp_path, quick_tiny_model, "sequence.policy=replace", f"run_dir={tmp_path / 'replace'}")
    assert run_cli(*argv) == 0
    replaced = {r["id"]: r["sequence"] for r in read_json_records(tmp_path / "replace" / "records.jsonl")}
    assert len(replaced["test:3"]) == 20 and set(replaced["test:3"]) <= set("ACGT")
    assert replaced["test:3"][:3] + replaced["test:3"][4:8] == "ACGTACG"


def test_a_sequence_longer_than_the_model_is_an_error_or_truncated_with_a_warning(tmp_path, quick_tiny_model,
                                                                                 capsys):
    path = gue_task(tmp_path / "gue", f"sequence,label\n{GOOD},0\n{'ACGT' * 75},1\n")  # 300 nt: 52 tokens
    argv, run_dir = attack(tmp_path, quick_tiny_model, "model.max_length=30")
    error = one_line(fails_cleanly(argv, run_dir, capsys))
    assert f"{path}:3: sequence of 300 nt is 52 tokens, above the model's maximum of 30" in error
    assert "sequence.too_long=truncate" in error

    with pytest.warns(UserWarning, match=r"1 sequences exceed 30 tokens .*test.csv:3.*truncating"):
        assert run_cli(*argv, "sequence.too_long=truncate") == 0
    assert len(read_json_records(run_dir / "records.jsonl")) == 2


def test_a_model_id_absent_locally_while_offline(tmp_path, quick_tiny_model, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    gue_task(tmp_path / "gue", f"sequence,label\n{GOOD},0\n")
    argv, run_dir = attack(tmp_path, quick_tiny_model)
    argv = [a for a in argv if not a.startswith(("model", "attack="))]
    argv += ["model=dnabert2", "model.hub_id=genoarmory-tests/no-such-model", "attack=random", "offline=1"]
    error = one_line(fails_cleanly(argv, run_dir, capsys))
    assert "genoarmory-tests/no-such-model" in error and "offline" in error


@pytest.mark.parametrize("override, message", [
    ("model=no-such-model", "model=no-such-model: no such option (model options: caduceus, "),
    ("attack.max_perturb_ration=0.2", "attack.max_perturb_ration"),
    ("dataset.limit=[1", "no viable alternative at input '[1'"),
])
def test_an_unknown_config_value_is_hydras_error_with_exit_code_2(override, message, tmp_path, capsys):
    run_dir = tmp_path / "run"
    err = fails_cleanly(["attack", override, f"run_dir={run_dir}"], run_dir, capsys)
    assert message in err


def test_a_bad_fasta_names_its_line(tmp_path, quick_tiny_model, capsys):
    fasta = tmp_path / "seqs.fa"
    fasta.write_text(f">s1 label=0\n{GOOD}\n>s2 label=1\nACGTACGTAC\nACGT?CGT\n")
    argv, run_dir = attack(tmp_path, quick_tiny_model)
    argv = [a for a in argv if not a.startswith(("dataset=", "data_root="))] + ["dataset=fasta", f"dataset.path={fasta}"]
    assert f"{fasta}:5: character '?' at position 15 is not DNA" in one_line(fails_cleanly(argv, run_dir, capsys))
    fasta.write_text(f">s1 label=0\n{GOOD}\n>s2\n{GOOD}\n")
    assert f"{fasta}:3: no label" in one_line(fails_cleanly(argv, run_dir, capsys))
