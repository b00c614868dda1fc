"""The slow path of reading a text file: a line-by-line scan that names the line at fault.

It runs only after the fast pyarrow read in :mod:`movielens_lessons.data.readers.textfile` failed
(:func:`diagnose`: the first bad line and column), or after a later check found a bad row
(:class:`LineLocator`: the line that row came from). Line numbers are as in the file: the first line is
1 (the header, where there is one); empty lines count towards line numbers but never towards records,
and a quoted record spanning lines is numbered by the line it starts on.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa

from movielens_lessons.errors import DataValidationError

#: The strings pyarrow reads as null in numeric columns (its defaults); the slow scan treats them alike.
NULL_STRINGS = frozenset(
    [
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "n/a",
        "nan",
        "null",
    ]
)
_INT = re.compile(r"[+-]?\d+")


def iter_records(
    path: Path, *, delimiter: str, quoted: bool, encoding: str, header: bool
) -> Iterator[tuple[int, list[str]]]:
    """``(line number, fields)`` of each data record, streaming (the slow path: diagnostics only)."""
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        records: Iterator[tuple[int, list[str]]]
        if quoted:
            records = (
                (start, rec)
                for start, rec in _with_start(csv.reader(f, delimiter=delimiter))
                if rec
            )
        else:
            records = (
                (n, line.rstrip("\r\n").split(delimiter))
                for n, line in enumerate(f, 1)
                if line.strip("\r\n")
            )
        skip = header
        for item in records:
            if skip:
                skip = False
                continue
            yield item


def _with_start(reader) -> Iterator[tuple[int, list[str]]]:
    """csv records with the line each starts on (a quoted value may span lines)."""
    prev = 0
    for rec in reader:
        yield prev + 1, rec
        prev = reader.line_num


class LineLocator:
    """Maps a 0-based data row (as the fast reader numbered it) to its 1-based line in the file."""

    def __init__(
        self, path: Path, *, delimiter: str, quoted: bool, encoding: str = "utf-8", header: bool
    ) -> None:
        self.path, self.delimiter, self.quoted = path, delimiter, quoted
        self.encoding, self.header = encoding, header

    def __call__(self, row: int) -> int | None:
        records = iter_records(
            self.path,
            delimiter=self.delimiter,
            quoted=self.quoted,
            encoding=self.encoding,
            header=self.header,
        )
        for i, (line, _) in enumerate(records):
            if i == row:
                return line
        return None


def _check_field(text: str, kind: pa.DataType) -> str | None:
    """Why ``text`` cannot become a value of ``kind`` (None if it can, nulls included)."""
    if pa.types.is_null(kind):
        return None if text == "" else "expected nothing between the separators"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or text.strip() in NULL_STRINGS:
        return None
    if pa.types.is_integer(kind):
        if not _INT.fullmatch(text.strip()):
            return "is not an integer"
        value = int(text)
        info = (-(2 ** (kind.bit_width - 1)), 2 ** (kind.bit_width - 1) - 1)
        if not info[0] <= value <= info[1]:
            return f"is outside the {kind} range {info[0]}..{info[1]}"
        return None
    if pa.types.is_floating(kind):
        try:
            number = float(text)
        except ValueError:
            return "is not a number"
        return None if math.isfinite(number) else "is not a finite number"
    return None


def diagnose(
    path: Path,
    *,
    names: list[str],
    types: Mapping[str, pa.DataType],
    delimiter: str,
    quoted: bool,
    encoding: str,
    header: bool,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Scan the file and raise a :class:`DataValidationError` at the first bad line; return if none."""
    shown = {n: n for n in names} | dict(labels or {})
    sep = "TAB" if delimiter == "\t" else repr(delimiter)
    for line, fields in iter_records(
        path, delimiter=delimiter, quoted=quoted, encoding=encoding, header=header
    ):
        if len(fields) != len(names):
            raise DataValidationError(
                f"expected {len(names)} fields separated by {sep}, found {len(fields)}",
                path=path,
                line=line,
                value=delimiter.join(fields),
            )
        for name, text in zip(names, fields, strict=True):
            kind = types.get(name)
            why = None if kind is None else _check_field(text, kind)
            if why:
                raise DataValidationError(
                    f"value {text!r} {why}", path=path, line=line, column=shown[name], value=text
                )
