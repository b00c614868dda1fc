"""A one-screen description of a release or ratings file: sizes, rating range, density, time span."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData


def _date(seconds: int) -> str:
    """ISO date (UTC) of a Unix timestamp in seconds."""
    return pd.Timestamp(int(seconds), unit="s", tz="UTC").date().isoformat()


def describe(data: MovieLensData) -> dict[str, Any]:
    """Plain-Python summary of ``data`` (JSON-serialisable), computed from its raw frames.

    Keys: ``name``, ``path``, ``ratings`` (rows), ``users`` and ``rated_movies`` (distinct ids in the
    ratings), ``movies`` (rows of the movies file; ``None`` without one), ``tags``, ``links``,
    ``users_with_demographics``, ``rating_min``/``rating_max``/``rating_mean``, ``rating_scale`` (the
    release's), ``distinct_rating_values``, ``duplicate_pairs`` (rows beyond the first of a
    (user, movie) pair), ``density`` (distinct pairs / (users × rated movies)), ``median_ratings_per_user``,
    ``median_ratings_per_movie``, ``first_date``/``last_date`` (ISO dates, UTC).
    """
    r = data.ratings
    users = r[C.USER].to_numpy()
    items = r[C.ITEM].to_numpy()
    n_users = len(np.unique(users))
    n_items = len(np.unique(items))
    pairs = len(np.unique(users.astype(np.int64) << 32 | items.astype(np.int64))) if len(r) else 0
    out: dict[str, Any] = {
        "name": data.name,
        "path": None if data.path is None else str(data.path),
        "ratings": len(r),
        "users": n_users,
        "rated_movies": n_items,
        "movies": None if data.movies is None else len(data.movies),
        "tags": None if data.tags is None else len(data.tags),
        "links": None if data.links is None else len(data.links),
        "users_with_demographics": None if data.users is None else len(data.users),
        "rating_min": None,
        "rating_max": None,
        "rating_mean": None,
        "rating_scale": None if data.rating_scale is None else list(data.rating_scale),
        "distinct_rating_values": None,
        "duplicate_pairs": int(len(r) - pairs),
        "density": pairs / (n_users * n_items) if n_users and n_items else 0.0,
        "median_ratings_per_user": float(np.median(np.unique(users, return_counts=True)[1]))
        if len(r)
        else None,
        "median_ratings_per_movie": float(np.median(np.unique(items, return_counts=True)[1]))
        if len(r)
        else None,
        "first_date": None,
        "last_date": None,
    }
    if C.RATING in r.columns and len(r):
        ratings = r[C.RATING].to_numpy(np.float64)
        out["rating_min"] = float(ratings.min())
        out["rating_max"] = float(ratings.max())
        out["rating_mean"] = round(float(ratings.mean()), 4)
        out["distinct_rating_values"] = [float(v) for v in np.unique(ratings)]
    if C.TIMESTAMP in r.columns and len(r):
        ts = r[C.TIMESTAMP].to_numpy(np.int64)
        out["first_date"] = _date(ts.min())
        out["last_date"] = _date(ts.max())
    return out
