"""Reading the text files users hand us (CSV, FASTA, label tables): one decoding policy, one header check."""

from __future__ import annotations

import csv
from pathlib import Path

from genoarmory.errors import UserError, located

csv.field_size_limit(2**31 - 1)  # genomic sequences exceed the csv module's default 131,072-character field


def read_text(path: Path, what: str) -> str:
    """A text file as str: UTF-8 (a BOM is dropped), CR/CRLF line ends made LF, binary data refused."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found", str(path))
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UserError(f"not UTF-8 text ({err.reason} at byte {err.start})", str(path)) from None
    except OSError as err:
        raise UserError(f"cannot read {what} ({err.strerror})", str(path)) from None
    if "\x00" in text:
        raise UserError("binary data (NUL byte), not a text file", str(path))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_header(rows, path: Path, required: tuple[str, ...]) -> list[str]:
    """The header row of a csv.reader (lower-cased), holding every required column, or a UserError at line 1."""
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise UserError(f"empty file: expected a header `{','.join(required)}`", str(path)) from None
    except csv.Error as err:
        raise UserError(f"malformed CSV: {err}", located(path, 1)) from None
    if not any(header):
        raise UserError(f"empty file: expected a header `{','.join(required)}`", str(path))
    for column in required:
        if column not in header:
            raise UserError(f"no `{column}` column (header is {','.join(header)!r})", located(path, 1))
    return header


def data_rows(rows, header: list[str], path: Path):
    """(row, 'file:line', line) for each non-blank data row with as many fields as the header;
    a csv.Error or a wrong field count becomes a UserError naming the line."""
    line = 1
    try:
        for line, row in enumerate(rows, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            where = located(path, line)
            if len(row) != len(header):
                raise UserError(f"expected {len(header)} fields, found {len(row)}", where)
            yield row, where, line
    except csv.Error as err:
        raise UserError(f"malformed CSV: {err}", located(path, line)) from None
