"""Top-k selection over dense score rows: the one place that turns scores into ranked lists (with the\ncheck of ``k`` and the masking of seen items that precede it)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movielens_lessons.errors import ConfigError
from movielens_lessons.recommendations import PAD_ITEM


def check_k(k: int) -> int:
    """``k`` as a Python int; a bool, non-integer or ``k <= 0`` is a :class:`ConfigError`."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    return int(k)


def mask_seen(block: np.ndarray, seen: sp.csr_matrix, users: np.ndarray) -> None:
    """Set to ``-inf``, in place, the entries of ``block`` (``(len(users), n_items)`` scores) of the items
    each of ``users`` (internal ids, rows of ``seen``) interacted with, so that top-k never picks them."""
    rows = seen[users]
    block[np.repeat(np.arange(len(users)), np.diff(rows.indptr)), rows.indices] = -np.inf


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` columns of each row of ``scores`` (shape ``(n, n_items)``), best first.

    Entries equal to ``-inf`` or NaN are never selected; rows with fewer than ``k`` selectable entries are
    padded with item -1 and score NaN. Ties are broken by the lower item id, so results are deterministic.
    Returns ``(items int64 (n, k), scores float32 (n, k))``.
    """
    n, n_items = scores.shape
    kk = min(k, n_items)
    work = np.where(np.isnan(scores), -np.inf, scores)
    if kk < n_items:
        part = np.argpartition(-work, kk - 1, axis=1)[:, :kk]
    else:
        part = np.broadcast_to(np.arange(n_items), (n, n_items)).copy()
    part_scores = np.take_along_axis(work, part, axis=1)
    # sort by score descending, then item id ascending (lexsort: last key is primary)
    order = np.lexsort((part, -part_scores), axis=1)
    items = np.take_along_axis(part, order, axis=1).astype(np.int64)
    vals = np.take_along_axis(part_scores, order, axis=1).astype(np.float32)
    if kk < n_items:
        # argpartition may cut a tie at the k-th score arbitrarily; pull in any lower-id item with the
        # same score so that ties always go to the lower item id.
        kth = vals[:, -1:]
        tied = (work == kth) & np.isfinite(kth)
        needs_fix = tied.sum(axis=1) > (vals == kth).sum(axis=1)
        for row in np.flatnonzero(needs_fix):
            items[row], vals[row] = _exact_row(work[row], kk)
    invalid = ~np.isfinite(vals)
    items[invalid] = PAD_ITEM
    vals[invalid] = np.nan
    if kk < k:
        pad_i = np.full((n, k - kk), PAD_ITEM, dtype=np.int64)
        pad_s = np.full((n, k - kk), np.nan, dtype=np.float32)
        items, vals = np.hstack([items, pad_i]), np.hstack([vals, pad_s])
    return items, vals


def _exact_row(row: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((np.arange(len(row)), -row))[:k]
    return order.astype(np.int64), row[order].astype(np.float32)
