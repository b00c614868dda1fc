"""Catalogue metadata of items: MovieLens genres and the IMDb fields, aligned to internal item ids.

Catalogue metadata describes a movie, not anyone's behaviour, so it is used whole (no training window):
see :mod:`movielens_lessons.features.items`, which adds the behaviour counted up to ``as_of``. IMDb's
rating and votes are today's values — a mild leak for old splits, which the lessons discuss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import MissingColumnError

#: The columns of an ``enrich_items`` frame that :func:`imdb_features` turns into ``imdb_*`` features.
IMDB_SOURCE_COLUMNS = (C.IMDB_RUNTIME, C.IMDB_RATING, C.IMDB_VOTES)


def attached_imdb(dataset: Dataset) -> pd.DataFrame | None:
    """The dataset's movies frame when it carries IMDb columns (``data imdb`` / ``enrich_items``
    output attached as ``movies``), else None: models use IMDb fields when present, never require them."""
    movies = dataset.movies
    if movies is None or not all(c in movies.columns for c in (C.ITEM, *IMDB_SOURCE_COLUMNS)):
        return None
    return movies


def movie_meta(dataset: Dataset) -> pd.DataFrame:
    """The movies frame aligned to internal item ids, one row per item (unknown movies: all null)."""
    movies = dataset.movies
    if movies is None:
        return pd.DataFrame(index=pd.RangeIndex(dataset.n_items))
    if C.ITEM not in movies.columns:
        raise MissingColumnError(f"dataset.movies lacks {C.ITEM!r}; found {list(movies.columns)}")
    meta = movies.drop_duplicates(C.ITEM, keep="last").set_index(C.ITEM).reindex(dataset.item_ids)
    return meta.reset_index(drop=True)


def genre_vocabulary(dataset: Dataset) -> list[str]:
    """Sorted MovieLens genres of the whole catalogue (so columns do not depend on the window)."""
    if dataset.movies is None or C.GENRES not in dataset.movies.columns:
        return []
    return sorted({g for gs in dataset.movies[C.GENRES] if _is_list(gs) for g in gs if g})


def _is_list(value: object) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def genre_matrix(dataset: Dataset, genres: list[str] | None = None) -> sp.csr_matrix:
    """Item × genre multi-hot CSR (float32, ``(n_items, len(genres))``) in :func:`genre_vocabulary` order."""
    genres = genre_vocabulary(dataset) if genres is None else genres
    col = {g: j for j, g in enumerate(genres)}
    meta = movie_meta(dataset)
    rows: list[int] = []
    cols: list[int] = []
    if C.GENRES in meta.columns:
        for i, gs in enumerate(meta[C.GENRES]):
            if _is_list(gs):
                for g in gs:
                    if g in col:
                        rows.append(i)
                        cols.append(col[g])
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(dataset.n_items, len(genres)))


def imdb_features(dataset: Dataset, imdb: pd.DataFrame) -> dict[str, np.ndarray]:
    """Runtime, rating, log votes and their buckets from an enriched items table (``enrich_items``).

    Each array is float32 of shape ``(n_items,)``, NaN for movies without the IMDb value.
    """
    for col in (C.ITEM, C.IMDB_RUNTIME, C.IMDB_RATING, C.IMDB_VOTES):
        if col not in imdb.columns:
            raise MissingColumnError(f"imdb frame lacks {col!r}; pass the output of enrich_items()")
    meta = imdb.drop_duplicates(C.ITEM).set_index(C.ITEM).reindex(dataset.item_ids)
    runtime = pd.to_numeric(meta[C.IMDB_RUNTIME], errors="coerce").to_numpy(
        np.float64, na_value=np.nan
    )
    rating = pd.to_numeric(meta[C.IMDB_RATING], errors="coerce").to_numpy(
        np.float64, na_value=np.nan
    )
    votes = pd.to_numeric(meta[C.IMDB_VOTES], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    return {
        "imdb_runtime": runtime.astype(np.float32),
        "imdb_rating": rating.astype(np.float32),
        # Whole stars 1..9 (a 10.0 joins the 9s): coarse enough to be a shared LightFM feature.
        "imdb_rating_bucket": np.minimum(np.floor(rating), 9).astype(np.float32),
        "imdb_log_votes": np.log10(1 + votes).astype(np.float32),
        # Orders of magnitude: 1-9 votes → 0, 10-99 → 1, ..., a million and more → 6.
        "imdb_votes_bucket": np.floor(np.log10(np.maximum(votes, 1))).astype(np.float32),
    }
