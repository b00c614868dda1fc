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
#: ``map_ids`` builds a lookup table only for at least one value per this many table entries.
_TABLE_SPAN_PER_VALUE = 16


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
        # a table costs a pass over its whole span, a binary search ~log2(len(id_map)) steps per
        # value: the table pays for many values (a Dataset, a batch), not for a request's handful
        many = hi - lo + 1 <= _TABLE_SPAN_PER_VALUE * len(values)
        if many and _dense_span(lo, hi, len(values) + len(id_map)):
            # index the table by the value itself when it may start at 0: saves a full-size copy
            base = 0 if lo >= 0 and _dense_span(0, hi, len(values) + len(id_map)) else lo
            table = np.full(hi - base + 1, -1, dtype=np.int64)
            table[id_map - base] = np.arange(len(id_map))
            return table[values] if base == 0 else table[values - base]
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
    # keys are built in place in one uint64 array (modular arithmetic: the same bits as int64 math)
    if timestamps is None:
        key = users.astype(np.uint64)
        key *= np.uint64(max(n_items, 1))
        key += items.astype(np.uint64)
        return _sort_packed(key)
    if len(timestamps):
        t = timestamps.astype(np.int64)  # a copy, shifted in place below
        t -= int(timestamps.min())
    else:
        t = np.asarray(timestamps, dtype=np.int64)
    span = int(t.max()) + 1 if len(t) else 1
    bits_u, bits_i = _bits(n_users), _bits(n_items)
    if bits_u + _bits(span) + bits_i > 64:
        t = np.unique(timestamps, return_inverse=True)[1].astype(np.int64)
        span = int(t.max()) + 1
    bits_t = _bits(span)
    if bits_u + bits_t + bits_i > 64:
        return np.lexsort((np.arange(len(users)), items, timestamps, users))
    key = users.astype(np.uint64)
    key <<= np.uint64(bits_t + bits_i)
    t = t.view(np.uint64)  # non-negative offsets or ranks
    t <<= np.uint64(bits_i)
    key |= t
    key |= items.astype(np.uint64)
    return _sort_packed(key)


def _sort_packed(key: np.ndarray) -> np.ndarray:
    """Stable argsort of uint64 ``key`` (which it may overwrite)."""
    n = len(key)
    shift = max(n - 1, 1).bit_length()
    if n > 1 and int(key.max()).bit_length() + shift <= 64:
        # the row number in the low bits makes every key distinct, so one plain value sort (SIMD,
        # ~3x faster than argsort) yields the stable order: equal keys keep their input order
        key <<= np.uint64(shift)
        key |= np.arange(n, dtype=np.uint64)
        key.sort()
        key &= np.uint64((1 << shift) - 1)
        return key.view(np.intp)
    order = np.argsort(key)  # vectorised introsort: much faster than a stable sort
    ordered = key[order]
    if len(key) > 1 and (ordered[1:] == ordered[:-1]).any():
        order = np.argsort(key, kind="stable")  # equal keys must keep their input order
    return order


def later_duplicates(users: np.ndarray, items: np.ndarray, n_items: int) -> np.ndarray:
    """Mask of rows whose (user, item) pair occurs again later in the given order.

    Applied to interactions in (user, timestamp, item) order, keeping ``~mask`` keeps the latest
    interaction of each pair (on equal timestamps, the last row of the input). Most data has no
    duplicates: that is checked first by comparing neighbours of the sorted keys (no sort at all when
    the keys are already in order, e.g. without timestamps); only then are the pairs hashed.
    """
    key = users.astype(np.int64) * max(n_items, 1) + items.astype(np.int64)
    if len(key) < 2:
        return np.zeros(len(key), dtype=bool)
    ordered = key if bool((key[1:] >= key[:-1]).all()) else np.sort(key)
    if not bool((ordered[1:] == ordered[:-1]).any()):
        return np.zeros(len(key), dtype=bool)
    return pd.Series(key).duplicated(keep="last").to_numpy()
