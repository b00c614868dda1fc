"""Delimited text files: a fast pyarrow path, and a slow re-scan that only runs to explain a failure.

Every MovieLens file is read with its target column types in one pyarrow pass. When that pass fails (a
letter in an id column, a line with too few fields), the file is scanned again line by line, in Python, to
find the first offending line and column and raise a :class:`DataValidationError` naming them. Line numbers
are as in the file: the first line is 1 (the header, where there is one); empty lines are skipped by both
passes, so they count towards line numbers but never towards rows.
"""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from movielens_lessons.errors import (
    DataNotFoundError,
    DataQualityWarning,
    DataValidationError,
    EmptyDataError,
)

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
_UNIT_SEPARATOR = b"\x1f"  # ASCII "unit separator": never in MovieLens text, stands in for '::'


def check_file(path: str | Path) -> Path:
    """The path as a :class:`Path`, after checking it is a non-empty file."""
    p = Path(path)
    if not p.exists():
        raise DataNotFoundError(f"{p}: file not found")
    if not p.is_file():
        raise DataNotFoundError(f"{p}: not a file")
    if p.stat().st_size == 0:
        raise EmptyDataError("file is empty (0 bytes); expected data rows", path=p)
    return p


def read_header(path: Path, *, delimiter: str = ",", encoding: str = "utf-8") -> list[str]:
    """The field names on the first non-empty line of a file with a header."""
    with open(path, encoding=encoding, errors="replace", newline="") as f:
        for line in f:
            if line.strip("\r\n"):
                if len(delimiter) == 1:
                    return next(csv.reader([line], delimiter=delimiter))
                return line.rstrip("\r\n").split(delimiter)
    raise EmptyDataError("file has no header line", path=path)


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
            value = float(text)
        except ValueError:
            return "is not a number"
        return None if math.isfinite(value) else "is not a finite number"
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


def read_delimited(
    path: Path,
    *,
    names: list[str],
    types: Mapping[str, pa.DataType],
    delimiter: str = ",",
    quoted: bool = True,
    header: bool = True,
    encoding: str = "utf-8",
    newlines_in_values: bool = False,
    include: list[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> pa.Table:
    """Read a delimited file with the given column ``types`` in one fast pass.

    ``names`` are the file's columns in order (the header's when ``header``, which is then skipped);
    ``include`` selects columns (default: those in ``types``). ``delimiter`` may be ``'::'``.
    On a parse or conversion error, re-scans to raise an error naming the line and column.
    """
    include = list(include if include is not None else [n for n in names if n in types])
    source: str | io.BytesIO = str(path)
    read_names, read_types, sep = list(names), dict(types), delimiter
    seps: list[str] = []  # placeholder columns of the ':' trick, dropped after reading
    if len(delimiter) > 1:
        if delimiter == "::" and all(not _is_text(types.get(n)) for n in names):
            # Numeric '::' files (ratings.dat): split on ':' and demand an empty field between each
            # pair, typed null so that anything else there fails. No copy of the file is made.
            read_names, read_types = [], {}
            for i, n in enumerate(names):
                if i:
                    seps.append(f"_sep{i}")
                    read_names.append(seps[-1])
                    read_types[seps[-1]] = pa.null()
                read_names.append(n)
                if n in types:
                    read_types[n] = types[n]
            sep = ":"
            include = read_names
        else:
            data = path.read_bytes()
            if _UNIT_SEPARATOR in data:
                raise DataValidationError(
                    "contains the byte 0x1F, which this reader cannot handle", path=path
                )
            source = io.BytesIO(data.replace(delimiter.encode(encoding), _UNIT_SEPARATOR))
            sep = _UNIT_SEPARATOR.decode()
    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(
                column_names=read_names, skip_rows=1 if header else 0, encoding=encoding
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sep,
                quote_char='"' if quoted else False,
                double_quote=quoted,
                newlines_in_values=newlines_in_values,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=read_types,
                include_columns=include,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        diagnose(
            path,
            names=names,
            types=types,
            delimiter=delimiter,
            quoted=quoted,
            encoding=encoding,
            header=header,
            labels=labels,
        )
        # The scan found nothing the fast reader should have tripped on: report its own words.
        raise DataValidationError(
            f"could not be parsed: {str(exc).splitlines()[0]}", path=path
        ) from exc
    return table.drop_columns(seps) if seps else table


def _is_text(kind: pa.DataType | None) -> bool:
    return kind is None or pa.types.is_string(kind) or pa.types.is_large_string(kind)


def text_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each non-empty line of a small file, line ends stripped.

    Declared UTF-8 that does not decode falls back to Latin-1 (which decodes any byte) with a
    :class:`DataQualityWarning`: older MovieLens files are Latin-1, and a wrong guess garbles a few
    accented letters rather than losing the file.
    """
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        warnings.warn(
            f"{path}, line {line}: not valid {encoding}; read the file as latin-1",
            DataQualityWarning,
            stacklevel=3,
        )
        text = data.decode("latin-1")
    # Not str.splitlines(): it also breaks at U+0085 and U+001C..1E, which Latin-1 text can hold.
    for n, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if line:
            yield n, line


def field_int(text: str, path: Path, line: int, column: str) -> int:
    """``text`` as an int, or a :class:`DataValidationError` naming the file, line and column."""
    try:
        return int(text)
    except ValueError:
        raise DataValidationError(
            f"value {text!r} is not an integer", path=path, line=line, column=column, value=text
        ) from None
