"""Features for ``xgboost-rating`` (:mod:`movielens_lessons.models.boosting.rating.model`).

Each (user, item) row gets

- **user and item statistics** from the training ratings: ``count``, ``mean``, ``damped`` mean (pulled
  toward the global mean by ``damping`` pseudo-ratings) and ``std``;
- **catalogue metadata**: one 0/1 column per MovieLens genre, the release ``year`` (and, with
  ``top_tags > 0``, the most used tags), IMDb's runtime, rating and log votes when the dataset's
  movies carry them (``data imdb`` output), from :func:`movielens_lessons.features.items.item_features`;
- **stacked predictions** of the base rating models (``pred_<name>``), plus the user's
  ``genre_affinity``: the mean of the user's rating minus their own mean over movies sharing a genre
  with this one.

A training row's rating-derived features come from the other folds only
(:mod:`movielens_lessons.models.boosting.rating.stacking`); at prediction time everything comes from all training
data (:func:`rating_tables`). :meth:`RatingTables.rows` assembles either kind of row into the float32
feature matrix, columns in :func:`feature_names` order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset

_STAT_NAMES = ("count", "mean", "damped", "std")


@dataclass(frozen=True)
class RatingTables:
    """Prediction-time lookup tables, all from the training ratings (float32 unless noted)."""

    user_counts: np.ndarray  # (n_users,) ratings per user
    item_counts: np.ndarray  # (n_items,) ratings per item
    user_stats: np.ndarray  # (n_users, 3): mean, damped mean, std (see rating_stats)
    item_stats: np.ndarray  # (n_items, 3)
    item_meta: np.ndarray  # (n_items, m) catalogue columns (see item_meta)
    genres: sp.csr_matrix  # (n_items, n_genres) 0/1
    user_genre_affinity: np.ndarray  # (n_users, n_genres), NaN where the user rated none

    def rows(
        self,
        users: np.ndarray,
        items: np.ndarray,
        user_stats: np.ndarray,
        item_stats: np.ndarray,
        affinity: np.ndarray,
        base_preds: np.ndarray,
    ) -> np.ndarray:
        """The float32 feature matrix ``(n_rows, n_features)`` in :func:`feature_names` order, from
        ``user_stats``/``item_stats`` ``(n_rows, 3)``, ``affinity`` ``(n_rows, 1)`` and ``base_preds``
        ``(n_rows, n_base_models)``; counts and catalogue columns come from the tables."""
        return np.hstack(
            [
                self.user_counts[users, None],
                user_stats,
                self.item_counts[items, None],
                item_stats,
                affinity,
                base_preds,
                self.item_meta[items],
            ],
            dtype=np.float32,
        )

    def features(self, users: np.ndarray, items: np.ndarray, base_preds: np.ndarray) -> np.ndarray:
        """Prediction-time features for known internal ids (statistics from all training data)."""
        aff = pair_affinity(self.user_genre_affinity, self.genres, users, items)
        return self.rows(
            users,
            items,
            self.user_stats[users],
            self.item_stats[items],
            aff[:, None],
            base_preds,
        )

    def known(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Pairs whose user and item both have training ratings (the rest use the fallback)."""
        known = (users >= 0) & (items >= 0)
        known[known] = (self.user_counts[users[known]] > 0) & (self.item_counts[items[known]] > 0)
        return known

    def arrays(self) -> dict[str, np.ndarray]:
        """The tables as named arrays for a saved model's ``.npz`` (the genre CSR as three arrays)."""
        return {
            "user_counts_": self.user_counts,
            "item_counts_": self.item_counts,
            "user_stats_": self.user_stats,
            "item_stats_": self.item_stats,
            "item_meta_": self.item_meta,
            "genres_indptr_": self.genres.indptr,
            "genres_indices_": self.genres.indices,
            "genres_shape_": np.asarray(self.genres.shape),
            "user_genre_affinity_": self.user_genre_affinity,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> RatingTables:
        """The tables back from what :meth:`arrays` gave."""
        indices = arrays["genres_indices_"]
        # two entries: :meth:`arrays` saved the shape of the 2-D genre matrix
        shape = cast("tuple[int, int]", tuple(int(s) for s in arrays["genres_shape_"]))
        genres = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, arrays["genres_indptr_"]),
            shape=shape,
        )
        return cls(
            user_counts=arrays["user_counts_"],
            item_counts=arrays["item_counts_"],
            user_stats=arrays["user_stats_"],
            item_stats=arrays["item_stats_"],
            item_meta=arrays["item_meta_"],
            genres=genres,
            user_genre_affinity=arrays["user_genre_affinity_"],
        )


