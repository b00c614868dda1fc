"""Id maps and interaction order: the O(n) paths that make building a ``Dataset`` fast at ML-32M scale.

External ids are mapped through a dense lookup table when their range is compact (MovieLens ids are), and
fall back to a binary search otherwise. Interactions are ordered by one argsort of a packed integer key
instead of a multi-key ``lexsort``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A lookup table may span up to this many entries per mapped value (plus a fixed 16 M floor):
#: beyond that, a binary search is cheaper in memory.
_DENSE_SPAN_PER_VALUE = 4
_DENSE_SPAN_FLOOR = 1 << 24


def _dense_span(lo: int, hi: int, n: int) -> bool:
    return hi - lo + 1 <= max(_DENSE_SPAN_PER_VALUE * n, _DENSE_SPAN_FLOOR)


def distinct_ids(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (the id map), O(n) for compact integer ranges."""
    values = np.asarray(values)
    if len(values) and np.issubdtype(values.dtype, np.integer):
        lo, hi = int(values.min()), int(values.max())
        if _dense_span(lo, hi, len(values)):
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[values - lo] = True
            return (np.flatnonzero(present) + lo).astype(values.dtype)
    return np.unique(values)


def map_ids(values: np.ndarray, id_map: np.ndarray) -> np.ndarray:
    """Position of each value in the sorted ``id_map`` (int64), -1 where a value is not in it."""
    values = np.asarray(values)
    id_map = np.asarray(id_map)
    if len(values) == 0:
        return np.empty(0, dtype=np.int64)
    if len(id_map) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    if np.issubdtype(values.dtype, np.integer) and np.issubdtype(id_map.dtype, np.integer):
        lo = min(int(values.min()), int(id_map[0]))
        hi = max(int(values.max()), int(id_map[-1]))
        if _dense_span(lo, hi, len(values) + len(id_map)):
            table = np.full(hi - lo + 1, -1, dtype=np.int64)
            table[id_map - lo] = np.arange(len(id_map))
            return table[values - lo]
    pos = np.minimum(np.searchsorted(id_map, values), len(id_map) - 1)
    return np.where(id_map[pos] == values, pos, -1).astype(np.int64)


def _bits(n: int) -> int:
    return max(int(n - 1).bit_length(), 1)


def interaction_order(
    users: np.ndarray,
    items: np.ndarray,
    timestamps: np.ndarray | None,
    n_users: int,
    n_items: int,
) -> np.ndarray:
    """Stable order of interactions by (user, timestamp, item); equal triples keep their input order.

    Packs the three keys into one unsigned 64-bit key when they fit (timestamps as offsets, or as dense
    ranks when the offsets are too wide) and sorts once with NumPy's fast unstable sort; only when some
    triples are equal (exact duplicates) is a stable sort needed to keep their input order. Falls back to
    ``np.lexsort`` when even ranks do not fit.
    """
    u = users.astype(np.int64)
    i = items.astype(np.int64)
    if timestamps is None:
        return _sort_packed((u * max(n_items, 1) + i).astype(np.uint64))
    t = timestamps.astype(np.int64) - int(timestamps.min()) if len(timestamps) else timestamps
    span = int(t.max()) + 1 if len(t) else 1
    bits_u, bits_i = _bits(n_users), _bits(n_items)
    if bits_u + _bits(span) + bits_i > 64:
        t = np.unique(timestamps, return_inverse=True)[1].astype(np.int64)
        span = int(t.max()) + 1
    bits_t = _bits(span)
    if bits_u + bits_t + bits_i > 64:
        return np.lexsort((np.arange(len(u)), i, timestamps, u))
    key = (
        (u.astype(np.uint64) << np.uint64(bits_t + bits_i))
        | (t.astype(np.uint64) << np.uint64(bits_i))
        | i.astype(np.uint64)
    )
    return _sort_packed(key)


def _sort_packed(key: np.ndarray) -> np.ndarray:
    order = np.argsort(key)  # vectorised introsort: much faster than a stable sort
    ordered = key[order]
    if len(key) > 1 and (ordered[1:] == ordered[:-1]).any():
        order = np.argsort(key, kind="stable")  # equal keys must keep their input order
    return order


def later_duplicates(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Mask of rows whose (user, item) pair occurs again later in the given order.

    Applied to interactions in (user, timestamp, item) order, keeping ``~mask`` keeps the latest
    interaction of each pair (on equal timestamps, the last row of the input). Hash-based, O(n).
    """
    key = users.astype(np.int64) * max(n_items, 1) + items.astype(np.int64)
    return pd.Series(key).duplicated(keep="last").to_numpy()
