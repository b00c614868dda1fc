"""User features for tabular rankers (XGBoost) and for the lessons, computed from a training window only.

Everything here is counted over interactions with timestamp ≤ ``as_of``: a user's mean rating or genre taste
measured with the test period included is exactly what the test is meant to hide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.features.catalogue import genre_matrix, genre_vocabulary
from movielens_lessons.features.items import (
    SECONDS_PER_DAY,
    AsOf,
    as_of_seconds,
    slug,
    window_mask,
)

#: Ratings at or above this count as positive when the dataset sets no ``positive_threshold``
#: (4 of 5 stars: the usual MovieLens cut between "liked" and "watched").
DEFAULT_POSITIVE = 4.0


def user_features(
    dataset: Dataset,
    *,
    as_of: AsOf = None,
    positive_threshold: float | None = None,
) -> pd.DataFrame:
    """One row per internal user id (``0 .. n_users-1``), features known at ``as_of``.

    Columns: ``n_ratings``, ``log_count`` (``log(1 + n)``), ``mean_rating``, ``rating_std`` (sample std,
    NaN under two ratings), ``positive_share``; ``affinity_<genre>``: share of the user's positives whose
    movie has the genre (multi-genre movies count once per genre, so shares can sum above 1);
    ``centred_<genre>``: mean of (rating − the user's mean) over the user's ratings in the genre (NaN if
    none; > 0 means the user rates the genre above their own habit); ``recency_days`` (from the last
    interaction to ``as_of``) and ``tenure_days`` (first to last interaction). ``as_of`` (seconds, or a
    datetime taken as UTC) defaults to the dataset's last timestamp; later interactions are ignored.
    Positives are ratings ≥ ``positive_threshold`` (default: the dataset's, else
    :data:`DEFAULT_POSITIVE`); implicit data counts every interaction as positive.
    """
    n_users = dataset.n_users
    cutoff = as_of_seconds(dataset, as_of)
    mask = window_mask(dataset, as_of)
    users = dataset.users[mask]
    items = dataset.items[mask]
    count = np.bincount(users, minlength=n_users)
    cols: dict[str, np.ndarray] = {
        "n_ratings": count.astype(np.int32),
        "log_count": np.log1p(count).astype(np.float32),
    }
    if dataset.ratings is not None:
        ratings = dataset.ratings[mask].astype(np.float64)
        threshold = positive_threshold
        if threshold is None:
            threshold = dataset.positive_threshold or DEFAULT_POSITIVE
        positive = ratings >= threshold
    else:
        ratings = None
        positive = np.ones(len(users), dtype=bool)

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.full(n_users, np.nan)
        std = np.full(n_users, np.nan)
        if ratings is not None:
            total = np.bincount(users, weights=ratings, minlength=n_users)
            mean = np.where(count > 0, total / count, np.nan)
            sq = np.bincount(users, weights=(ratings - mean[users]) ** 2, minlength=n_users)
            std = np.where(count > 1, np.sqrt(sq / (count - 1)), np.nan)
        cols["mean_rating"] = mean.astype(np.float32)
        cols["rating_std"] = std.astype(np.float32)
        n_pos = np.bincount(users[positive], minlength=n_users)
        cols["positive_share"] = np.where(count > 0, n_pos / count, np.nan).astype(np.float32)
        cols.update(_genre_columns(dataset, users, items, ratings, positive, mean, n_pos))
        cols.update(_time_columns(dataset, mask, users, count, cutoff))
    return pd.DataFrame(cols, index=pd.RangeIndex(n_users, name="user"))


def _genre_columns(
    dataset: Dataset,
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray | None,
    positive: np.ndarray,
    mean: np.ndarray,
    n_pos: np.ndarray,
) -> dict[str, np.ndarray]:
    """``affinity_<genre>`` and ``centred_<genre>`` via sparse user × item @ item × genre products."""
    genres = genre_vocabulary(dataset)
    if not genres:
        return {}
    g = genre_matrix(dataset, genres)  # (n_items, n_genres)
    shape = (dataset.n_users, dataset.n_items)
    pos = sp.csr_matrix(
        (np.ones(int(positive.sum()), np.float64), (users[positive], items[positive])), shape=shape
    )
    pos_in_genre = np.asarray((pos @ g).todense())  # (n_users, n_genres)
    affinity = pos_in_genre / np.maximum(n_pos, 1)[:, None]
    affinity[n_pos == 0] = np.nan
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(genres):
        out[f"affinity_{slug(name)}"] = affinity[:, j].astype(np.float32)
    if ratings is not None:
        seen = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=shape)
        centred = sp.csr_matrix((ratings - mean[users], (users, items)), shape=shape)
        n_in_genre = np.asarray((seen @ g).todense())
        sums = np.asarray((centred @ g).todense())
        per_genre = np.where(n_in_genre > 0, sums / np.maximum(n_in_genre, 1), np.nan)
        for j, name in enumerate(genres):
            out[f"centred_{slug(name)}"] = per_genre[:, j].astype(np.float32)
    return out


def _time_columns(
    dataset: Dataset, mask: np.ndarray, users: np.ndarray, count: np.ndarray, cutoff: int | None
) -> dict[str, np.ndarray]:
    n_users = dataset.n_users
    if dataset.timestamps is None or cutoff is None:
        nan = np.full(n_users, np.nan, dtype=np.float32)
        return {"recency_days": nan, "tenure_days": nan.copy()}
    ts = dataset.timestamps[mask]
    first = np.full(n_users, np.iinfo(np.int64).max)
    last = np.full(n_users, np.iinfo(np.int64).min)
    np.minimum.at(first, users, ts)
    np.maximum.at(last, users, ts)
    active = count > 0
    recency = np.where(active, (cutoff - last) / SECONDS_PER_DAY, np.nan)
    tenure = np.where(active, (last - first) / SECONDS_PER_DAY, np.nan)
    return {"recency_days": recency.astype(np.float32), "tenure_days": tenure.astype(np.float32)}
