"""xgboost-rating stacking: folds spread every user, the base-model list."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.boosting.rating.stacking import FALLBACK, assign_folds, base_names


def test_folds_spread_every_user_over_all_folds() -> None:
    users = np.repeat(np.arange(4), [10, 3, 7, 1])
    folds = assign_folds(users, 3, np.random.default_rng(0))
    assert folds.shape == users.shape and set(np.unique(folds)) <= {0, 1, 2}
    for u, n in enumerate([10, 3, 7, 1]):
        counts = np.bincount(folds[users == u], minlength=3)
        assert counts.sum() == n and counts.max() - counts.min() <= 1


def test_base_names_put_the_fallback_first_once() -> None:
    assert base_names(" svd, bias-baseline,svd ,", "xgboost-rating") == [FALLBACK, "svd"]
    with pytest.raises(ConfigError, match="other than xgboost-rating, got 'xgboost-rating'"):
        base_names("xgboost-rating", "xgboost-rating")
