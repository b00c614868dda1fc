"""Fast id maps and interaction order, checked against the plain NumPy reference (unique/lexsort)."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.data import indexing
from movielens_lessons.data.indexing import (
    distinct_ids,
    interaction_order,
    later_duplicates,
    map_ids,
)


@pytest.mark.parametrize("high", [50, 10**12])  # dense lookup table, and the binary-search fallback
def test_ids_match_unique_and_searchsorted(high: int) -> None:
    rng = np.random.default_rng(0)
    values = rng.integers(1, high, 5000)
    id_map = distinct_ids(values)
    np.testing.assert_array_equal(id_map, np.unique(values))
    np.testing.assert_array_equal(map_ids(values, id_map), np.searchsorted(id_map, values))
    probe = np.array([0, high + 5, int(id_map[3])])
    assert map_ids(probe, id_map).tolist() == [-1, -1, 3]


def test_empty_inputs() -> None:
    assert map_ids(np.array([], dtype=np.int64), np.array([1, 2])).shape == (0,)
    assert map_ids(np.array([1]), np.array([], dtype=np.int64)).tolist() == [-1]


def _reference(users, items, ts):
    return np.lexsort((np.arange(len(users)), items, ts, users))


@pytest.mark.parametrize("ts_high", [10**6, 2**62])  # packed offsets, and dense ranks
def test_order_matches_lexsort_with_ties(ts_high: int) -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    users = rng.integers(0, 300, n)
    items = rng.integers(0, 500, n)
    ts = rng.integers(0, ts_high, n)
    ts[::7] = ts[0]  # many equal timestamps
    users[::11], items[::11], ts[::11] = 5, 9, 42  # exact duplicate triples: input order must hold
    np.testing.assert_array_equal(
        interaction_order(users, items, ts, 300, 500), _reference(users, items, ts)
    )


def test_order_falls_back_to_lexsort_when_keys_do_not_fit(monkeypatch) -> None:
    rng = np.random.default_rng(2)
    users, items, ts = rng.integers(0, 9, 500), rng.integers(0, 9, 500), rng.integers(0, 99, 500)
    # pretend the id spaces are huge so that no packing fits in 64 bits
    np.testing.assert_array_equal(
        interaction_order(users, items, ts, 2**40, 2**40), _reference(users, items, ts)
    )
    monkeypatch.setattr(indexing, "_bits", lambda n: 1)
    np.testing.assert_array_equal(
        interaction_order(users, items, None, 9, 9), np.lexsort((np.arange(500), items, users))
    )


def test_later_duplicates_keeps_the_last_of_each_pair() -> None:
    users = np.array([0, 0, 1, 0, 1])
    items = np.array([3, 4, 3, 3, 3])
    assert later_duplicates(users, items, 5).tolist() == [True, False, True, False, False]
