"""Relevant sets (which test items count as hits) and the hit matrix of a set of top-K lists.

Relevant sets are a CSR matrix ``(n_rows, n_items)`` whose row ``r`` belongs to the user of row ``r`` of the
recommended-ids matrix. Membership of millions of (row, item) pairs is tested with one sorted search over
``row * n_items + item`` keys, never a Python loop over users.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import DataValidationError


def relevant_matrix(test: Dataset, relevance_threshold: float | None = None) -> sp.csr_matrix:
    """Binary CSR ``(test.n_users, test.n_items)``: 1 where the test interaction counts as relevant.

    Relevant = any test interaction (default) or, with ``relevance_threshold`` t, a test rating ≥ t.
    """
    if relevance_threshold is None:
        mask = np.ones(test.n_interactions, dtype=bool)
    else:
        if test.ratings is None:
            raise DataValidationError(
                f"relevance threshold {relevance_threshold} needs ratings; the test data has none"
            )
        mask = test.ratings >= relevance_threshold
    m = sp.csr_matrix(
        (np.ones(int(mask.sum()), dtype=np.float32), (test.users[mask], test.items[mask])),
        shape=(test.n_users, test.n_items),
    )
    m.sum_duplicates()
    m.sort_indices()
    return m


def relevant_rows(
    test: Dataset, relevance_threshold: float | None = None
) -> tuple[np.ndarray, sp.csr_matrix]:
    """Users with ≥ 1 relevant test item and their relevant sets.

    Returns ``(users, relevant)``: internal user ids ``(n_eval,)`` ascending, and CSR ``(n_eval, n_items)``.
    """
    full = relevant_matrix(test, relevance_threshold)
    users = np.flatnonzero(np.diff(full.indptr)).astype(np.int64)
    return users, full[users]


def is_member(rows: np.ndarray, items: np.ndarray, sets: sp.csr_matrix) -> np.ndarray:
    """Whether ``items[j]`` is in row ``rows[j]`` of ``sets`` (any shapes, same shape); negatives → False.

    ``sets`` must have sorted indices (CSR rows are then sorted keys ``row * n_cols + col`` overall).
    """
    n_cols = max(sets.shape[1], 1)
    keys = _keys(sets)
    q = rows.astype(np.int64) * n_cols + items
    if len(keys) == 0:
        return np.zeros(q.shape, dtype=bool)
    pos = np.searchsorted(keys, q)
    np.minimum(pos, len(keys) - 1, out=pos)
    return (keys[pos] == q) & (items >= 0)


def _keys(sets: sp.csr_matrix) -> np.ndarray:
    if not sets.has_sorted_indices:
        sets = sets.sorted_indices()
    row_of = np.repeat(np.arange(sets.shape[0], dtype=np.int64), np.diff(sets.indptr))
    return row_of * max(sets.shape[1], 1) + sets.indices.astype(np.int64)


def hit_matrix(rec_items: np.ndarray, relevant: sp.csr_matrix) -> np.ndarray:
    """Boolean ``(n_rows, K)``: whether the item at each rank of row ``r`` is in relevant row ``r``.

    ``rec_items`` holds internal item ids ``(n_rows, K)``; negative ids (padding -1, unknown items -2)
    are never hits.
    """
    rec_items = np.asarray(rec_items)
    if rec_items.shape[0] != relevant.shape[0]:
        raise ValueError(
            f"rec_items has {rec_items.shape[0]} rows but relevant has {relevant.shape[0]}"
        )
    if not relevant.has_sorted_indices:
        relevant = relevant.sorted_indices()
    if relevant.shape[1] > _DENSE_ROW_MAX or rec_items.ndim != 2:
        rows = np.broadcast_to(np.arange(rec_items.shape[0])[:, None], rec_items.shape)
        return is_member(rows, rec_items, relevant)
    return _hits_dense(rec_items, relevant)


#: Above this many items a dense row per user is too wide; the sorted search is used instead.
_DENSE_ROW_MAX = 1 << 22


def _hits_dense(rec_items: np.ndarray, relevant: sp.csr_matrix, chunk_bytes: int = 4 << 20):
    """``hit_matrix`` through a reused dense boolean block of relevant rows (~4 MiB, cache-sized).

    For each block of users: set the relevant items, read the recommended ones, clear what was set.
    Every access stays within the block, so this is O(n_relevant + n_rows · K) with few cache misses —
    about 10× faster than a binary search of each of 16 M (row, item) keys among 5 M.
    """
    n_rows, n_cols = rec_items.shape[0], max(relevant.shape[1], 1)
    out = np.zeros(rec_items.shape, dtype=bool)
    chunk = max(1, chunk_bytes // n_cols)
    block = np.zeros(chunk * n_cols, dtype=bool)
    indptr, indices = relevant.indptr, relevant.indices
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        lo, hi = indptr[start], indptr[stop]
        base = np.arange(stop - start, dtype=np.int64) * n_cols
        set_at = np.repeat(base, np.diff(indptr[start : stop + 1])) + indices[lo:hi]
        block[set_at] = True
        r = rec_items[start:stop]
        ok = (r >= 0) & (r < n_cols)  # padding (-1) and unknown items (-2) are never hits
        out[start:stop] = block[base[:, None] + np.where(ok, r, 0)] & ok
        block[set_at] = False
    return out


def check_unique_rows(rec_items: np.ndarray, what: str = "recommendations") -> None:
    """Raise if any row of ``rec_items`` recommends the same known item twice (it would count twice)."""
    if rec_items.size == 0:
        return
    s = np.sort(rec_items, axis=1)
    dup = (s[:, 1:] == s[:, :-1]) & (s[:, 1:] >= 0)
    if dup.any():
        r, c = np.argwhere(dup)[0]
        raise DataValidationError(
            f"{what}: row {r} recommends item {s[r, c]} twice; each item may appear once per user"
        )
