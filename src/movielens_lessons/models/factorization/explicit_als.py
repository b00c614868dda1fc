"""Biased matrix factorisation for ratings, solved by alternating least squares in NumPy ("ALS from
scratch"; the lesson is docs/lessons/als-from-scratch.md).

Model: ``r̂_ui = μ + b_u + b_i + p_u · q_i`` (μ fixed at the training mean) with the loss

    Σ_(u,i)∈R (r_ui − μ − b_u − b_i − p_u·q_i)²  +  λ_b (Σ_u b_u² + Σ_i b_i²)  +  λ (Σ_u |p_u|² + Σ_i |q_i|²)

``λ_b`` = ``bias_regularization`` damps the biases like the bias baseline; ``λ`` = ``regularization``
shrinks the factors. With the items fixed, each user's ``w_u = [b_u, p_u]`` solves a small ridge
regression on the augmented item vectors ``x_i = [1, q_i]``:

    (Σ_{i∈R_u} x_i x_iᵀ + diag(λ_b, λ, …, λ)) w_u = Σ_{i∈R_u} (r_ui − μ − b_i) x_i

and symmetrically for items. Each half-step minimises the loss exactly, so it never increases. All users'
(or items') systems are formed and solved in a few batched ``np.matmul`` / ``np.linalg.solve`` calls:
rows are grouped by rating count and padded, and rows with fewer ratings than unknowns use the
equivalent dual (kernel) form, a smaller system.
"""

from __future__ import annotations

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.baselines.rating_biases import BiasedRatingModel

#: Bytes of padded feature blocks and Gram matrices built at once while forming normal equations.
_CHUNK_BYTES = 64 * 2**20


class ExplicitALS(BiasedRatingModel):
    """Biased MF by alternating least squares: ``n_factors`` latent dimensions, ridge penalty
    ``regularization`` on the factors and ``bias_regularization`` on the biases, ``n_epochs`` sweeps
    (users, then items), item factors initialised N(0, 0.1²) from ``random_state``.

    Defaults tuned on a validation split carved from the training part of ml-latest-small's P1 and P2
    splits (see docs/lessons/als-from-scratch.md). ``training_metrics_["train_rmse"]`` holds the training
    RMSE after each epoch.
    """

    name = "explicit-als"

    def __init__(
        self,
        n_factors: int = 32,
        regularization: float = 12.0,
        bias_regularization: float = 3.0,
        n_epochs: int = 15,
        random_state: int = 42,
    ) -> None:
        self.n_factors = n_factors
        self.regularization = regularization
        self.bias_regularization = bias_regularization
        self.n_epochs = n_epochs
        self.random_state = random_state

    def _fit(self, dataset: Dataset) -> None:
        users, items, ratings = self._fit_start(dataset)
        n_users, n_items, d = dataset.n_users, dataset.n_items, int(self.n_factors)
        mu = float(self.global_mean_)
        # Interactions arrive sorted by user; a stable sort by item gives the item-major order.
        by_item = np.argsort(items, kind="stable")
        user_ptr = _indptr(users, n_users)
        item_ptr = _indptr(items[by_item], n_items)
        n_u, n_i = np.diff(user_ptr), np.diff(item_ptr)

        rng = np.random.default_rng(self.random_state)
        q = rng.normal(0.0, 0.1, (n_items, d)) * (n_i > 0)[:, None]
        b_i = np.zeros(n_items)
        b_u = np.zeros(n_users)
        p = np.zeros((n_users, d))
        history: list[float] = []

        def penalty(counts: np.ndarray) -> np.ndarray:
            return self._penalties(counts, d)

        for _ in range(max(1, int(self.n_epochs))):
            w = _solve_rows(user_ptr, items, ratings - mu - b_i[items], q, penalty(n_u))
            b_u, p = w[:, 0], w[:, 1:]
            w = _solve_rows(
                item_ptr, users[by_item], ratings[by_item] - mu - b_u[users[by_item]], p, penalty(n_i)
            )
            b_i, q = w[:, 0], w[:, 1:]
            pred = mu + b_u[users] + b_i[items] + np.einsum("nd,nd->n", p[users], q[items])
            history.append(float(np.sqrt(np.mean((ratings - pred) ** 2))))
        self.user_bias_ = b_u.astype(np.float32)
        self.item_bias_ = b_i.astype(np.float32)
        self.user_factors_ = p.astype(np.float32)
        self.item_factors_ = q.astype(np.float32)
        self.training_metrics_ = {"train_rmse": history}

    def _penalties(self, counts: np.ndarray, d: int) -> np.ndarray:
        """Diagonal ridge penalties ``(len(counts), 1 + d)``: the bias's, then the factors'."""
        pen = np.empty((len(counts), 1 + d))
        pen[:, 0] = float(self.bias_regularization)
        pen[:, 1:] = float(self.regularization)
        return pen

    def _fold_in_regularization(self, n_ratings: int) -> tuple[float, float]:
        return float(self.bias_regularization), float(self.regularization)


