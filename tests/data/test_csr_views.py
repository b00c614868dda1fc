"""The CSR views of a Dataset: explicit ratings and the implicit weightings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.csr_views import history_recency_weights, rating_confidence_weights
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_masks import position_in_user
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


def recency_by_pair(frame: pd.DataFrame, strength: float) -> dict[tuple[int, int], float]:
    """``{(userId, movieId): weight}`` of a Dataset built from ``frame``."""
    ds = Dataset.from_frame(frame)
    w = history_recency_weights(*position_in_user(ds), strength)
    pairs = zip(ds.user_ids[ds.users].tolist(), ds.item_ids[ds.items].tolist(), strict=True)
    return dict(zip(pairs, w.tolist(), strict=True))


def test_recency_weights_grow_along_each_users_history() -> None:
    # user 1: three interactions given out of time order; user 2: one; user 3: a tie at t=5
    frame = pd.DataFrame({C.USER: [1, 2, 1, 3, 1, 3], C.ITEM: [10, 10, 11, 13, 12, 14],
                          C.RATING: 4.0, C.TIMESTAMP: [30, 7, 10, 5, 20, 5]})  # fmt: skip
    w = recency_by_pair(frame, strength=3.0)
    assert np.mean(list(w.values())) == pytest.approx(1.0)
    # ranks in time order, the tie broken by movieId (the Dataset's stored order)
    raw = {(1, 10): 1 + 3 * 3 / 3, (2, 10): 1 + 3, (1, 11): 1 + 3 * 1 / 3, (3, 13): 1 + 3 * 1 / 2,
           (1, 12): 1 + 3 * 2 / 3, (3, 14): 1 + 3 * 2 / 2}  # fmt: skip
    mean = np.mean(list(raw.values()))
    assert w == pytest.approx({pair: value / mean for pair, value in raw.items()})
    # the latest interaction of user 1 weighs (1 + s) / (1 + s/n) its earliest
    assert w[1, 10] / w[1, 11] == pytest.approx(4.0 / 2.0)


def test_recency_weights_follow_the_rows_when_shuffled() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({C.USER: rng.integers(0, 20, 300), C.ITEM: np.arange(300),
                          C.RATING: 4.0, C.TIMESTAMP: rng.permutation(300)})  # fmt: skip
    shuffled = frame.iloc[rng.permutation(300)]
    assert recency_by_pair(shuffled, 5.0) == pytest.approx(recency_by_pair(frame, 5.0))


def test_zero_recency_is_unit_weights_and_negative_is_refused() -> None:
    np.testing.assert_array_equal(history_recency_weights(np.array([0, 1, 0]), np.array([2, 2, 1]), 0.0),
                                  np.ones(3))  # fmt: skip
    with pytest.raises(ConfigError, match="non-negative"):
        history_recency_weights(np.array([0]), np.array([1]), -1.0)


# --- rating confidence weights ------------------------------------------------------------------


def test_rating_weights_standardise_the_ratings() -> None:
    ratings = np.array([1.0, 3.0, 3.0, 5.0])  # mean 3, std sqrt(2)
    w = rating_confidence_weights(ratings, 0.5)
    z = (ratings - 3.0) / np.sqrt(2.0)
    raw = 1.0 + 0.5 * z
    np.testing.assert_allclose(w, raw / raw.mean())
    assert w.mean() == pytest.approx(1.0)
    # z = -1 and +1: 1 - 1 = 0 is raised to the floor, 1 + 1 = 2 stays, then both share mean 1
    np.testing.assert_allclose(rating_confidence_weights(np.array([2.0, 4.0]), 1.0, floor=0.05),
                               np.array([0.05, 2.0]) / 1.025)  # fmt: skip


def test_rating_weights_ignore_the_rating_scale_and_keep_a_floor() -> None:
    stars = np.array([0.5, 2.0, 3.5, 4.0, 5.0, 4.5])
    np.testing.assert_allclose(rating_confidence_weights(stars, 0.7),
                               rating_confidence_weights(stars * 2 + 1, 0.7))  # fmt: skip
    w = rating_confidence_weights(stars, 3.0, floor=0.05)
    assert w.min() > 0  # 1 + 3·z is negative for 0.5 stars; the floor keeps it a positive
    assert np.argmin(w) == 0 and np.argmax(w) == 4


def test_rating_weights_off_constant_or_negative() -> None:
    np.testing.assert_array_equal(rating_confidence_weights(np.array([1.0, 5.0]), 0.0), np.ones(2))
    np.testing.assert_array_equal(rating_confidence_weights(np.full(3, 4.0), 2.0), np.ones(3))
    assert len(rating_confidence_weights(np.array([]), 1.0)) == 0
    with pytest.raises(ConfigError, match="non-negative"):
        rating_confidence_weights(np.array([1.0, 2.0]), -0.5)
