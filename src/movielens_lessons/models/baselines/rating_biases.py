"""Explicit (rating-prediction) baselines, and the biased-rating template the explicit models share.

Every explicit model here predicts ``r̂_ui = μ + b_u + b_i + p_u · q_i`` (the factor term is absent for the
baselines), clipped to the training rating scale:

- ``global-mean`` (:class:`GlobalMean`): ``r̂ = μ``, the floor every rating model must clear;
- ``bias-baseline`` (:class:`BiasBaseline`): regularised user and item biases, Surprise-style.

Unknown ids (-1) fall back to the baseline: an unknown user gets ``μ + b_i``, an unknown item ``μ + b_u``,
both unknown ``μ``. ``recommend`` ranks by predicted rating, which the benchmark shows ranks poorly.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.base import BaseRecommender


class BiasedRatingModel(BaseRecommender):
    """Template for ``r̂_ui = μ + b_u + b_i + p_u · q_i``, clipped to the training rating scale.

    A subclass's ``_fit`` calls :meth:`_fit_start` (sets μ, zero biases, the scale) and then sets
    ``user_bias_`` / ``item_bias_`` (float32, per internal id) and, for factor models, ``user_factors_`` /
    ``item_factors_`` (float32 ``(n_users, d)`` / ``(n_items, d)``). Prediction, fallback, fold-in and
    persistence are shared.

    ``recommend_for_history`` folds a new user in from their ratings: pass ``ratings=`` (without it
    every history item reads as a rating of 1, i.e. disliked).
    """

    feedback = "explicit"

    # --- fitting helpers -------------------------------------------------------------------------

    def _fit_start(self, dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Set μ, zero biases and the rating scale; return ``(users, items, ratings float64)``."""
        ratings = np.asarray(dataset.ratings, dtype=np.float64)
        self.global_mean_ = np.float32(ratings.mean())
        low, high = dataset.rating_scale  # type: ignore[misc]
        self.rating_scale_ = np.array([low, high], dtype=np.float32)
        self.user_bias_ = np.zeros(dataset.n_users, dtype=np.float32)
        self.item_bias_ = np.zeros(dataset.n_items, dtype=np.float32)
        return np.asarray(dataset.users), np.asarray(dataset.items), ratings

    @property
    def _has_factors(self) -> bool:
        return getattr(self, "item_factors_", None) is not None

    def _clip(self, values: np.ndarray) -> np.ndarray:
        return np.clip(values, self.rating_scale_[0], self.rating_scale_[1])

    # --- prediction hooks ------------------------------------------------------------------------

    def _score(self, users: np.ndarray) -> np.ndarray:
        """Predicted ratings ``(len(users), n_items)``, clipped to the training scale."""
        out = self.global_mean_ + self.user_bias_[users, None] + self.item_bias_[None, :]
        if self._has_factors:
            out = out + self.user_factors_[users] @ self.item_factors_.T
        return self._clip(out.astype(np.float32, copy=False))

    def _predict_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted rating per pair; -1 (unknown) drops that side's bias and the factor term."""
        users, items = np.asarray(users), np.asarray(items)
        ku, ki = users >= 0, items >= 0
        out = np.full(len(users), self.global_mean_, dtype=np.float32)
        out[ku] += self.user_bias_[users[ku]]
        out[ki] += self.item_bias_[items[ki]]
        both = ku & ki
        if self._has_factors and both.any():
            p, q = self.user_factors_[users[both]], self.item_factors_[items[both]]
            out[both] += np.einsum("nd,nd->n", p, q)
        return self._clip(out)

    def _item_vectors(self) -> np.ndarray | None:
        return self.item_factors_ if self._has_factors else None

    # --- fold-in ---------------------------------------------------------------------------------

    def _fold_in_regularization(self, n_ratings: int) -> tuple[float, float]:
        """Ridge penalties ``(on b_u, on p_u)`` for a new user with ``n_ratings`` ratings."""
        raise NotImplementedError

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        """Fold in a new user: solve ``[b_u, p_u]`` by ridge regression on their ratings with the item
        side fixed, then predict every item. ``history`` is a ``(1, n_items)`` CSR row of ratings."""
        items, ratings = history.indices, history.data.astype(np.float64)
        base = self.global_mean_ + self.item_bias_
        if len(items) == 0:
            return self._clip(base.astype(np.float32))
        target = ratings - base[items]
        bias_reg, factor_reg = self._fold_in_regularization(len(items))
        if self._has_factors:
            x = np.hstack([np.ones((len(items), 1)), self.item_factors_[items].astype(np.float64)])
            penalty = np.full(x.shape[1], factor_reg)
            penalty[0] = bias_reg
            w = np.linalg.solve(x.T @ x + np.diag(penalty), x.T @ target)
            scores = base + w[0] + self.item_factors_ @ w[1:].astype(np.float32)
        else:
            scores = base + target.sum() / (bias_reg + len(items))
        return self._clip(np.asarray(scores, dtype=np.float32))

    # --- persistence -----------------------------------------------------------------------------

    def _get_state(self) -> dict[str, np.ndarray]:
        state = {
            "global_mean_": np.asarray(self.global_mean_),
            "rating_scale_": self.rating_scale_,
            "user_bias_": self.user_bias_,
            "item_bias_": self.item_bias_,
        }
        if self._has_factors:
            state["user_factors_"] = self.user_factors_
            state["item_factors_"] = self.item_factors_
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.global_mean_ = np.float32(state["global_mean_"])
        self.rating_scale_ = state["rating_scale_"]
        self.user_bias_ = state["user_bias_"]
        self.item_bias_ = state["item_bias_"]
        if "item_factors_" in state:
            self.user_factors_ = state["user_factors_"]
            self.item_factors_ = state["item_factors_"]