def _indptr(sorted_rows: np.ndarray, n_rows: int) -> np.ndarray:
    """CSR row pointer for row ids already sorted ascending."""
    return np.concatenate([[0], np.cumsum(np.bincount(sorted_rows, minlength=n_rows))])


def _solve_rows(
    indptr: np.ndarray,
    cols: np.ndarray,
    targets: np.ndarray,
    factors: np.ndarray,
    penalty: np.ndarray,
) -> np.ndarray:
    """Ridge solutions ``w_r = [bias, factors]`` for every row of a CSR pattern.

    Row ``r`` owns entries ``indptr[r]:indptr[r+1]`` of ``cols`` (other-side ids) and ``targets``
    (residual ratings). Features are ``x = [1, factors[col]]``; the system is
    ``(Σ x xᵀ + diag(penalty[r])) w_r = Σ target · x`` with ``penalty`` of shape ``(n_rows, 1 + d)``.
    Rows without entries get ``w = 0``. Returns ``(n_rows, 1 + d)`` float64.

    Rows are grouped by entry count into power-of-two classes and padded with zero rows to the class's
    widest, so each group's Gram matrices are one batched matmul (padding at most doubles the work).
    """
    n_rows, f1 = len(indptr) - 1, factors.shape[1] + 1
    x_all = np.hstack([np.ones((len(factors), 1)), factors])
    counts = np.diff(indptr)
    out = np.zeros((n_rows, f1))
    nonempty = np.flatnonzero(counts > 0)
    size_class = np.floor(np.log2(counts[nonempty])).astype(np.int64)
    eye = np.eye(f1)
    for cls in np.unique(size_class):
        group = nonempty[size_class == cls]
        width = int(counts[group].max())
        # rows per batch: bound both the padded features (b, width, f1) and the Grams (b, f1, f1)
        step = max(1, _CHUNK_BYTES // (8 * f1 * (width + f1)))
        for s in range(0, len(group), step):
            rows = group[s : s + step]
            pos = indptr[rows, None] + np.arange(width)
            valid = np.arange(width) < counts[rows, None]
            pos = np.where(valid, pos, 0)
            x = x_all[cols[pos]] * valid[:, :, None]  # (b, width, f1), zero rows for padding
            t = targets[pos] * valid
            # Scaling x by D^-1/2 (D = the row's diagonal penalty) turns the system into a unit ridge:
            # (x̃ᵀx̃ + I) w̃ = x̃ᵀt with w = D^-1/2 w̃. The tiny floor keeps a zero penalty solvable.
            scale = 1.0 / np.sqrt(penalty[rows] + 1e-9)  # (b, f1)
            x = x * scale[:, None, :]
            xt = x.transpose(0, 2, 1)
            if width < f1:
                # Few entries: the dual form w̃ = x̃ᵀ (x̃ x̃ᵀ + I)⁻¹ t solves a width × width system
                # instead of f1 × f1 (push-through identity); padding rows get a zero coefficient.
                alpha = np.linalg.solve(np.matmul(x, xt) + np.eye(width), t[:, :, None])
                w = np.matmul(xt, alpha)[:, :, 0]
            else:
                w = np.linalg.solve(np.matmul(xt, x) + eye, np.matmul(xt, t[:, :, None]))[:, :, 0]
            out[rows] = w * scale
    return out
