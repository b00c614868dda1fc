"""xgboost-rating features: the statistics' formulas, the table round trip and the row layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.features.catalogue import genre_matrix
from movielens_lessons.models.boosting.rating.features import (
    RatingTables,
    feature_names,
    item_meta,
    rating_stats,
    rating_tables,
)


def test_rating_stats_formulas() -> None:
    index = np.array([0, 0, 0, 2])
    ratings = np.array([1.0, 3.0, 5.0, 4.0])
    stats = rating_stats(index, ratings, 3, damping=2.0, global_mean=3.5)
    np.testing.assert_allclose(stats[0], [3.0, (9 + 7) / 5, np.std([1, 3, 5])], rtol=1e-6)
    assert np.isnan(stats[1, 0]) and stats[1, 1] == pytest.approx(3.5) and np.isnan(stats[1, 2])
    assert stats[2, 0] == 4.0 and np.isnan(stats[2, 2])


def test_tables_round_trip_and_rows_follow_feature_names() -> None:
    frame = pd.DataFrame(
        {
            C.USER: [1, 1, 1, 2, 2, 3],
            C.ITEM: [10, 20, 30, 10, 30, 20],
            C.RATING: [5.0, 3.0, 4.0, 2.0, 4.5, 1.0],
            C.TIMESTAMP: np.arange(6),
        }
    )
    movies = pd.DataFrame(
        {
            C.ITEM: [10, 20, 30],
            C.TITLE: ["A (1990)", "B (2000)", "C (2010)"],
            C.GENRES: [["Drama"], ["Comedy", "Drama"], ["Action"]],
        }
    )
    ds = Dataset.from_frame(frame, movies=movies)
    meta, meta_names = item_meta(ds, top_tags=0)
    tables = rating_tables(ds, 5.0, 3.25, meta, genre_matrix(ds))
    users, items = np.asarray(ds.users), np.asarray(ds.items)
    base = np.full((len(users), 2), 3.0, dtype=np.float32)
    x = tables.features(users, items, base)
    names = feature_names(["bias-baseline", "svd"], meta_names)
    assert x.shape == (len(users), len(names)) and x.dtype == np.float32
    assert names[:9] == [
        "user_count", "user_mean", "user_damped", "user_std",
        "item_count", "item_mean", "item_damped", "item_std", "genre_affinity",
    ]  # fmt: skip
    np.testing.assert_array_equal(x[:, 0], [3, 3, 3, 2, 2, 1])  # user counts, rows in user order
    back = RatingTables.from_arrays(tables.arrays())
    np.testing.assert_array_equal(back.features(users, items, base), x)
    assert tables.known(np.array([0, -1, 2]), np.array([0, 1, -1])).tolist() == [True, False, False]
