"""Which movies each synthetic user rates: distinct items ∝ popularity × exp(taste), vectorised.

:func:`sample_items` is the sampler behind :func:`movielens_lessons.data.synth.synthesize`. The
target is: user ``u`` picks distinct movies with weights ``pop_i · exp(beta <p_u, q_i>)``. Sampling
without replacement is vectorised per chunk of users (never a loop over ratings): each user draws a
candidate pool (3 × their quota) from a cheap, flatter, taste-aware proposal (k-means clusters of
the item factors, see :class:`_Proposal`), duplicates are dropped, and a Gumbel-top-k on the
importance weights keeps the quota (sampling-importance-resampling). Users whose quota is large
relative to the catalogue, or whose pool came up short, get an exact Gumbel-top-k over all items.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

_BETA = 4.0  # weight of <p, q> in choosing items: how much taste (vs popularity) drives ratings
_POOL_FACTOR = 3.0  # candidates drawn per rating a user must give
_TEMPER = 0.5  # the proposal's popularity and taste are the target's to this power: fewer repeats
_LATE_PENALTY = 5.0  # logit penalty for a movie released after the user stopped rating
_CHUNK = 4_000_000  # candidates per chunk: bounds the memory of the sampler


def sample_items(
    rng: np.random.Generator,
    p: np.ndarray,
    q: np.ndarray,
    log_pop: np.ndarray,
    counts: np.ndarray,
    release: np.ndarray,
    win_end: np.ndarray,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct items per user: ``(users, items, <p_u, q_i>)``, sorted by user then item.

    ``p`` is ``(n_users, d)`` and ``q`` ``(n_items, d)`` float32 factors; ``log_pop`` is
    ``(n_items,)``, the log popularity; ``counts`` is ``(n_users,)``, how many items each user rates
    (``1 .. n_items``); ``release`` ``(n_items,)`` and ``win_end`` ``(n_users,)`` are epoch seconds
    (a movie released after the user's window ends is heavily penalised). Returns three
    ``(counts.sum(),)`` arrays: int32 internal user and item ids and the float32 dot products.
    ``progress(users_done, n_users)`` is called per chunk.
    """
    n_users, n_items = len(counts), len(q)
    proposal = _Proposal(rng, q, log_pop)
    pool = np.ceil(_POOL_FACTOR * counts).astype(np.int64) + 10
    dense = pool * 2 > n_items  # a pool this large would mostly repeat items: sample exactly
    pool[dense] = 0
    cost = np.cumsum(pool + counts * dense)
    edges = np.searchsorted(cost, np.arange(_CHUNK, cost[-1], _CHUNK))
    bounds = np.unique(np.concatenate([[0], edges, [n_users]]))
    parts = []
    for a, b in itertools.pairwise(bounds):
        pb, wb = p[a:b], win_end[a:b]
        u, i, d = _pool_sample(rng, proposal, pb, q, counts[a:b], pool[a:b], release, wb)
        redo = np.flatnonzero(np.bincount(u, minlength=b - a) < counts[a:b])  # dense, short pools
        if len(redo):
            keep = ~np.isin(u, redo)
            du, di = _dense_sample(rng, pb, q, log_pop, counts[a:b], redo, release, wb)
            u, i = np.concatenate([u[keep], du]), np.concatenate([i[keep], di])
            d = np.concatenate([d[keep], np.einsum("ij,ij->i", pb[du], q[di])])
            order = np.argsort(u * n_items + i)
            u, i, d = u[order], i[order], d[order]
        parts.append((u.astype(np.int32) + np.int32(a), i.astype(np.int32), d))
        if progress is not None:
            progress(int(b), n_users)
    users, items, dots = (np.concatenate([part[k] for part in parts]) for k in range(3))
    return users, items, dots


