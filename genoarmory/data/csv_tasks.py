"""GUE-format folders: train.csv / dev.csv / test.csv with header `sequence,label`, any number of classes."""

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
) -> list[Example]:
    """Read one split; every problem is a UserError naming file and line (1-based, header = line 1)."""
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
    loaded = {s: read_labelled_csv(folder / f"{s}.csv", s, policy, num_labels, max_length)
              for s in splits if (folder / f"{s}.csv").exists() or s != "dev"}
    seen = 1 + max(e.label for ex in loaded.values() for e in ex)
    return Task(name, num_labels or max(seen, 2), loaded, {"folder": str(folder)})
