"""Bring your own data: a ratings/interactions file in CSV (any separator) or Parquet.

The file's column names are mapped onto the canonical ones (``user_col`` → ``userId``, ...). Ids must be
integers (as in MovieLens); ``rating_col=None`` reads implicit feedback, ``timestamp_col=None`` data
without time. Timestamps are converted to int64 seconds since 1970 (UTC) from numbers in
``timestamp_unit`` (``"s"``, ``"ms"``, ``"us"``, ``"ns"``), from ISO-8601 text (``"iso"``) or from text in
a ``strftime`` format such as ``"%Y-%m-%d %H:%M"``; text without a zone is taken as UTC.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movielens_lessons import columns as C
from movielens_lessons.data.readers.line_scan import LineLocator
from movielens_lessons.data.readers.textfile import check_file, read_delimited, read_header
from movielens_lessons.data.readers.validate import LineOf, validate_ratings
from movielens_lessons.errors import ConfigError, DataValidationError, MissingColumnError

#: Seconds per unit, as a divisor of integer timestamps.
UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def is_parquet(path: Path) -> bool:
    """By suffix, or by Parquet's ``PAR1`` magic bytes for files named otherwise."""
    if path.suffix.lower() in PARQUET_SUFFIXES:
        return True
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def read_interactions(
    path: str | Path,
    *,
    user_col: str = C.USER,
    item_col: str = C.ITEM,
    rating_col: str | None = C.RATING,
    timestamp_col: str | None = C.TIMESTAMP,
    sep: str = ",",
    timestamp_unit: str = "s",
    scale: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """A user's CSV or Parquet file → canonical frame ``userId, movieId[, rating][, timestamp]``.

    ``sep`` is the CSV separator (``","``, ``"\\t"``, ``";"``, ``"::"``); it is ignored for Parquet.
    ``scale`` is the allowed ``(min, max)`` rating (default: any finite number).
    Errors name the file, line (or row, for Parquet), column and value at fault.
    """
    p = check_file(path)
    numeric_time = timestamp_unit in UNITS
    if (
        timestamp_col is not None
        and not numeric_time
        and timestamp_unit != "iso"
        and ("%" not in timestamp_unit)
    ):
        raise ConfigError(
            f"timestamp_unit {timestamp_unit!r} is not one of {', '.join(UNITS)}, 'iso', "
            "or a strftime format such as '%Y-%m-%d'"
        )
    mapping = {C.USER: user_col, C.ITEM: item_col}
    if rating_col is not None:
        mapping[C.RATING] = rating_col
    if timestamp_col is not None:
        mapping[C.TIMESTAMP] = timestamp_col
    if len(set(mapping.values())) != len(mapping):
        raise ConfigError(f"one file column is mapped to two roles: {mapping}")

    line_of: LineOf | None
    if is_parquet(p):
        found = pq.read_schema(p).names
        _require(mapping, found, p)
        df = pq.read_table(p, columns=list(mapping.values())).to_pandas()
        line_of = None  # Parquet has rows, not lines
    else:
        found = read_header(p, delimiter=sep)
        _require(mapping, found, p)
        types: dict[str, pa.DataType] = {user_col: pa.int64(), item_col: pa.int64()}
        if rating_col is not None:
            types[rating_col] = pa.float64()
        if timestamp_col is not None:
            types[timestamp_col] = pa.int64() if numeric_time else pa.string()
        labels = {v: v for v in mapping.values()}
        df = read_delimited(p, names=found, types=types, delimiter=sep, labels=labels).to_pandas()
        line_of = LineLocator(p, delimiter=sep, quoted=len(sep) == 1, header=True)

    df = df.rename(columns={v: k for k, v in mapping.items()})
    if C.TIMESTAMP in df.columns:
        df[C.TIMESTAMP] = _to_seconds(df[C.TIMESTAMP], timestamp_unit, p, line_of, timestamp_col)
    return validate_ratings(
        df,
        source=p,
        scale=scale,
        required=list(mapping),
        line_of=line_of,
        labels={k: v for k, v in mapping.items()},
    )


def _require(mapping: dict[str, str], found: list[str], path: Path) -> None:
    for role, col in mapping.items():
        if col not in found:
            raise MissingColumnError(
                f"missing column {col!r} (the {role} column); found columns {found}",
                path=path,
                column=col,
            )


def _to_seconds(
    s: pd.Series, unit: str, path: Path, line_of: LineOf | None, label: str | None
) -> pd.Series:
    """Timestamps as seconds since 1970 UTC; NaN where missing (validation reports those)."""
    if pd.api.types.is_datetime64_any_dtype(s.dtype):  # a Parquet timestamp column
        dt = pd.to_datetime(s, utc=True)
    elif unit in UNITS:
        if not pd.api.types.is_numeric_dtype(s.dtype):
            return s  # text in a numeric column: validation names the line and value
        if UNITS[unit] == 1:
            return s
        # Floor division, so that e.g. 1999 ms is second 1 (as the epoch-second of that instant).
        num = pd.to_numeric(s)
        return (num // UNITS[unit]).where(num.notna())
    else:
        text = s.astype("str").where(s.notna())
        fmt = "ISO8601" if unit == "iso" else unit
        dt = pd.to_datetime(text, format=fmt, utc=True, errors="coerce")
        bad = dt.isna() & text.notna() & (text.str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            line = None if line_of is None else line_of(row)
            value = text.iloc[row]
            where = "" if line is not None else f"row {row + 1}: "
            raise DataValidationError(
                f"{where}value {value!r} is not a date-time in format {fmt!r}",
                path=path,
                line=line,
                column=label,
                value=value,
            )
    seconds = (dt - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    return seconds.astype("Float64").astype(np.float64)
