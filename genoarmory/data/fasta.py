"""FASTA input: `dataset=fasta dataset.path=FILE [dataset.labels=CSV]`, for data that is not in CSV.

Records are parsed by Biopython's SeqIO ("fasta"); a small line index beside it lets every error name
the file and the line it is on (the header line, or the line holding the offending base).

Labels, one of two sources:
- `dataset.labels=null` (default): a `label=K` token in each header, e.g. `>chr1:100-200 label=1`
  (tokens are separated by whitespace, `|` or `;`).
- `dataset.labels=FILE`: a CSV with header `id,label`; `id` is the FASTA record id (the header's first
  word, less a `|label=K` part). Ids in the CSV that no FASTA file uses are ignored (one CSV may label
  train and test). A header that also carries `label=` must agree with the CSV: two sources that
  disagree are a mistake.
`dataset.path` is the test split; `dataset.train_path` / `dataset.dev_path` add train and dev (for `train`).
Example ids are `<split>:<record id>`; record ids must be unique within a file.
"""

from __future__ import annotations

import csv
import io
import random
import re
from pathlib import Path

from genoarmory.data.csv_tasks import _parse_label
from genoarmory.data.example import Example, Task
from genoarmory.data.text_files import data_rows, read_header, read_text
from genoarmory.errors import UserError, located
from genoarmory.sequence import AMBIGUOUS, BASES, SkipSequence, normalize

_TOKEN = re.compile(r"[\s|;]+")
_REMOVED = str.maketrans("", "", " \t\r\n")  # what SeqIO's fasta parser deletes from sequence lines



def _records(path: Path, text: str):
    """Per record: (SeqRecord, header line number, [(line number, offset of its first base)])."""
    from Bio import SeqIO

    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise UserError("empty file: no FASTA records", str(path))
    if not lines[first].startswith(">"):
        raise UserError("expected a '>' header line first (is this a FASTA file?)", located(path, first + 1))
    headers = [i for i in range(first, len(lines)) if lines[i].startswith(">")]
    for i in range(first, len(lines)):
        bad = next((c for c in lines[i] if ord(c) > 127), None)
        if bad is not None and i not in headers:
            raise UserError(f"character {bad!r} is not DNA (A, C, G, T or IUPAC)", located(path, i + 1))
    parsed = list(SeqIO.parse(io.StringIO("\n".join(lines[first:])), "fasta"))
    if len(parsed) != len(headers):  # the index and SeqIO must see the same records
        raise RuntimeError(f"{path}: SeqIO found {len(parsed)} records, the line index {len(headers)}")
    for k, (record, h) in enumerate(zip(parsed, headers)):
        end = headers[k + 1] if k + 1 < len(headers) else len(lines)
        offsets, pos = [], 0
        for i in range(h + 1, end):
            offsets.append((i + 1, pos))
            pos += len(lines[i].translate(_REMOVED))
        yield record, h + 1, offsets


def _bad_line(sequence: str, policy: str, header_line: int, offsets) -> int:
    """The line of the first base `normalize` would complain about under `policy` (else the header)."""
    allowed = set(BASES) if policy == "error" else set(BASES) | AMBIGUOUS
    j = next((i for i, c in enumerate(sequence.upper()) if c not in allowed), None)
    if j is None:
        return header_line
    return max((line for line, start in offsets if start <= j), default=header_line)


def record_id(record) -> str:
    """The header's first word (SeqIO's id) less a `label=K` part: `>s2|label=0` is record s2."""
    return re.sub(r"(^|[|;])label=[^|;]*", "", record.id, flags=re.IGNORECASE).strip("|;")


def header_label(description: str, num_labels: int | None, where: str) -> int | None:
    values = {t[len("label="):] for t in _TOKEN.split(description) if t.lower().startswith("label=")}
    if len(values) > 1:
        raise UserError(f"header has conflicting labels {sorted(values)}", where)
    return _parse_label(values.pop(), num_labels, where) if values else None


def read_label_csv(path: Path, num_labels: int | None) -> dict[str, tuple[int, str]]:
    """id -> (label, 'file:line') from a CSV with header `id,label`."""
    rows = csv.reader(read_text(path, "labels file").split("\n"))
    header = read_header(rows, path, ("id", "label"))
    i_id, i_lab = header.index("id"), header.index("label")
    labels: dict[str, tuple[int, str]] = {}
    for row, where, _line in data_rows(rows, header, path):
        key = row[i_id].strip()
        if key in labels:
            raise UserError(f"id {key!r} labelled twice (first at {labels[key][1]})", where)
        labels[key] = (_parse_label(row[i_lab], num_labels, where), where)
    return labels


def read_fasta(path: Path, split: str, policy: str = "error", labels: dict | None = None,
               num_labels: int | None = None) -> list[Example]:
    """One FASTA file -> Examples; every problem is a UserError naming file and line."""
    path = Path(path)
    text = read_text(path, "FASTA file")
    rng = random.Random(f"{path}:{policy}")  # 'replace' policy: reproducible per file
    examples, seen = [], {}
    for record, line, offsets in _records(path, text):
        where = located(path, line)
        rid = record_id(record)
        if not rid:
            raise UserError("header without an id", where)
        if rid in seen:
            raise UserError(f"record id {rid!r} repeated (first at line {seen[rid]})", where)
        seen[rid] = line
        label = header_label(record.description, num_labels, where)
        if labels is not None:
            if rid not in labels:
                raise UserError(f"record {rid!r} has no label in the labels file", where)
            listed, listed_where = labels[rid]
            if label is not None and label != listed:
                raise UserError(f"header says label={label} but {listed_where} says {listed}", where)
            label = listed
        if label is None:
            raise UserError("no label: add `label=K` to the header or give dataset.labels=FILE (id,label)", where)
        sequence = str(record.seq)
        try:
            sequence = normalize(sequence, policy, located(path, _bad_line(sequence, policy, line, offsets)), rng)
        except SkipSequence:
            continue
        examples.append(Example(f"{split}:{rid}", sequence, label, {"source": str(path), "line": line}))
    if not examples:
        raise UserError("no usable records in file", str(path))
    return examples


def load_fasta_task(name: str, path: str | None, labels: str | None = None, num_labels: int | None = None,
                    train_path: str | None = None, dev_path: str | None = None,
                    policy: str = "error") -> Task:
    """The Task for `dataset=fasta`: `path` is the test split; train/dev are optional."""
    if not path:
        raise UserError("dataset=fasta needs dataset.path=FILE (a FASTA file)")
    table = read_label_csv(Path(labels), num_labels) if labels else None
    files = {"train": train_path, "dev": dev_path, "test": path}
    splits = {split: read_fasta(Path(f), split, policy, table, num_labels) for split, f in files.items() if f}
    seen = 1 + max(e.label for examples in splits.values() for e in examples)
    return Task(name, num_labels or max(seen, 2), splits, {"source": {s: str(f) for s, f in files.items() if f}})
