"""The SGD epoch kernels: numba equals the NumPy fallback with one rating per batch, and the once-per-user
SVD++ update equals Koren's per-rating update done literally."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.factorization import sgd_epochs


def test_numba_kernel_equals_numpy_with_batch_of_one(
    cluster_data: Dataset,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With one rating per minibatch the NumPy fallback performs exactly the sequential updates."""
    kernel = sgd_epochs.numba_epoch()
    if kernel is None:
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(0)
    users = cluster_data.users.astype(np.int64)
    items = cluster_data.items.astype(np.int64)
    ratings = cluster_data.ratings.astype(np.float64)
    order = rng.permutation(len(ratings))
    start = [
        np.zeros(cluster_data.n_users),
        np.zeros(cluster_data.n_items),
        rng.normal(0, 0.1, (cluster_data.n_users, 3)),
        rng.normal(0, 0.1, (cluster_data.n_items, 3)),
    ]
    fast = [a.copy() for a in start]
    slow = [a.copy() for a in start]
    sq_fast = kernel(users, items, ratings, order, *fast, 3.0, 0.01, 0.05, 0.02)
    monkeypatch.setattr(sgd_epochs, "FALLBACK_BATCH", 1)
    sq_slow = sgd_epochs.numpy_epoch(users, items, ratings, order, *slow, 3.0, 0.01, 0.05, 0.02)
    assert sq_fast == pytest.approx(sq_slow, rel=1e-10)
    for x, y in zip(fast, slow, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


def _tiny_problem(seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A random tiny rating set grouped by user: ``[users, items, ratings, order, by_user, start]`` and
    initial ``[b_u, b_i, p, q, y]``."""
    rng = np.random.default_rng(seed)
    n_users, n_items, d = 6, 8, 3
    mask = rng.random((n_users, n_items)) < 0.5
    mask[:, 0] = True  # every user rates something
    users, items = (a.astype(np.int64) for a in np.nonzero(mask))
    ratings = rng.integers(1, 6, len(users)).astype(np.float64)
    start = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(users, minlength=n_users), out=start[1:])
    by_user = np.argsort(users, kind="stable")
    perm, rank = rng.permutation(len(users)), rng.permutation(n_users)
    order = perm[np.argsort(rank[users[perm]], kind="stable")]
    init = [
        rng.normal(0, 0.1, n_users),
        rng.normal(0, 0.1, n_items),
        rng.normal(0, 0.3, (n_users, d)),
        rng.normal(0, 0.3, (n_items, d)),
        rng.normal(0, 0.3, (n_items, d)),
    ]
    return [users, items, ratings, order, by_user, start], init


def _brute_force_svdpp_epoch(data, params, mu, lr, reg, reg_b, reg_y) -> float:
    """Koren's SVD++ SGD, literally: every rating recomputes the implicit sum and steps every y_j."""
    users, items, ratings, order = data[:4]
    b_u, b_i, p, q, y = params
    sq = 0.0
    for idx in order:
        u, i = users[idx], items[idx]
        rated = items[users == u]
        imp = y[rated].sum(axis=0) / np.sqrt(len(rated))
        err = ratings[idx] - (mu + b_u[u] + b_i[i] + q[i] @ (p[u] + imp))
        sq += err**2
        b_u[u] += lr * (err - reg_b * b_u[u])
        b_i[i] += lr * (err - reg_b * b_i[i])
        pu, qi = p[u].copy(), q[i].copy()
        p[u] += lr * (err * qi - reg * pu)
        q[i] += lr * (err * (pu + imp) - reg * qi)
        y[rated] += lr * (err * qi / np.sqrt(len(rated)) - reg_y * y[rated])
    return sq


@pytest.mark.parametrize("kernel", ["numba", "python"])
def test_svdpp_epoch_equals_brute_force(kernel: str) -> None:
    """The once-per-user y_j update is exactly the per-rating update of every y_j."""
    epoch = sgd_epochs.numba_epoch_pp() if kernel == "numba" else sgd_epochs.python_epoch_pp
    if epoch is None:
        pytest.skip("numba is not installed")
    data, init = _tiny_problem()
    hyper = (3.0, 0.05, 0.1, 0.02, 0.3)
    want = [a.copy() for a in init]
    sq_want = _brute_force_svdpp_epoch(data, want, *hyper)
    got = [a.copy() for a in init]
    sq_got = epoch(*data, *got, *hyper)
    assert sq_got == pytest.approx(sq_want, rel=1e-12)
    for x, w in zip(got, want, strict=True):
        np.testing.assert_allclose(x, w, rtol=1e-10, atol=1e-12)
    assert not np.allclose(got[4], init[4])  # the y_j did move
