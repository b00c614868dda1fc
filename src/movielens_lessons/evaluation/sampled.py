"""Sampled-candidate evaluation — a clearly labelled option, NOT the default. Read this first.

Each user's relevant test items are ranked only among ``n_negatives`` items sampled uniformly from the items
the user never interacted with (the NCF-style protocol), instead of among the whole catalogue. Krichene &
Rendle ("On Sampled Metrics for Item Recommendation", KDD 2020) show that metrics computed this way are not
consistent with the full-ranking metrics: they can reverse the order of two models, and they shrink the
differences between them. Results are therefore returned under names prefixed ``sampled_`` so that they can
never be mistaken for, or averaged with, the full metrics of :func:`~.evaluate.evaluate`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.evaluation.ranking import RANKING_METRICS, check_ks, ranking_metrics
from movielens_lessons.evaluation.relevance import is_member, relevant_rows


def sample_negatives(
    seen: sp.csr_matrix, n_negatives: int, rng: np.random.Generator, max_rounds: int = 50
) -> np.ndarray:
    """``(n_rows, n_negatives)`` distinct items per row, uniform among items not in that row of ``seen``."""
    n_rows, n_items = seen.shape
    free = n_items - np.diff(seen.indptr)
    if n_rows and free.min() < n_negatives:
        raise ConfigError(
            f"a user has only {int(free.min())} unseen items; cannot sample {n_negatives} negatives"
        )
    out = np.full((n_rows, n_negatives), -1, dtype=np.int64)
    filled = np.zeros(n_rows, dtype=np.int64)
    todo = np.arange(n_rows)
    for round_ in range(max_rounds):
        if len(todo) == 0:
            break
        draw = rng.integers(0, n_items, size=(len(todo), 2 * n_negatives))
        rows = np.broadcast_to(todo[:, None], draw.shape)
        ok = ~is_member(rows, draw, seen)
        # drop repeats within the row and items already taken in an earlier round
        if round_:  # only the few rows still short of negatives get here
            prev = out[todo]
            ok &= ~(draw[:, :, None] == prev[:, None, :]).any(axis=2)
        ok &= first_in_row(draw)
        slot = filled[todo][:, None] + np.cumsum(ok, axis=1) - 1
        take = ok & (slot < n_negatives)
        r, c = np.nonzero(take)
        out[todo[r], slot[r, c]] = draw[r, c]
        filled[todo] += take.sum(axis=1)
        todo = todo[filled[todo] < n_negatives]
    if len(todo):
        raise ConfigError("could not sample enough negatives; lower n_negatives")
    return out


def sampled_evaluate(
    scorer: Callable[[np.ndarray], np.ndarray],
    test: Dataset,
    train: Dataset,
    *,
    n_negatives: int = 100,
    k: int | Sequence[int] = (10,),
    metrics: Sequence[str] = RANKING_METRICS,
    relevance_threshold: float | None = None,
    seed: int = 0,
    chunk_size: int = 1024,
) -> dict[str, float]:
    """Mean ranking metrics over each user's relevant items + ``n_negatives`` sampled negatives.

    ``scorer(users) -> (len(users), n_items)`` scores internal users. Returns ``{"sampled_ndcg@10": …}``.
    Ties are broken at random, so a constant scorer is not rewarded for the candidates' order.
    """
    ks = check_ks(k)
    rng = np.random.default_rng(seed)
    users, relevant = relevant_rows(test, relevance_threshold)
    seen = (train.implicit()[users] + test.implicit()[users]).tocsr()
    seen.sort_indices()
    negatives = sample_negatives(seen, n_negatives, rng)
    n_rel = np.diff(relevant.indptr)
    width = int(n_rel.max()) + n_negatives
    cand = np.full((len(users), width), -1, dtype=np.int64)
    col = np.arange(relevant.nnz) - np.repeat(relevant.indptr[:-1], n_rel)
    cand[np.repeat(np.arange(len(users)), n_rel), col] = relevant.indices
    cand[np.arange(len(users))[:, None], n_rel[:, None] + np.arange(n_negatives)] = negatives
    ranked = np.empty((len(users), min(ks[-1], width)), dtype=np.int64)
    for start in range(0, len(users), chunk_size):
        stop = min(start + chunk_size, len(users))
        s = np.asarray(scorer(users[start:stop]), dtype=np.float64)
        c = cand[start:stop]
        cs = np.where(c >= 0, np.take_along_axis(s, np.maximum(c, 0), axis=1), -np.inf)
        tie = rng.random(c.shape)
        order = np.lexsort((tie, -cs), axis=1)[:, : ranked.shape[1]]
        ranked[start:stop] = np.take_along_axis(c, order, axis=1)
    vals = ranking_metrics(ranked, relevant, ks, metrics)
    return {f"sampled_{m}@{kk}": float(v[:, j].mean()) for m, v in vals.items()
            for j, kk in enumerate(ks)}


def first_in_row(values: np.ndarray) -> np.ndarray:
    """Boolean mask, shape of the 2-D ``values``: True where a value occurs for the first time in its
    row (left to right), False at its repeats."""
    order = np.argsort(values, axis=1, kind="stable")  # stable: the leftmost copy sorts first
    ordered = np.take_along_axis(values, order, axis=1)
    first = np.ones_like(ordered, dtype=bool)
    first[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    out = np.empty_like(first)
    np.put_along_axis(out, order, first, axis=1)
    return out