class _Proposal:
    """A taste-aware proposal for ``pop_i · exp(beta <p_u, q_i>)``, cheap to draw from.

    Items are clustered by their factors (k-means); a draw picks a cluster ``k`` with probability
    ``∝ mass_k · exp(beta/2 <p_u, c_k>)`` and then an item of that cluster ``∝ sqrt(pop_i)``. Both are
    flatter than the target, so that a user's draws repeat few items; :meth:`log_weight` is the
    importance weight (target / proposal, up to a per-user constant) that the selection corrects with.
    """

    def __init__(self, rng: np.random.Generator, q: np.ndarray, log_pop: np.ndarray) -> None:
        n_clusters = int(np.clip(len(q) // 20, 1, 256))
        self.centers, label = _kmeans(rng, q, n_clusters)
        self.label = label
        self.log_pop = log_pop
        self.items = np.argsort(label, kind="stable")  # item ids grouped by cluster
        pop = np.exp(_TEMPER * (log_pop - log_pop.max()))
        mass = np.bincount(label, weights=pop, minlength=n_clusters)
        self.log_mass = np.log(np.maximum(mass, 1e-300))
        self.start = np.searchsorted(label[self.items], np.arange(n_clusters))
        self.end = np.append(self.start[1:], len(q))
        w = pop[self.items]
        before = np.concatenate([[0.0], np.cumsum(w)])[self.start]  # mass of earlier clusters
        lab = label[self.items]
        # Cluster index + the within-cluster CDF: one increasing array for all clusters.
        self.grid = lab + (np.cumsum(w) - before[lab]) / np.maximum(mass[lab], 1e-300)

    def draw(self, rng: np.random.Generator, p: np.ndarray, pool: np.ndarray):
        """``pool[u]`` draws for each (local) user ``u``: ``(user, item, <p_u, c>)``, sorted by user.

        ``<p_u, c>`` is the ``(n_users, n_clusters)`` matrix of tastes for the cluster centres.
        """
        n_clusters = len(self.centers)
        taste = p @ self.centers.T
        logit = self.log_mass[None, :] + _TEMPER * _BETA * taste.astype(np.float64)
        prob = np.exp(logit - logit.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        # How many of each user's draws fall in each cluster, then an item per draw in its cluster.
        cell = np.repeat(np.arange(prob.size), rng.multinomial(pool, prob).ravel())
        cu, k = np.divmod(cell, n_clusters)
        pos = np.searchsorted(self.grid, k + rng.random(len(cell)))
        return cu, self.items[np.clip(pos, self.start[k], self.end[k] - 1)], taste

    def log_weight(self, p, q, taste, cu, ci) -> tuple[np.ndarray, np.ndarray]:
        """``log(target / proposal)`` (up to a per-user constant) and ``<p_u, q_i>``, float32."""
        dots = np.einsum("ij,ij->i", p[cu], q[ci])
        near = taste[cu, self.label[ci]]
        return (1 - _TEMPER) * self.log_pop[ci] + _BETA * (dots - _TEMPER * near), dots


def _kmeans(rng: np.random.Generator, x: np.ndarray, k: int, n_iter: int = 6):
    """Lloyd's k-means: ``(centers (k, d), label (n,))``; a few iterations are plenty here."""
    centers = x[rng.choice(len(x), k, replace=False)]
    for _ in range(n_iter + 1):
        label = np.argmin((centers**2).sum(axis=1) - 2 * x @ centers.T, axis=1)
        count = np.bincount(label, minlength=k)
        sums = np.stack(
            [np.bincount(label, weights=x[:, j], minlength=k) for j in range(x.shape[1])], 1
        )
        centers = np.where(count[:, None] > 0, sums / np.maximum(count, 1)[:, None], centers)
        centers = centers.astype(np.float32)
    return centers, label


def _pool_sample(rng, proposal, p, q, counts, pool, release, win_end):
    """Gumbel-top-k over each user's deduplicated candidates from the proposal (local user ids)."""
    n_items = len(q)
    cu, ci, taste = proposal.draw(rng, p, pool)
    if not len(cu):  # every user of the chunk is sampled exactly
        return cu, ci, np.empty(0, dtype=np.float32)
    key = np.sort(cu * n_items + ci)
    first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    times = np.diff(np.append(first, len(key))).astype(np.float32)
    cu, ci = np.divmod(key[first], n_items)
    # Importance weight target/proposal, times the multiplicity that deduplication would lose.
    score, dots = proposal.log_weight(p, q, taste, cu, ci)
    score += np.log(times)
    score += rng.gumbel(size=len(cu)).astype(np.float32)
    score -= _LATE_PENALTY * (release[ci] > win_end[cu])
    # Sort by (user, score descending) with one stable float sort: cu is already sorted.
    lo, hi = float(score.min()), float(score.max())
    order = np.argsort(cu + 0.9 * (hi - score.astype(np.float64)) / (hi - lo + 1e-9), kind="stable")
    sorted_u = cu[order]
    rank = np.arange(len(order)) - np.searchsorted(sorted_u, sorted_u)
    chosen = np.sort(order[rank < counts[sorted_u]])
    return cu[chosen], ci[chosen], dots[chosen]


def _dense_sample(rng, p, q, log_pop, counts, which, release, win_end):
    """Exact Gumbel-top-k over all items for the (local) users ``which``."""
    out_u, out_i = [], []
    batch = max(1, 2_000_000 // len(q))
    for s in range(0, len(which), batch):
        w = which[s : s + batch]
        logit = log_pop[None, :] + _BETA * (p[w] @ q.T) + rng.gumbel(size=(len(w), len(q)))
        logit -= _LATE_PENALTY * (release[None, :] > win_end[w, None])
        # The top count_u of each row: partition to the largest count, then order those few.
        need = counts[w]
        top = np.argpartition(-logit, int(need.max()) - 1, axis=1)[:, : int(need.max())]
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(logit, top, 1), axis=1), 1)
        rows, cols = np.nonzero(np.arange(top.shape[1])[None, :] < need[:, None])
        out_u.append(w[rows])
        out_i.append(top[rows, cols])
    return np.concatenate(out_u), np.concatenate(out_i)
