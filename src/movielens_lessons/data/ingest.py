"""From a ratings frame to the arrays a :class:`~movielens_lessons.data.dataset.Dataset` holds.

A frame in the canonical schema (``userId, movieId[, rating][, timestamp]``) is checked for its id
columns, its external ids are mapped to internal ones through the id maps, its rows are put in the
``Dataset`` order (user, timestamp, item), and duplicate (user, item) pairs are resolved by one policy:
keep the latest interaction (largest timestamp; on equal timestamps, the last row), and report the
count with a :class:`~movielens_lessons.errors.DataQualityWarning`.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.indexing import (
    distinct_ids,
    interaction_order,
    later_duplicates,
    map_ids,
)
from movielens_lessons.errors import DataQualityWarning, DataValidationError, MissingColumnError


class IndexedInteractions(NamedTuple):
    """Interactions with internal ids, sorted by (user, timestamp, item), one row per (user, item).

    ``users`` / ``items`` are int32 of shape ``(n,)``; ``ratings`` (float32) and ``timestamps`` (int64
    seconds) are ``None`` when the frame has no such column; ``user_ids`` / ``item_ids`` are the sorted
    external id maps; ``n_duplicates_dropped`` counts the rows the duplicate policy removed.
    """

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray | None
    timestamps: np.ndarray | None
    user_ids: np.ndarray
    item_ids: np.ndarray
    n_duplicates_dropped: int


def index_frame(
    ratings: pd.DataFrame,
    *,
    user_ids: np.ndarray | None = None,
    item_ids: np.ndarray | None = None,
    name: str = "",
    source: str | None = None,
) -> IndexedInteractions:
    """Map, order and de-duplicate the interactions of ``ratings`` (see the module docstring).

    ``user_ids`` / ``item_ids`` fix the id maps (rows with ids outside them are an error); by default
    they are the sorted distinct ids present. ``source`` (a file) names the data in errors; ``source``,
    else ``name``, names it in the duplicate warning, which points at the caller of
    ``Dataset.from_frame``.
    """
    for col in (C.USER, C.ITEM):
        if col not in ratings.columns:
            raise MissingColumnError(
                f"missing column {col!r}; found {list(ratings.columns)}", path=source
            )
    u_ext = ratings[C.USER].to_numpy()
    i_ext = ratings[C.ITEM].to_numpy()
    if user_ids is None:
        user_ids = distinct_ids(u_ext)
    if item_ids is None:
        item_ids = distinct_ids(i_ext)
    users = map_ids(u_ext, np.asarray(user_ids))
    items = map_ids(i_ext, np.asarray(item_ids))
    for col, idx, ext in ((C.USER, users, u_ext), (C.ITEM, items, i_ext)):
        if (idx < 0).any():
            bad = ext[np.flatnonzero(idx < 0)[0]].item()
            raise DataValidationError(
                f"id {bad!r} is not in the id map", path=source, column=col
            )
    rat = ratings[C.RATING].to_numpy(np.float32) if C.RATING in ratings.columns else None
    ts = ratings[C.TIMESTAMP].to_numpy(np.int64) if C.TIMESTAMP in ratings.columns else None

    order = interaction_order(users, items, ts, len(user_ids), len(item_ids))
    users, items = users.astype(np.int32)[order], items.astype(np.int32)[order]
    rat = None if rat is None else rat[order]
    ts = None if ts is None else ts[order]
    dup = later_duplicates(users, items, len(item_ids))
    n_dup = int(dup.sum())
    if n_dup:
        keep = ~dup
        users, items = users[keep], items[keep]
        rat = None if rat is None else rat[keep]
        ts = None if ts is None else ts[keep]
        warnings.warn(
            f"{source or name or 'ratings'}: {n_dup} duplicate (userId, movieId) pairs; kept the "
            "latest interaction of each",
            DataQualityWarning,
            stacklevel=3,  # index_frame ← Dataset.from_frame ← its caller
        )
    return IndexedInteractions(
        users, items, rat, ts, np.asarray(user_ids), np.asarray(item_ids), n_dup
    )
