"""The two-tower model's item features: genres, release decade and year and IMDb buckets of every item
of the id map, as NumPy arrays (the Keras item tower's constants, and part of the saved model's state)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.features.catalogue import (
    attached_imdb,
    genre_matrix,
    imdb_features,
    movie_meta,
)


@dataclass(frozen=True)
class ItemFeatures:
    """The item tower's inputs besides the id, one row per internal item.

    ``genre_weights``: ``(n_items, n_genres)`` float32, each row a genre multi-hot scaled to sum 1
    (mean pooling; zeros for an item without genres); ``codes``: ``(n_items, n_categorical)`` int32, a
    level per categorical feature (0 = unknown); ``sizes``: levels of each, unknown included;
    ``names``: ``decade``, ``year``, ``imdb_rating``, ``imdb_votes``, those present (the decade
    generalises across years; the year tells a new release from an older film of its decade).
    """

    genre_weights: np.ndarray
    codes: np.ndarray
    sizes: np.ndarray
    names: np.ndarray


def _levels(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes ``1..n`` of the sorted distinct finite values (0 for NaN) and ``n + 1`` levels."""
    finite = np.isfinite(values)
    distinct = np.unique(values[finite])
    codes = np.zeros(len(values), dtype=np.int32)
    codes[finite] = np.searchsorted(distinct, values[finite]).astype(np.int32) + 1
    return codes, len(distinct) + 1


def item_features(dataset: Dataset) -> ItemFeatures:
    """Genres, release decade and year and (when the movies table has IMDb columns) IMDb rating and votes
    buckets of every item of the id map, cold items included; empty without a movies table."""
    n = dataset.n_items
    genres = genre_matrix(dataset).toarray().astype(np.float32)
    counts = genres.sum(axis=1, keepdims=True)
    genres = np.divide(genres, counts, out=np.zeros_like(genres), where=counts > 0)
    columns: list[tuple[str, np.ndarray]] = []
    meta = movie_meta(dataset)
    if C.YEAR in meta.columns:
        year = pd.to_numeric(meta[C.YEAR], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        columns.append(("decade", np.floor(year / 10) * 10))
        columns.append(("year", year))
    imdb = attached_imdb(dataset)
    if imdb is not None:
        found = imdb_features(dataset, imdb)
        columns.append(("imdb_rating", found["imdb_rating_bucket"].astype(np.float64)))
        columns.append(("imdb_votes", found["imdb_votes_bucket"].astype(np.float64)))
    coded = [_levels(values) for _, values in columns]
    # a feature known for no item carries nothing: left out
    kept = [(name, c) for (name, _), c in zip(columns, coded, strict=True) if c[1] > 1]
    codes = (
        np.stack([c[0] for _, c in kept], axis=1)
        if kept
        else np.zeros((n, 0), dtype=np.int32)
    )
    return ItemFeatures(
        genre_weights=genres.reshape(n, -1),
        codes=codes.astype(np.int32),
        sizes=np.array([c[1] for _, c in kept], dtype=np.int64),
        names=np.array([name for name, _ in kept], dtype=str),
    )


__all__ = ["ItemFeatures", "item_features"]
