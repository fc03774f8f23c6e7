"""FASTA input (`dataset=fasta`): labels from headers or an id,label CSV; errors name file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import compose, run_cli
from genoarmory.data import evaluation_examples, load_task
from genoarmory.data.fasta import load_fasta_task
from genoarmory.errors import UserError
from genoarmory.testing import read_json_records


def write(path: Path, text: str, newline: str = "\n", bom: bool = False) -> Path:
    path.write_bytes((("\ufeff" if bom else "") + text.replace("\n", newline)).encode())
    return path


def test_header_labels_multi_line_records_soft_masking_crlf_and_bom(tmp_path):
    fasta = write(tmp_path / "a.fa", ">s1 label=1 chr1:1-14\nACGTacgtAC\nACGT\n\n>s2|label=0\nGGCC\n",
                  newline="\r\n", bom=True)
    task = load_fasta_task("fasta", str(fasta))
    assert task.num_labels == 2 and list(task.splits) == ["test"]
    (s1, s2) = task.split("test")
    assert (s1.id, s1.sequence, s1.label, s1.meta) == ("test:s1", "ACGTACGTACACGT", 1, {"source": str(fasta), "line": 1})
    assert (s2.id, s2.sequence, s2.label, s2.meta["line"]) == ("test:s2", "GGCC", 0, 5)


def test_labels_from_a_csv_keyed_by_record_id(tmp_path):
    fasta = write(tmp_path / "a.fa", ">s1 some description\nACGT\n>s2\nGGCC\n>s3 label=2\nTTTT\n")
    labels = write(tmp_path / "labels.csv", "id,label\ns3,2\ns1,0\ns2,1\nother,1\n")
    task = load_fasta_task("fasta", str(fasta), str(labels))
    assert [(e.id, e.label) for e in task.split("test")] == [("test:s1", 0), ("test:s2", 1), ("test:s3", 2)]
    assert task.num_labels == 3


def test_train_and_dev_files_become_splits(tmp_path):
    test = write(tmp_path / "test.fa", ">t1 label=0\nACGT\n")
    train = write(tmp_path / "train.fa", ">r1 label=1\nACGT\n>r2 label=0\nGGGG\n")
    task = load_fasta_task("fasta", str(test), train_path=str(train))
    assert sorted(task.splits) == ["test", "train"] and len(task.split("train")) == 2


@pytest.mark.parametrize("text, labels, where, message", [
    (">s1 label=0\nACGT\nACNT\n", None, 3, "ambiguous base 'N' at position 7"),
    (">s1 label=0\nACGT\n>s2 label=1\nAC\nGT\nA*GT\n", None, 6, "character '*' at position 6 is not DNA"),
    (">s1 label=0\nACGT\n>s2\nACGT\n", None, 3, "no label: add `label=K`"),
    (">s1 label=0\nACGT\n>s1 label=1\nACGT\n", None, 3, "record id 's1' repeated (first at line 1)"),
    (">s1 label=0\n\n>s2 label=1\nACGT\n", None, 1, "empty sequence"),
    (">s1 label=x\nACGT\n", None, 1, "label 'x' is not an integer"),
    (">s1 label=0 label=1\nACGT\n", None, 1, "conflicting labels"),
    ("\nsome notes\n>s1 label=0\nACGT\n", None, 2, "expected a '>' header line first"),
    (">\nACGT\n", None, 1, "header without an id"),
    (">s1\nACGT\n>s2\nACGT\n", "id,label\ns1,0\n", 3, "record 's2' has no label in the labels file"),
    (">s1 label=1\nACGT\n", "id,label\ns1,0\n", 1, "header says label=1 but"),
])
def test_errors_name_file_and_line(tmp_path, text, labels, where, message):
    fasta = write(tmp_path / "a.fa", text)
    table = str(write(tmp_path / "labels.csv", labels)) if labels else None
    with pytest.raises(UserError) as err:
        load_fasta_task("fasta", str(fasta), table)
    assert err.value.where == f"{fasta}:{where}" and message in err.value.message


@pytest.mark.parametrize("text, where, message", [
    ("name,label\ns1,0\n", 1, "no `id` column"),
    ("id,label\ns1,0\ns1,1\n", 3, "id 's1' labelled twice"),
    ("id,label\ns1,5\n", 2, "label 5 out of range (0..1)"),
])
def test_label_file_errors_name_file_and_line(tmp_path, text, where, message):
    fasta = write(tmp_path / "a.fa", ">s1\nACGT\n")
    labels = write(tmp_path / "labels.csv", text)
    with pytest.raises(UserError) as err:
        load_fasta_task("fasta", str(fasta), str(labels), num_labels=2)
    assert err.value.where == f"{labels}:{where}" and message in err.value.message


def test_policies_skip_and_replace(tmp_path):
    fasta = write(tmp_path / "a.fa", ">s1 label=0\nACGT\n>s2 label=1\nACNNGT\n")
    assert [e.id for e in load_fasta_task("fasta", str(fasta), policy="skip").split("test")] == ["test:s1"]
    replaced = load_fasta_task("fasta", str(fasta), policy="replace").split("test")[1].sequence
    assert len(replaced) == 6 and set(replaced) <= set("ACGT") and replaced[:2] + replaced[4:] == "ACGT"


def test_missing_path_and_missing_file_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="needs dataset.path=FILE"):
        load_task(compose(["dataset=fasta"]))
    with pytest.raises(UserError, match="FASTA file not found"):
        load_fasta_task("fasta", str(tmp_path / "absent.fa"))


def test_the_config_passes_everything_through_and_selection_applies(tmp_path):
    fasta = write(tmp_path / "a.fa", "".join(f">r{i} label={i % 2}\nACGTACGT\n" for i in range(10)))
    cfg = compose(["dataset=fasta", f"dataset.path={fasta}", "dataset.limit=4", "dataset.shard=1/2"])
    examples = evaluation_examples(cfg, load_task(cfg))
    assert len(examples) == 2 and all(e.id.startswith("test:r") for e in examples)


def test_attack_on_a_fasta_file_end_to_end(tmp_path, quick_tiny_model):
    fasta = write(tmp_path / "a.fa", "".join(f">seq{i} label={i % 2}\n{'ACGTTGCA' * 5}\n{'GATC' * 5}\n"
                                             for i in range(4)))
    run_dir = tmp_path / "run"
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert run_cli("attack", "model=tiny-6mer", f"model.path={quick_tiny_model / 'model'}", "attack=random",
                       "dataset=fasta", f"dataset.path={fasta}", "progress=false", f"run_dir={run_dir}") == 0
    finally:
        torch.set_num_threads(before)
    records = read_json_records(run_dir / "records.jsonl")
    assert [r["id"] for r in records] == [f"test:seq{i}" for i in range(4)]
    assert all(len(r["sequence"]) == 60 for r in records)
