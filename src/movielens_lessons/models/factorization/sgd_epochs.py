"""The SGD epochs of :class:`~movielens_lessons.models.factorization.funk_svd.FunkSVD`: one pass over the
ratings, updating biases and factors in place and returning the sum of squared errors (before each update).

``numba_epoch`` / ``numba_epoch_pp`` compile plain SVD's and SVD++'s sequential loops with numba (imported
lazily, cached on disk; ``None`` without numba); ``numpy_epoch`` is plain SVD's vectorised minibatch
fallback and ``python_epoch_pp`` SVD++'s per-user loop in plain Python (slow, the same numbers).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

#: Ratings per step of the NumPy fallback.
FALLBACK_BATCH = 256

Epoch = Callable[..., float]


@functools.cache
def numba_epoch() -> Epoch | None:
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


def numpy_epoch(users, items, ratings, order, b_u, b_i, p, q, mu, lr, reg, reg_b) -> float:
    """One epoch in minibatches of ``FALLBACK_BATCH`` ratings; the same updates, summed per batch.
    Updates the arrays in place and returns the sum of squared errors."""
    sq = 0.0
    for start in range(0, len(order), FALLBACK_BATCH):
        idx = order[start : start + FALLBACK_BATCH]
        u, i = users[idx], items[idx]
        pu, qi = p[u], q[i]
        err = ratings[idx] - (mu + b_u[u] + b_i[i] + np.einsum("nd,nd->n", pu, qi))
        sq += float(err @ err)
        np.add.at(b_u, u, lr * (err - reg_b * b_u[u]))
        np.add.at(b_i, i, lr * (err - reg_b * b_i[i]))
        np.add.at(p, u, lr * (err[:, None] * qi - reg * pu))
        np.add.at(q, i, lr * (err[:, None] * pu - reg * qi))
    return sq


def python_epoch_pp(
    users, items, ratings, order, by_user, start, b_u, b_i, p, q, y, mu, lr, reg, reg_b, reg_y
) -> float:
    """One SVD++ epoch over ``order`` (grouped by user), updating the arrays in place; returns the
    sum of squared errors. Within a user's run of ratings every ``y_j`` (``j ∈ N(u)``) receives the same
    step, so with ``c = 1 − γ λ_y`` after ``k`` steps ``y_j = c^k y_j⁰ + D`` where ``D ← c D + γ e
    |N(u)|^-½ q_i``, and the implicit term ``imp = |N(u)|^-½ Σ y_j`` follows ``imp ← c imp + γ e q_i``."""
    sq = 0.0
    d = p.shape[1]
    c = 1.0 - lr * reg_y
    pos, n = 0, len(order)
    imp = np.zeros(d)
    acc = np.zeros(d)
    while pos < n:
        u = users[order[pos]]
        rated = items[by_user[start[u] : start[u + 1]]]
        norm = 1.0 / np.sqrt(len(rated))
        imp[:] = 0.0
        for j in rated:
            imp += y[j]
        imp *= norm
        acc[:] = 0.0
        k = 0
        while pos < n and users[order[pos]] == u:
            idx = order[pos]
            i = items[idx]
            err = ratings[idx] - (mu + b_u[u] + b_i[i] + float(q[i] @ (p[u] + imp)))
            sq += err * err
            b_u[u] += lr * (err - reg_b * b_u[u])
            b_i[i] += lr * (err - reg_b * b_i[i])
            pu, qi = p[u].copy(), q[i].copy()
            p[u] += lr * (err * qi - reg * pu)
            q[i] += lr * (err * (pu + imp) - reg * qi)
            acc *= c
            acc += lr * err * norm * qi
            imp *= c
            imp += lr * err * qi
            k += 1
            pos += 1
        decay = c**k
        for j in rated:
            y[j] = decay * y[j] + acc
    return sq


@functools.cache
def numba_epoch_pp() -> Epoch | None:
    """The numba-compiled SVD++ epoch (same arithmetic as :func:`python_epoch_pp`), or ``None``."""
    try:
        import numba
    except ImportError:
        return None

    @numba.njit(cache=True, fastmath=False)
    def epoch(
        users, items, ratings, order, by_user, start, b_u, b_i, p, q, y, mu, lr, reg, reg_b, reg_y
    ):  # pragma: no cover
        sq = 0.0
        d = p.shape[1]
        c = 1.0 - lr * reg_y
        pos, n = 0, len(order)
        imp = np.zeros(d)
        acc = np.zeros(d)
        while pos < n:
            u = users[order[pos]]
            lo, hi = start[u], start[u + 1]
            norm = 1.0 / np.sqrt(hi - lo)
            imp[:] = 0.0
            for r in range(lo, hi):
                j = items[by_user[r]]
                for f in range(d):
                    imp[f] += y[j, f]
            for f in range(d):
                imp[f] *= norm
            acc[:] = 0.0
            k = 0
            while pos < n and users[order[pos]] == u:
                idx = order[pos]
                i = items[idx]
                dot = 0.0
                for f in range(d):
                    dot += q[i, f] * (p[u, f] + imp[f])
                err = ratings[idx] - (mu + b_u[u] + b_i[i] + dot)
                sq += err * err
                b_u[u] += lr * (err - reg_b * b_u[u])
                b_i[i] += lr * (err - reg_b * b_i[i])
                for f in range(d):
                    puf, qif = p[u, f], q[i, f]
                    p[u, f] += lr * (err * qif - reg * puf)
                    q[i, f] += lr * (err * (puf + imp[f]) - reg * qif)
                    acc[f] = c * acc[f] + lr * err * norm * qif
                    imp[f] = c * imp[f] + lr * err * qif
                k += 1
                pos += 1
            decay = c**k
            for r in range(lo, hi):
                j = items[by_user[r]]
                for f in range(d):
                    y[j, f] = decay * y[j, f] + acc[f]
        return sq

    return epoch
