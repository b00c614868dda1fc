"""The CSR views of a Dataset: explicit ratings and the implicit weightings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.csr_views import history_recency_weights
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError


def test_views_match_the_frame(tiny: Dataset, tiny_ratings: pd.DataFrame) -> None:
    dense = tiny.explicit().toarray()
    for row in tiny_ratings.itertuples(index=False):
        u = tiny.user_index([row.userId])[0]
        i = tiny.item_index([row.movieId])[0]
        assert dense[u, i] == pytest.approx(row.rating)
    assert tiny.implicit().nnz == len(tiny_ratings)
    assert set(np.unique(tiny.implicit().data)) == {1.0}
    assert tiny.implicit("rating").sum() == pytest.approx(tiny_ratings[C.RATING].sum())


def test_positive_threshold_filters_the_implicit_view_only(tiny: Dataset) -> None:
    pos = tiny.with_positive_threshold(4.0)
    assert pos.implicit().nnz == 5  # ratings 5, 4, 5, 4.5, 4
    assert pos.explicit().nnz == 9
    assert tiny.implicit().nnz == 9  # the original is untouched


# --- recency weights --------------------------------------------------------------------------


def test_recency_weights_grow_along_each_users_history() -> None:
    # user 0: three interactions given out of time order; user 1: one; user 2: a tie at t=5
    users = np.array([0, 1, 0, 2, 0, 2])
    times = np.array([30, 7, 10, 5, 20, 5])
    w = history_recency_weights(users, times, strength=3.0)
    assert w.mean() == pytest.approx(1.0)
    raw = np.array([1 + 3 * 3 / 3, 1 + 3, 1 + 3 * 1 / 3, 1 + 3 * 1 / 2, 1 + 3 * 2 / 3, 1 + 3 * 2 / 2])
    np.testing.assert_allclose(w, raw / raw.mean())
    # the latest interaction of user 0 weighs (1 + s) / (1 + s/n) its earliest
    assert w[0] / w[2] == pytest.approx(4.0 / 2.0)


def test_recency_weights_follow_the_rows_when_shuffled() -> None:
    rng = np.random.default_rng(0)
    users = rng.integers(0, 20, 300)
    times = rng.permutation(300)  # distinct: no tie order involved
    w = history_recency_weights(users, times, strength=5.0)
    perm = rng.permutation(300)
    np.testing.assert_allclose(history_recency_weights(users[perm], times[perm], 5.0), w[perm])


def test_zero_recency_is_unit_weights_and_negative_is_refused() -> None:
    np.testing.assert_array_equal(history_recency_weights(np.array([0, 0, 1]), np.array([3, 1, 2]), 0.0),
                                  np.ones(3))  # fmt: skip
    with pytest.raises(ConfigError, match="non-negative"):
        history_recency_weights(np.array([0]), np.array([1]), -1.0)