def feature_names(base_names: list[str], meta_names: list[str]) -> list[str]:
    """Column names of :meth:`RatingTables.rows`, for base models and :func:`item_meta` columns."""
    return (
        [f"user_{s}" for s in _STAT_NAMES]
        + [f"item_{s}" for s in _STAT_NAMES]
        + ["genre_affinity"]
        + [f"pred_{n}" for n in base_names]
        + meta_names
    )


def rating_tables(
    dataset: Dataset,
    damping: float,
    global_mean: float,
    item_meta: np.ndarray,
    genres: sp.csr_matrix,
) -> RatingTables:
    """The prediction-time tables from all of ``dataset``'s ratings (``global_mean`` damps the means)."""
    users, items = np.asarray(dataset.users), np.asarray(dataset.items)
    ratings = np.asarray(dataset.ratings, dtype=np.float64)
    user_stats = rating_stats(users, ratings, dataset.n_users, damping, global_mean)
    return RatingTables(
        user_counts=dataset.user_counts().astype(np.float32),
        item_counts=dataset.item_counts().astype(np.float32),
        user_stats=user_stats,
        item_stats=rating_stats(items, ratings, dataset.n_items, damping, global_mean),
        item_meta=item_meta,
        genres=genres,
        user_genre_affinity=genre_affinity(
            users, items, ratings, user_stats[:, 0], genres, dataset.n_users
        ),
    )


def rating_stats(
    index: np.ndarray, ratings: np.ndarray, n: int, damping: float, global_mean: float
) -> np.ndarray:
    """Per id ``0 .. n-1``: ``[mean, damped mean, std]`` of the ratings, float32 ``(n, 3)``.

    ``damped = (Σ r + damping · global_mean) / (count + damping)``; mean is NaN without ratings (damped
    is then the global mean); std is the population std, NaN under two ratings.
    """
    count = np.bincount(index, minlength=n).astype(np.float64)
    total = np.bincount(index, weights=ratings, minlength=n)
    squares = np.bincount(index, weights=ratings**2, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        var = np.maximum(squares / count - mean**2, 0.0)
        std = np.where(count > 1, np.sqrt(var), np.nan)
    damped = (total + float(damping) * global_mean) / (count + float(damping))
    return np.column_stack([mean, damped, std]).astype(np.float32)


def genre_affinity(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    user_mean: np.ndarray,
    genres: sp.csr_matrix,
    n_users: int,
) -> np.ndarray:
    """Per user and genre, the mean of (rating − the user's mean) over their rated movies of that genre:
    float32 ``(n_users, n_genres)``, NaN where the user rated none."""
    n_items = genres.shape[0]
    centred = ratings - np.nan_to_num(user_mean[users].astype(np.float64))
    shape = (n_users, n_items)
    sums = np.asarray((sp.csr_matrix((centred, (users, items)), shape=shape) @ genres).todense())
    seen = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=shape)
    counts = np.asarray((seen @ genres).todense())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan).astype(np.float32)


def pair_affinity(
    affinity: np.ndarray, genres: sp.csr_matrix, users: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """Mean of the user's genre affinities over the item's genres (NaN if none known), ``(n_pairs,)``."""
    if genres.shape[1] == 0 or len(users) == 0:
        return np.full(len(users), np.nan, dtype=np.float32)
    hot = genres[items]  # (n_pairs, n_genres) CSR
    rows = np.repeat(np.arange(len(users)), np.diff(hot.indptr))
    values = affinity[users[rows], hot.indices].astype(np.float64)
    ok = np.isfinite(values)
    total = np.bincount(rows[ok], weights=values[ok], minlength=len(users))
    count = np.bincount(rows[ok], minlength=len(users))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan).astype(np.float32)


def item_meta(dataset: Dataset, top_tags: int) -> tuple[np.ndarray, list[str]]:
    """Catalogue columns (genres, year, tags, IMDb runtime/rating/log votes when the movies carry
    them; no MovieLens-rating-derived ones) ``(n_items, m)`` and names."""
    from movielens_lessons.features.catalogue import attached_imdb
    from movielens_lessons.features.items import item_features

    feats = item_features(dataset, top_tags=top_tags, imdb=attached_imdb(dataset))
    imdb = ("imdb_runtime", "imdb_rating", "imdb_log_votes")
    cols = [
        c for c in feats.columns if c.startswith(("genre_", "tag_")) or c == "year" or c in imdb
    ]
    return feats[cols].to_numpy(np.float32), [f"item_{c}" for c in cols]
