"""GUE-format loading: the real splits in ../shared and every malformed-CSV error."""

from pathlib import Path

import pytest

from genoarmory.data.csv_tasks import load_csv_task, read_labelled_csv
from genoarmory.data.gue import load_gue
from genoarmory.data.select import select_examples
from genoarmory.errors import UserError


def gue_folders(shared: Path):
    root = shared / "data" / "gue"
    return sorted(p.parent.relative_to(root) for p in root.glob("*/*/test.csv"))


def test_every_real_gue_folder_loads(shared_dir):
    folders = gue_folders(shared_dir)
    assert len(folders) >= 13
    for rel in folders:
        task = load_gue(str(rel), 2, shared_dir / "data" / "gue")
        assert set(task.splits) == {"train", "dev", "test"}
        test = task.split("test")
        assert {e.label for e in test} == {0, 1}
        assert all(set(e.sequence) <= set("ACGT") for e in test)
        first = test[0]
        assert first.id == "test:2" and first.meta["line"] == 2  # header is line 1


def test_gue_tf0_sizes_match_the_files(shared_dir):
    task = load_gue("tf/0", 2, shared_dir / "data" / "gue")
    csv = shared_dir / "data" / "gue" / "tf" / "0" / "test.csv"
    assert len(task.split("test")) == len(csv.read_text().splitlines()) - 1
    assert {len(e.sequence) for e in task.split("test")} == {101}


def write(tmp_path, text, name="test.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, message, line", [
    ("seq,label\nACGT,0\n", "no `sequence` column", 1),
    ("sequence,target\nACGT,0\n", "no `label` column", 1),
    ("sequence,label\nACGT,0\nACGT,2\n", "label 2 out of range", 3),
    ("sequence,label\nACGT,zero\n", "not an integer", 2),
    ("sequence,label\nACGT,0\n,1\n", "empty sequence", 3),
    ("sequence,label\nACGT,0\nACNT,1\n", "ambiguous base 'N'", 3),
    ("sequence,label\nACGT,0,7\n", "expected 2 fields, found 3", 2),
    ("", "empty file", None),
])
def test_bad_csv_errors_name_file_and_line(tmp_path, text, message, line):
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=message) as err:
        read_labelled_csv(path, "test", num_labels=2)
    where = f"{path}:{line}" if line else str(path)
    assert str(err.value).startswith(where)


def test_bom_crlf_and_lower_case_are_accepted(tmp_path):
    path = tmp_path / "test.csv"
    path.write_bytes("\ufeffsequence,label\r\nacgt,1\r\n".encode("utf-8"))
    (ex,) = read_labelled_csv(path, "test", num_labels=2)
    assert (ex.sequence, ex.label) == ("ACGT", 1)


def test_too_long_sequence(tmp_path):
    path = write(tmp_path, "sequence,label\nACGTACGT,0\n")
    with pytest.raises(UserError, match="exceeds the maximum of 4"):
        read_labelled_csv(path, "test", max_length=4)


def test_any_number_of_classes_is_inferred(tmp_path):
    for split in ("train", "test"):
        write(tmp_path, "sequence,label\nACGT,0\nACGA,8\nACGC,3\n", f"{split}.csv")
    task = load_csv_task("covid-like", tmp_path, None)
    assert task.num_labels == 9


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(UserError, match="data_root"):
        load_csv_task("x", tmp_path / "nope", 2)


def test_selection_is_seeded_and_shards_partition_it(tmp_path):
    write(tmp_path, "sequence,label\n" + "".join(f"{'ACGT' * (i % 5 + 1)},{i % 2}\n" for i in range(50)))
    examples = read_labelled_csv(tmp_path / "test.csv", "test")
    a = select_examples(examples, 20, seed=3)
    assert a == select_examples(examples, 20, seed=3) and a != select_examples(examples, 20, seed=4)
    shards = [select_examples(examples, 20, seed=3, shard=f"{i}/3") for i in range(3)]
    assert sorted(e.id for s in shards for e in s) == sorted(e.id for e in a)
    with pytest.raises(UserError, match="i/n"):
        select_examples(examples, 20, shard="2")
