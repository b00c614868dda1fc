"""Checking a ratings frame against the canonical schema, with errors that name the line at fault.

The canonical ratings schema is ``userId`` int32, ``movieId`` int32, ``rating`` float32, ``timestamp``
int64 (seconds since the epoch, UTC). Duplicate (user, movie) pairs are *not* handled here:
:meth:`Dataset.from_frame` resolves them by one documented policy and reports the count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.errors import DataValidationError, EmptyDataError, MissingColumnError

#: Maps a 0-based row of the frame to its 1-based line in the source file (None: unknown).
LineOf = Callable[[int], "int | None"]


def after_header(row: int) -> int:
    """Line of a row in a file with one header line and no empty lines: row 0 is on line 2."""
    return row + 2


def validate_ratings(
    df: pd.DataFrame,
    *,
    source: str | Path | None,
    scale: tuple[float, float] | None = None,
    required: Sequence[str] = C.RATINGS_COLUMNS,
    line_of: LineOf | None = after_header,
    labels: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Check ``df`` and return it in the canonical dtypes (columns ``userId, movieId[, rating][, timestamp]``).

    ``source`` names the file in messages; ``scale`` is the allowed ``(min, max)`` rating (inclusive);
    ``required`` the columns that must be there (``userId``/``movieId`` always are). ``line_of`` maps a
    row to its line in the file (default: a CSV with a header line); ``None`` reports 1-based rows instead
    (Parquet). ``labels`` gives the file's own name of each canonical column, for messages.
    Raises :class:`MissingColumnError`, :class:`EmptyDataError` or :class:`DataValidationError`.
    """
    shown = {c: c for c in C.RATINGS_COLUMNS} | dict(labels or {})
    needed = [C.USER, C.ITEM, *[c for c in required if c not in (C.USER, C.ITEM)]]
    for col in needed:
        if col not in df.columns:
            found = [str(c) for c in df.columns]
            raise MissingColumnError(
                f"missing column {shown[col]!r}; found columns {found}",
                path=source,
                column=shown[col],
            )
    if len(df) == 0:
        raise EmptyDataError(
            f"no data rows; expected rows of {', '.join(shown[c] for c in needed)}", path=source
        )

    def fail(message: str, row: int, col: str, value: object) -> DataValidationError:
        line = None if line_of is None else line_of(row)
        if line is None:
            message = f"row {row + 1}: {message}"
        return DataValidationError(message, path=source, line=line, column=shown[col], value=value)

    out: dict[str, np.ndarray] = {}
    for col in (C.USER, C.ITEM):
        out[col] = _integers(df[col], col, "ids", np.int32, fail)
    if C.RATING in df.columns:
        out[C.RATING] = _ratings(df[C.RATING], scale, fail)
    if C.TIMESTAMP in df.columns:
        what = "timestamps (seconds since 1970, UTC)"
        out[C.TIMESTAMP] = _integers(df[C.TIMESTAMP], C.TIMESTAMP, what, np.int64, fail)
    # Own copies (never views of ``df``), placed without pandas' block consolidation, which would
    # copy every column once more (a second per 10 million rows).
    return pd.DataFrame({c: np.array(a, copy=True) for c, a in out.items()}, copy=False)


def _integers(s: pd.Series, col: str, what: str, dtype: type[np.integer], fail) -> np.ndarray:
    """Values of ``s`` as ``dtype``, raising at the first missing, non-integer or out-of-range one."""
    if s.dtype == dtype:  # the fast readers' output: nothing to check
        return s.to_numpy()
    if pd.api.types.is_integer_dtype(s.dtype) and not s.hasnans:
        values = s.to_numpy(np.int64)
    else:
        # Strings, floats (ints with nulls come back as float) or objects: coerce, then look for
        # whatever did not survive as a whole number.
        num = pd.to_numeric(s, errors="coerce")
        arr = num.to_numpy(np.float64, na_value=np.nan)
        ok = np.isfinite(arr) & (arr == np.floor(arr))
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raw = _plain(s.iloc[row])
            if _is_missing(raw):
                raise fail(f"missing value (empty or NaN); {what} must be integers", row, col, raw)
            raise fail(f"value {raw!r} is not an integer; {what} must be integers", row, col, raw)
        values = (
            num.to_numpy(np.int64)
            if pd.api.types.is_integer_dtype(num.dtype)
            else (arr.astype(np.int64))
        )
    lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    bad = (values < lo) | (values > hi)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        value = int(values[row])
        raise fail(f"value {value} is out of range; allowed {lo}..{hi}", row, col, value)
    return values.astype(dtype, copy=False)


def _ratings(s: pd.Series, scale: tuple[float, float] | None, fail) -> np.ndarray:
    """Ratings as float32, raising at the first missing, non-numeric or out-of-scale one."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        arr = s.to_numpy(np.float64, na_value=np.nan)
    else:
        arr = pd.to_numeric(s, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    finite = np.isfinite(arr)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raw = _plain(s.iloc[row])
        if _is_missing(raw):
            raise fail("missing rating (empty or NaN); ratings must be numbers", row, C.RATING, raw)
        raise fail(f"value {raw!r} is not a finite number", row, C.RATING, raw)
    if scale is not None:
        lo, hi = scale
        bad = (arr < lo) | (arr > hi)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise fail(
                f"rating {float(arr[row])} is outside the allowed range {float(lo)} to {float(hi)}",
                row,
                C.RATING,
                float(arr[row]),
            )
    return arr.astype(np.float32)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (so that messages show ``2.5``, not ``np.float64``)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""
