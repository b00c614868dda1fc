"""Funk/Koren biased matrix factorisation trained by stochastic gradient descent (Surprise's ``SVD``).

Model ``r̂_ui = μ + b_u + b_i + p_u · q_i``; for each training rating, visited in a seeded random order
every epoch, with ``e = r_ui − r̂_ui``, learning rate ``γ`` and regularisation ``λ`` (``λ_b`` for the biases):

    b_u += γ (e − λ_b b_u)        b_i += γ (e − λ_b b_i)
    p_u += γ (e q_i − λ p_u)      q_i += γ (e p_u − λ q_i)      (both from the old p_u, q_i)

The epoch loop is compiled with numba (imported lazily; the compiled kernel is cached on disk). Without
numba a vectorised NumPy minibatch loop runs instead, with a warning: slower, and its results differ
slightly from the sequential updates because a minibatch uses the parameters from before the batch.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.explicit_baselines import BiasedRatingModel

#: Ratings per step of the NumPy fallback.
_FALLBACK_BATCH = 256


class FunkSVD(BiasedRatingModel):
    """Biased MF by SGD (``n_factors`` dimensions, ``n_epochs`` passes, step ``learning_rate``, per-rating
    penalty ``regularization``, factors initialised N(0, ``init_std``²), order and init from
    ``random_state``). Deterministic for a given ``random_state``.

    Defaults tuned on a validation split carved from the training part of ml-latest-small's P1 and P2
    splits (see docs/lessons/als-from-scratch.md). ``training_metrics_["train_rmse"]`` holds each epoch's
    running training RMSE (errors measured before each update).
    """

    name = "svd"

    def __init__(
        self,
        n_factors: int = 100,
        n_epochs: int = 60,
        learning_rate: float = 0.01,
        regularization: float = 0.08,
        bias_regularization: float = 0.1,
        init_std: float = 0.01,
        random_state: int = 42,
    ) -> None:
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.bias_regularization = bias_regularization
        self.init_std = init_std
        self.random_state = random_state

    def _fit(self, dataset: Dataset) -> None:
        users, items, ratings = self._fit_start(dataset)
        d = int(self.n_factors)
        rng = np.random.default_rng(self.random_state)
        p = rng.normal(0.0, float(self.init_std), (dataset.n_users, d))
        q = rng.normal(0.0, float(self.init_std), (dataset.n_items, d))
        b_u = np.zeros(dataset.n_users)
        b_i = np.zeros(dataset.n_items)
        users64, items64 = users.astype(np.int64), items.astype(np.int64)
        epoch = _numba_epoch()
        if epoch is None:
            warnings.warn(
                "numba is not installed; svd uses a slower NumPy minibatch loop "
                '(pip install numba, or "movielens-lessons[models]")',
                RuntimeWarning,
                stacklevel=3,
            )
            epoch = _numpy_epoch
        history = []
        args = (
            float(self.global_mean_),
            float(self.learning_rate),
            float(self.regularization),
            float(self.bias_regularization),
        )
        for _ in range(max(1, int(self.n_epochs))):
            order = rng.permutation(len(ratings))
            sq = epoch(users64, items64, ratings, order, b_u, b_i, p, q, *args)
            history.append(float(np.sqrt(sq / max(len(ratings), 1))))
        # users or items without training ratings keep no random (meaningless) factors
        p[dataset.user_counts() == 0] = 0.0
        q[dataset.item_counts() == 0] = 0.0
        self.user_bias_ = b_u.astype(np.float32)
        self.item_bias_ = b_i.astype(np.float32)
        self.user_factors_ = p.astype(np.float32)
        self.item_factors_ = q.astype(np.float32)
        self.training_metrics_ = {"train_rmse": history}

    def _fold_in_regularization(self, n_ratings: int) -> tuple[float, float]:
        # SGD penalises each rating's parameters, so a user's total ridge penalty grows with n_u
        return float(self.bias_regularization) * n_ratings, float(self.regularization) * n_ratings


Epoch = Callable[..., float]


@functools.cache
def _numba_epoch() -> Epoch | None:
    """The numba-compiled epoch kernel, or ``None`` when numba is not installed."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, fastmath=False)
    def epoch(users, items, ratings, order, b_u, b_i, p, q, mu, lr, reg, reg_b):  # pragma: no cover
        sq = 0.0
        d = p.shape[1]
        for idx in order:
            u, i = users[idx], items[idx]
            dot = 0.0
            for f in range(d):
                dot += p[u, f] * q[i, f]
            err = ratings[idx] - (mu + b_u[u] + b_i[i] + dot)
            sq += err * err
            b_u[u] += lr * (err - reg_b * b_u[u])
            b_i[i] += lr * (err - reg_b * b_i[i])
            for f in range(d):
                puf, qif = p[u, f], q[i, f]
                p[u, f] += lr * (err * qif - reg * puf)
                q[i, f] += lr * (err * puf - reg * qif)
        return sq

    return epoch


def _numpy_epoch(users, items, ratings, order, b_u, b_i, p, q, mu, lr, reg, reg_b) -> float:
    """One epoch in minibatches of ``_FALLBACK_BATCH`` ratings; the same updates, summed per batch.
    Updates the arrays in place and returns the sum of squared errors."""
    sq = 0.0
    for start in range(0, len(order), _FALLBACK_BATCH):
        idx = order[start : start + _FALLBACK_BATCH]
        u, i = users[idx], items[idx]
        pu, qi = p[u], q[i]
        err = ratings[idx] - (mu + b_u[u] + b_i[i] + np.einsum("nd,nd->n", pu, qi))
        sq += float(err @ err)
        np.add.at(b_u, u, lr * (err - reg_b * b_u[u]))
        np.add.at(b_i, i, lr * (err - reg_b * b_i[i]))
        np.add.at(p, u, lr * (err[:, None] * qi - reg * pu))
        np.add.at(q, i, lr * (err[:, None] * pu - reg * qi))
    return sq
