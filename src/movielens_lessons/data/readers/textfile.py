"""Delimited text files: a fast pyarrow path, and small files read line by line.

Every MovieLens file is read with its target column types in one pyarrow pass. When that pass fails (a
letter in an id column, a line with too few fields), the slow scan of
:mod:`movielens_lessons.data.readers.line_scan` finds the first offending line and column and raises a
:class:`DataValidationError` naming them. Small files with their own layout (``u.item``, ``movies.dat``)
are read as text lines with :func:`text_lines`.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from movielens_lessons.data.readers.line_scan import diagnose
from movielens_lessons.errors import (
    DataNotFoundError,
    DataQualityWarning,
    DataValidationError,
    EmptyDataError,
)

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
        bad_line = data.count(b"\n", 0, exc.start) + 1
        warnings.warn(
            f"{path}, line {bad_line}: not valid {encoding}; read the file as latin-1",
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