class GlobalMean(BiasedRatingModel):
    """Predicts the training mean rating μ for every pair: the floor for RMSE.

    ``recommend`` has nothing to rank by: every item ties, and ties go to the lower internal item id.
    """

    name = "global-mean"

    def __init__(self) -> None:
        pass

    def _fit(self, dataset: Dataset) -> None:
        self._fit_start(dataset)

    def _fold_in_regularization(self, n_ratings: int) -> tuple[float, float]:
        return float("inf"), float("inf")  # a new user's bias stays 0


class BiasBaseline(BiasedRatingModel):
    """Regularised user and item biases: ``r̂_ui = μ + b_u + b_i`` (Koren 2010; Surprise's baseline).

    Each round computes, over the training ratings ``R_i`` of item ``i`` and ``R_u`` of user ``u``:

    - ``b_i = Σ_{u∈R_i} (r_ui − μ − b_u) / (item_regularization + |R_i|)``
    - ``b_u = Σ_{i∈R_u} (r_ui − μ − b_i) / (user_regularization + |R_u|)``

    starting from ``b_u = 0``; ``n_epochs = 1`` is the classic one-pass damped-mean baseline, more rounds
    alternate towards the regularised least-squares solution. The regularisers act like pseudo-ratings at
    the mean: an item with 2 ratings and ``item_regularization = 5`` keeps only 2/7 of its raw offset.
    Defaults tuned on a validation split of ml-latest-small's P1/P2 training data (see
    docs/lessons/als-from-scratch.md).
    """

    name = "bias-baseline"

    def __init__(
        self,
        user_regularization: float = 5.0,
        item_regularization: float = 3.0,
        n_epochs: int = 10,
    ) -> None:
        self.user_regularization = user_regularization
        self.item_regularization = item_regularization
        self.n_epochs = n_epochs

    def _fit(self, dataset: Dataset) -> None:
        users, items, ratings = self._fit_start(dataset)
        n_u = np.bincount(users, minlength=dataset.n_users).astype(np.float64)
        n_i = np.bincount(items, minlength=dataset.n_items).astype(np.float64)
        resid = ratings - float(self.global_mean_)
        b_u = np.zeros(dataset.n_users)
        b_i = np.zeros(dataset.n_items)
        for _ in range(max(1, int(self.n_epochs))):
            b_i = _damped_mean(items, resid - b_u[users], n_i, self.item_regularization)
            b_u = _damped_mean(users, resid - b_i[items], n_u, self.user_regularization)
        self.user_bias_ = b_u.astype(np.float32)
        self.item_bias_ = b_i.astype(np.float32)

    def _fold_in_regularization(self, n_ratings: int) -> tuple[float, float]:
        return float(self.user_regularization), 0.0


def _damped_mean(
    index: np.ndarray, values: np.ndarray, counts: np.ndarray, damping: float
) -> np.ndarray:
    """``Σ values / (damping + count)`` per index (0 where the denominator is 0), float64."""
    sums = np.bincount(index, values, len(counts))
    den = float(damping) + counts
    return np.divide(sums, den, out=np.zeros_like(sums), where=den > 0)
