"""Out-of-fold stacking for ``xgboost-rating`` (:mod:`movielens_lessons.models.boosting.rating.model`).

The base rating models (``base_models``, default the bias baseline, ``explicit-als`` and ``svd``) are
stacked: their predictions are features (:mod:`movielens_lessons.models.boosting.rating.features`) of the
booster.

The leakage trap is a training row that sees its own rating: a user mean that includes the rating being
predicted, or an ALS prediction from a model trained on that rating, fits the training rows far better than
it will ever fit the test. So every rating-derived feature of a training row is computed **out of fold**:
the training ratings are dealt into ``n_folds`` folds (per user, round-robin in a seeded random order) and a
row in fold ``f`` gets statistics and base-model predictions from the other folds only. Counts carry no
rating, so they come from all training data. At prediction time everything comes from all training data
(the base models are refitted on it), the usual stacking recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.baselines.rating_biases import BiasedRatingModel
from movielens_lessons.models.boosting.rating.features import (
    genre_affinity,
    pair_affinity,
    rating_stats,
)

#: The bias baseline is always a base model: it is a cheap feature and the fallback for unknown ids.
FALLBACK = "bias-baseline"


def base_names(base_models: str, owner: str) -> list[str]:
    """The base models to stack: :data:`FALLBACK` first, then the comma-separated ``base_models``
    without repeats; each must be a registered explicit rating model other than ``owner``."""
    from movielens_lessons.models.registry import get_spec

    names = [FALLBACK] + [n.strip() for n in str(base_models).split(",") if n.strip()]
    names = list(dict.fromkeys(names))
    for name in names:
        if get_spec(name).feedback != "explicit" or name == owner:
            raise ConfigError(
                f"base_models must name explicit rating models other than {owner}, got {name!r}"
            )
    return names


def base_model(name: str) -> BiasedRatingModel:
    """A fresh registered rating model ``name`` with its shipped defaults, to stack."""
    from movielens_lessons.models.registry import create_model

    return create_model(name)


def assign_folds(users: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold ``0 .. n_folds-1`` per row: each user's rows in a random order, dealt round-robin from a
    random start, so a user with ``n ≥ n_folds`` ratings has some in every fold. Shape ``(n_rows,)``."""
    users = np.asarray(users)
    n_users = int(users.max()) + 1 if len(users) else 0
    order = np.lexsort((rng.random(len(users)), users))
    start = np.concatenate([[0], np.cumsum(np.bincount(users, minlength=n_users))])
    rank = np.empty(len(users), dtype=np.int64)
    rank[order] = np.arange(len(users)) - start[users[order]]
    offset = rng.integers(0, n_folds, n_users)
    return ((rank + offset[users]) % n_folds).astype(np.int64)


@dataclass(frozen=True)
class OutOfFold:
    """The training rows' rating-derived features, each from the other folds only (float32)."""

    user_stats: np.ndarray  # (n_rows, 3)
    item_stats: np.ndarray  # (n_rows, 3)
    affinity: np.ndarray  # (n_rows,)
    base_preds: np.ndarray  # (n_rows, n_base_models)


def out_of_fold(
    dataset: Dataset,
    folds: np.ndarray,
    n_folds: int,
    damping: float,
    genres: sp.csr_matrix,
    names: list[str],
) -> OutOfFold:
    """Statistics, genre affinity and the predictions of the base models ``names`` for every training
    row of ``dataset``, from the rows of the other folds (``folds``: fold per row, ``(n_rows,)``);
    every base model is fitted ``n_folds`` times."""
    users, items = np.asarray(dataset.users), np.asarray(dataset.items)
    ratings = np.asarray(dataset.ratings, dtype=np.float64)
    base_oof = np.empty((len(ratings), len(names)), dtype=np.float32)
    user_oof = np.empty((len(ratings), 3), dtype=np.float32)
    item_oof = np.empty((len(ratings), 3), dtype=np.float32)
    affinity_oof = np.empty(len(ratings), dtype=np.float32)
    for f in range(n_folds):
        held = folds == f
        inside = ~held
        glob = float(ratings[inside].mean())
        u_stats = rating_stats(users[inside], ratings[inside], dataset.n_users, damping, glob)
        i_stats = rating_stats(items[inside], ratings[inside], dataset.n_items, damping, glob)
        user_oof[held] = u_stats[users[held]]
        item_oof[held] = i_stats[items[held]]
        aff = genre_affinity(
            users[inside], items[inside], ratings[inside], u_stats[:, 0], genres, dataset.n_users
        )
        affinity_oof[held] = pair_affinity(aff, genres, users[held], items[held])
        part = dataset.subset(inside)
        for j, name in enumerate(names):
            model = base_model(name).fit(part)
            base_oof[held, j] = model._predict_pairs(users[held], items[held])
    return OutOfFold(user_oof, item_oof, affinity_oof, base_oof)
