"""`sequence,label` CSV: GUE-format folders (train.csv / dev.csv / test.csv) and a user's own file or folder
(`dataset=csv dataset.path=FILE_OR_DIR`), any number of classes.

Sequences a policy skips (sequence.policy=skip; GUE's published N bases, data/gue.py) are counted per
split in `Task.info["skipped"]`, which the run's summary reports.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from genoarmory.data.example import Example, Task
from genoarmory.data.text_files import data_rows, read_header, read_text
from genoarmory.errors import UserError
from genoarmory.sequence import SkipSequence, normalize

SPLITS = ("train", "dev", "test")


def read_labelled_csv(
    path: Path,
    split: str,
    policy: str = "error",
    num_labels: int | None = None,
    max_length: int | None = None,
    skipped: dict | None = None,
) -> list[Example]:
    """Read one split; every problem is a UserError naming file and line (1-based, header = line 1).
    `skipped`, when given, gets {split: number of sequences the policy skipped}."""
    path = Path(path)
    rows = csv.reader(read_text(path, "file").split("\n"))
    header = read_header(rows, path, ("sequence", "label"))
    i_seq, i_lab = header.index("sequence"), header.index("label")
    rng = random.Random(f"{path}:{policy}")  # 'replace' policy: reproducible per file
    examples: list[Example] = []
    for row, where, line in data_rows(rows, header, path):
        label = _parse_label(row[i_lab], num_labels, where)
        try:
            seq = normalize(row[i_seq], policy, where, rng)
        except SkipSequence:
            if skipped is not None:
                skipped[split] = skipped.get(split, 0) + 1
            continue
        if max_length is not None and len(seq) > max_length:
            raise UserError(f"sequence of {len(seq)} nt exceeds the maximum of {max_length}", where)
        examples.append(Example(f"{split}:{line}", seq, label, {"source": str(path), "line": line}))
    if not examples:
        raise UserError("no examples in file", str(path))
    return examples


def _parse_label(text: str, num_labels: int | None, where: str) -> int:
    try:
        label = int(text.strip())
    except ValueError:
        raise UserError(f"label {text.strip()!r} is not an integer", where) from None
    if label < 0 or (num_labels is not None and label >= num_labels):
        bound = f"0..{num_labels - 1}" if num_labels is not None else ">= 0"
        raise UserError(f"label {label} out of range ({bound})", where)
    return label


def load_csv_task(name: str, folder: Path, num_labels: int | None, policy: str = "error",
                  max_length: int | None = None, splits=SPLITS) -> Task:
    """A GUE-format task. `num_labels=None` infers it from the labels seen (max + 1)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(
            "task folder not found; set data_root= to the folder holding GUE "
            "(or run `python -m genoarmory download gue`)",
            str(folder),
        )
    from genoarmory.data.example import LazySplits

    skipped: dict[str, int] = {}  # filled as splits are read
    present = [s for s in splits if (folder / f"{s}.csv").exists() or s != "dev"]
    # each split is read on first use: an attack on GUE's test split never parses its 30k-row train.csv
    loaded = LazySplits({s: (lambda s=s: read_labelled_csv(folder / f"{s}.csv", s, policy, num_labels, max_length,
                                                           skipped)) for s in present})
    if num_labels is None:
        num_labels = max(2, 1 + max(e.label for s in present for e in loaded[s]))
    return Task(name, num_labels, loaded, {"folder": str(folder), "skipped": skipped})


def _has_rows(path: Path) -> bool:
    """Whether a split file holds anything beyond a header (an empty or header-only train.csv is no split)."""
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip()) > 1


def load_user_csv(path: str | None, name: str = "csv", num_labels: int | None = None, policy: str = "error",
                  split: str = "test") -> Task:
    """Your own `sequence,label` CSV: one file (its examples are split `split`, the one `attack` reads by
    default) or a folder of train.csv / dev.csv / test.csv, any of which may be missing or empty. Each split
    is read when a command first asks for it, so an attack reads only the split it attacks (with
    `num_labels` given; inferring it reads every split)."""
    from genoarmory.data.example import LazySplits

    if path in (None, "", "None"):
        raise UserError("dataset=csv needs dataset.path=FILE.csv or a folder holding train/dev/test.csv")
    root = Path(str(path)).expanduser()
    if root.is_file():
        files = {split: root}
    elif root.is_dir():
        files = {s: root / f"{s}.csv" for s in SPLITS if (root / f"{s}.csv").is_file() and _has_rows(root / f"{s}.csv")}
        if not files:
            raise UserError("no train.csv, dev.csv or test.csv with rows in this folder (header `sequence,label`)",
                            str(root))
    else:
        raise UserError("dataset.path not found (a CSV file, or a folder of train/dev/test.csv)", str(root))
    skipped: dict[str, int] = {}
    task = Task(name, 2, LazySplits({s: (lambda s=s, f=f: read_labelled_csv(f, s, policy, num_labels, None, skipped))
                                     for s, f in files.items()}),
                {"path": str(root), "skipped": skipped})
    if num_labels is None:
        seen = 1 + max(e.label for s in files for e in task.splits[s])
        num_labels = max(seen, 2)
    task.num_labels = int(num_labels)
    return task
