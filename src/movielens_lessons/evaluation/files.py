"""Reading recommendation (``userId,movieId,rank[,score]``) and prediction files, validated.

Each problem is one :class:`~movielens_lessons.errors.DataValidationError` naming the file, line and
column: missing columns, non-integer ids or ranks, ranks < 1, a user with two items at the same rank, or
the same item twice in one user's list. Reading uses the same fast pyarrow path (and slow re-scan for the
message) as the MovieLens readers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from movielens_lessons import columns as C
from movielens_lessons.errors import DataValidationError, EmptyDataError, MissingColumnError


def _read(path: str | Path, required: dict, optional: dict) -> pd.DataFrame:
    from movielens_lessons.data.readers.textfile import check_file, read_delimited, read_header

    p = check_file(path)
    names = read_header(p)
    for col in required:
        if col not in names:
            raise MissingColumnError(
                f"missing column {col!r}; found columns {names}; expected "
                f"{', '.join([*required, *(f'[{c}]' for c in optional)])}", path=p, column=col,
            )
    types = {**required, **{c: t for c, t in optional.items() if c in names}}
    df = read_delimited(p, names=names, types=types).to_pandas()
    if len(df) == 0:
        raise EmptyDataError("no data rows", path=p)
    for col, kind in types.items():
        missing = df[col].isna().to_numpy()
        if pa.types.is_integer(kind) and missing.any():
            row = int(np.flatnonzero(missing)[0])
            raise DataValidationError(
                "empty value; expected an integer", path=p, line=_line(p, row), column=col
            )
    return df


def _line(path: Path, row: int) -> int | None:
    from movielens_lessons.data.readers.line_scan import LineLocator

    return LineLocator(path, delimiter=",", quoted=True, header=True)(row)


def read_recommendations_csv(path: str | Path) -> pd.DataFrame:
    """``userId, movieId, rank[, score]`` with integer ids, ranks ≥ 1 and one item per (user, rank)."""
    df = _read(path, {C.USER: pa.int64(), C.ITEM: pa.int64(), C.RANK: pa.int64()},
               {C.SCORE: pa.float64()})
    p = Path(path)
    rank = df[C.RANK].to_numpy()
    if (rank < 1).any():
        row = int(np.flatnonzero(rank < 1)[0])
        raise DataValidationError(f"rank {rank[row]} is below 1; ranks start at 1", path=p,
                                  line=_line(p, row), column=C.RANK, value=int(rank[row]))
    for cols, what in (([C.USER, C.RANK], "rank"), ([C.USER, C.ITEM], "movieId")):
        dup = df.duplicated(cols, keep="first").to_numpy()
        if dup.any():
            row = int(np.flatnonzero(dup)[0])
            user, value = int(df[C.USER].iloc[row]), df[cols[1]].iloc[row]
            msg = (f"userId {user} has two items at rank {value}; one item per (userId, rank)"
                   if what == "rank" else
                   f"userId {user} is recommended movieId {value} twice; once per user")
            raise DataValidationError(msg, path=p, line=_line(p, row), column=cols[1], value=value)
    return df


def read_predictions_csv(path: str | Path) -> pd.DataFrame:
    """``userId, movieId, prediction`` with integer ids and numeric predictions (empty = no prediction)."""
    return _read(path, {C.USER: pa.int64(), C.ITEM: pa.int64(), C.PREDICTION: pa.float64()}, {})


def union_ids(*arrays: np.ndarray) -> np.ndarray:
    """Sorted distinct ids over all arrays: the shared id map of a train and a test file.

    Non-negative integer ids of moderate size are counted (O(n)), not hashed or sorted.
    """
    arrays = tuple(np.asarray(a) for a in arrays if len(a))
    if not arrays:
        return np.empty(0, dtype=np.int64)
    if all(np.issubdtype(a.dtype, np.integer) for a in arrays):
        lo = min(int(a.min()) for a in arrays)
        hi = max(int(a.max()) for a in arrays)
        if lo >= 0 and hi <= 4 * sum(len(a) for a in arrays) + 2**20:
            seen = np.zeros(hi + 1, dtype=bool)
            for a in arrays:
                seen[a] = True
            return np.flatnonzero(seen).astype(np.result_type(*arrays))
    return np.unique(np.concatenate(arrays))
