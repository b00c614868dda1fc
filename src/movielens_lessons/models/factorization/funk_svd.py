"""Funk/Koren biased matrix factorisation trained by stochastic gradient descent (Surprise's ``SVD``),
optionally with Koren's implicit-feedback term (``SVD++``).

Model ``r̂_ui = μ + b_u + b_i + q_i · z_u``. Plain SVD has ``z_u = p_u``; SVD++
(``implicit_feedback=True``, Koren 2008) adds what *which* items a user rated says about them:
``z_u = p_u + |N(u)|^-½ Σ_{j∈N(u)} y_j`` with ``N(u)`` the user's training items. For each training
rating, with ``e = r_ui − r̂_ui``, learning rate ``γ`` (times ``learning_rate_decay`` after each epoch)
and regularisation ``λ`` (``λ_b`` for the biases, ``λ_y`` for the ``y_j``):

    b_u += γ (e − λ_b b_u)        b_i += γ (e − λ_b b_i)
    p_u += γ (e q_i − λ p_u)      q_i += γ (e z_u − λ q_i)      (both from the old p_u, q_i)
    y_j += γ (e |N(u)|^-½ q_i − λ_y y_j)   for every j ∈ N(u)          (SVD++ only)

Plain SVD visits the ratings in a seeded random order every epoch. SVD++ visits them user by user (users
in a seeded random order, each user's ratings shuffled), as Surprise does: then the ``y_j`` update, which
is the same vector for every ``j ∈ N(u)``, can be accumulated and applied once per user, exactly equal to
the per-rating updates but O(d) per rating instead of O(|N(u)| d).

After fitting, ``user_factors_`` holds ``z_u`` (so prediction is the shared template's ``μ + b_u + b_i +
z_u · q_i``) and ``implicit_factors_`` the ``y_j``, which the fold-in of a new user needs.

The epoch loops (:mod:`.sgd_epochs`) are compiled with numba (imported lazily; the compiled kernels are cached on disk).
Without numba plain SVD runs a vectorised NumPy minibatch loop instead, with a warning: slower, and its
results differ slightly from the sequential updates because a minibatch uses the parameters from before
the batch; SVD++ then runs its per-user loop in plain Python (slow, but the same numbers).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.baselines.rating_biases import BiasedRatingModel
from movielens_lessons.models.factorization import sgd_epochs


class FunkSVD(BiasedRatingModel):
    """Biased MF by SGD (``n_factors`` dimensions, ``n_epochs`` passes, step ``learning_rate`` multiplied
    by ``learning_rate_decay`` after each epoch, per-rating penalty ``regularization``, factors
    initialised N(0, ``init_std``²), order and init from ``random_state``). ``implicit_feedback=True``
    makes it SVD++ with the penalty ``implicit_regularization`` on the implicit factors ``y_j``.
    Deterministic for a given ``random_state``.

    Defaults tuned on a validation split carved from the training part of ml-latest-small's P1 and P2
    splits (see docs/lessons/als-from-scratch.md). ``training_metrics_["train_rmse"]`` holds each epoch's
    running training RMSE (errors measured before each update).
    """

    name = "svd"

    def __init__(
        self,
        n_factors: int = 50,
        n_epochs: int = 30,
        learning_rate: float = 0.01,
        regularization: float = 0.04,
        bias_regularization: float = 0.1,
        init_std: float = 0.01,
        random_state: int = 42,
        implicit_feedback: bool = True,
        implicit_regularization: float = 0.02,
        learning_rate_decay: float = 1.0,
    ) -> None:
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.learning_rate = learning_rate
        self.regularization = regularization
        self.bias_regularization = bias_regularization
        self.init_std = init_std
        self.random_state = random_state
        self.implicit_feedback = implicit_feedback
        self.implicit_regularization = implicit_regularization
        self.learning_rate_decay = learning_rate_decay

    def _fit(self, dataset: Dataset) -> None:
        users, items, ratings = self._fit_start(dataset)
        d = int(self.n_factors)
        implicit = bool(self.implicit_feedback)
        rng = np.random.default_rng(self.random_state)
        p = rng.normal(0.0, float(self.init_std), (dataset.n_users, d))
        q = rng.normal(0.0, float(self.init_std), (dataset.n_items, d))
        y = rng.normal(0.0, float(self.init_std), (dataset.n_items, d)) if implicit else None
        b_u = np.zeros(dataset.n_users)
        b_i = np.zeros(dataset.n_items)
        users64, items64 = users.astype(np.int64), items.astype(np.int64)
        epoch = sgd_epochs.numba_epoch() if not implicit else sgd_epochs.numba_epoch_pp()
        if epoch is None:
            warnings.warn(
                "numba is not installed; svd uses a slower NumPy loop "
                '(pip install numba, or "movielens-lessons[models]")',
                RuntimeWarning,
                stacklevel=3,
            )
            # an Epoch like the numba kernels: as a union, each call would meet both signatures
            fallback: sgd_epochs.Epoch = (
                sgd_epochs.numpy_epoch if not implicit else sgd_epochs.python_epoch_pp
            )
            epoch = fallback
        mu = float(self.global_mean_)
        lr = float(self.learning_rate)
        reg, reg_b = float(self.regularization), float(self.bias_regularization)
        if implicit:
            # each user's rows of the user-sorted arrays: N(u) = items[start[u]:start[u + 1]]
            start = np.zeros(dataset.n_users + 1, dtype=np.int64)
            np.cumsum(np.bincount(users64, minlength=dataset.n_users), out=start[1:])
            by_user = np.argsort(users64, kind="stable")
        history = []
        for _ in range(max(1, int(self.n_epochs))):
            order = rng.permutation(len(ratings))
            if implicit:
                # group by user (users in random order), keeping the random order within a user
                rank = rng.permutation(dataset.n_users)
                order = order[np.argsort(rank[users64[order]], kind="stable")]
                sq = epoch(
                    users64, items64, ratings, order, by_user, start,
                    b_u, b_i, p, q, y, mu, lr, reg, reg_b, float(self.implicit_regularization),
                )  # fmt: skip
            else:
                sq = epoch(users64, items64, ratings, order, b_u, b_i, p, q, mu, lr, reg, reg_b)
            history.append(float(np.sqrt(sq / max(len(ratings), 1))))
            lr *= float(self.learning_rate_decay)
        # users or items without training ratings keep no random (meaningless) factors
        p[dataset.user_counts() == 0] = 0.0
        q[dataset.item_counts() == 0] = 0.0
        if implicit:
            assert y is not None  # drawn above when implicit
            y[dataset.item_counts() == 0] = 0.0
            p += _implicit_term(sp.csr_matrix(
                (np.ones(len(items64)), (users64, items64)), shape=(dataset.n_users, dataset.n_items)
            ), y)  # fmt: skip
            self.implicit_factors_ = y.astype(np.float32)
        self.user_bias_ = b_u.astype(np.float32)
        self.item_bias_ = b_i.astype(np.float32)
        self.user_factors_ = p.astype(np.float32)
        self.item_factors_ = q.astype(np.float32)
        self.training_metrics_ = {"train_rmse": history}

    def _fold_in_regularization(self, n_ratings: int) -> tuple[float, float]:
        # SGD penalises each rating's parameters, so a user's total ridge penalty grows with n_u
        return float(self.bias_regularization) * n_ratings, float(self.regularization) * n_ratings

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        """Fold in a new user; SVD++ first adds the implicit term of the history's items to the item
        side (``r − μ − b_i − q_i · imp``), solves ``[b_u, p_u]`` by ridge, and predicts with ``p_u + imp``."""
        y = getattr(self, "implicit_factors_", None)
        if y is None or history.nnz == 0:
            return super()._score_history(history)
        items, ratings = history.indices, history.data.astype(np.float64)
        imp = _implicit_term(history, y)[0]
        q = self.item_factors_.astype(np.float64)
        base = self.global_mean_ + self.item_bias_.astype(np.float64)
        target = ratings - base[items] - q[items] @ imp
        bias_reg, factor_reg = self._fold_in_regularization(len(items))
        x = np.hstack([np.ones((len(items), 1)), q[items]])
        penalty = np.full(x.shape[1], factor_reg)
        penalty[0] = bias_reg
        w = np.linalg.solve(x.T @ x + np.diag(penalty), x.T @ target)
        scores = base + w[0] + q @ (w[1:] + imp)
        return self._clip(np.asarray(scores, dtype=np.float32))

    def _get_state(self) -> dict[str, np.ndarray]:
        state = super()._get_state()
        if getattr(self, "implicit_factors_", None) is not None:
            state["implicit_factors_"] = self.implicit_factors_
        return state

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        if "implicit_factors_" in state:
            self.implicit_factors_ = state["implicit_factors_"]


def _implicit_term(rated: sp.csr_matrix, y: np.ndarray) -> np.ndarray:
    """``|N(u)|^-½ Σ_{j∈N(u)} y_j`` per row of ``rated`` (rows: users, nonzeros: N(u)), float64."""
    indicator = rated.copy()
    indicator.data = np.ones_like(indicator.data, dtype=np.float64)
    n = np.asarray(indicator.sum(axis=1)).ravel()
    scale = np.divide(1.0, np.sqrt(n), out=np.zeros_like(n), where=n > 0)
    return scale[:, None] * (indicator @ np.asarray(y, dtype=np.float64))
