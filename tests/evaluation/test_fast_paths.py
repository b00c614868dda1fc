"""The fast paths behind the 160,000-user benchmark, each checked against the plain computation it replaces.

Covers the evaluation side (dense-block hit matrix, pruned popular-list test, slot sums, buffered bootstrap
counts) and the construction steps the benchmark times (``Recommendations.from_frame``, and the
packed-key ordering and duplicate check of ``data/indexing.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.indexing import interaction_order, later_duplicates
from movielens_lessons.errors import DataValidationError
from movielens_lessons.evaluation import beyond_accuracy as B
from movielens_lessons.evaluation import bootstrap as boot
from movielens_lessons.evaluation.relevance import _hits_dense, hit_matrix, is_member
from movielens_lessons.recommendations import PAD_ITEM, UNKNOWN_ITEM, Recommendations


def _random_sets(rng, n_rows: int, n_items: int, density: float) -> sp.csr_matrix:
    m = sp.random(n_rows, n_items, density=density, format="csr", random_state=rng)
    m.data[:] = 1
    return m


@pytest.mark.parametrize("chunk_bytes", [64, 1000, 4 << 20])  # many blocks, a few, one
def test_dense_hit_matrix_matches_the_sorted_search(chunk_bytes: int) -> None:
    rng = np.random.default_rng(0)
    relevant = _random_sets(rng, 300, 97, 0.1)
    keep = np.ones(300)
    keep[5] = 0  # an empty row
    relevant = sp.csr_matrix(sp.diags(keep) @ relevant)
    relevant.eliminate_zeros()
    assert relevant[5].nnz == 0
    rec = rng.integers(-2, 97, (300, 12))  # -1 padding and -2 unknown items among them
    rows = np.broadcast_to(np.arange(300)[:, None], rec.shape)
    expected = is_member(rows, rec, relevant)
    assert expected.any() and not expected.all()
    np.testing.assert_array_equal(_hits_dense(rec, relevant, chunk_bytes), expected)
    np.testing.assert_array_equal(hit_matrix(rec, relevant), expected)


def test_hit_matrix_accepts_unsorted_indices() -> None:
    # row 0 holds items 4 and 1 in that order
    relevant = sp.csr_matrix((np.ones(3), np.array([4, 1, 2]), np.array([0, 2, 3])), shape=(2, 6))
    assert not relevant.has_sorted_indices
    got = hit_matrix(np.array([[1, 3, 4], [2, -1, 0]]), relevant)
    assert got.tolist() == [[True, False, True], [True, False, False]]


def test_popular_top_k_with_heavy_users_matches_building_the_lists() -> None:
    # users with many training items among the most popular: the pruned keys must still give the
    # exact list (and items far down the popularity order must never be in it)
    rng = np.random.default_rng(5)
    n_items, n_users, k = 60, 12, 5
    counts = rng.integers(0, 40, n_items)
    order = np.lexsort((np.arange(n_items), -counts))
    rows = [list(rng.choice(order[:30], rng.integers(0, 25), replace=False)) for _ in range(n_users)]
    train = sp.csr_matrix(
        (np.ones(sum(map(len, rows))), np.concatenate([np.array(r, dtype=int) for r in rows]),
         np.cumsum([0, *map(len, rows)])), shape=(n_users, n_items))
    users = np.repeat(np.arange(n_users), n_items)
    items = np.tile(np.arange(n_items), n_users)
    got = B.in_popular_top_k(users, items, k, counts, train)
    for u, i, g in zip(users, items, got, strict=True):
        top = [j for j in order if j not in rows[u]][:k]
        assert g == (i in top)
    # a COO matrix is accepted too
    np.testing.assert_array_equal(B.in_popular_top_k(users, items, k, counts, train.tocoo()), got)


def test_slot_sums_are_exactly_the_running_sums() -> None:
    rng = np.random.default_rng(2)
    rec = rng.integers(-2, 40, (200, 15))
    counts = rng.integers(0, 9, 40)
    info = B.self_information(counts, 50)
    ks = (1, 7, 15, 20)  # 20 > list length: the full list
    s, n = B.novelty_parts(rec, counts, 50, ks)
    vals = np.where(rec >= 0, info[np.maximum(rec, 0)], np.log2(50))
    vals = np.where(rec != -1, vals, 0.0)
    cols = [0, 6, 14, 14]
    # bit-identical to the row-wise cumsum the summary used before
    np.testing.assert_array_equal(s, np.cumsum(vals, axis=1)[:, cols])
    np.testing.assert_array_equal(n, np.cumsum(rec != -1, axis=1)[:, cols])
    empty = np.empty((0, 15), dtype=np.int64)
    assert B.arp_parts(empty, counts, ks)[0].shape == (0, 4)


@pytest.mark.parametrize("n", [20_001, 30_003])  # the Poisson path, with n·R not a multiple of 4
def test_buffered_poisson_counts_match_the_table(n: int) -> None:
    r = 3
    raw = np.random.default_rng(9).bit_generator.random_raw(-(-n * r // 4))
    expected = boot._TABLE[raw.view(np.uint16)[: n * r]].reshape(r, n).astype(np.float64)
    buf = np.full(n * r + 7, -1.0)
    got = boot.resample_counts(n, r, np.random.default_rng(9), out=buf)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(boot.resample_counts(n, r, np.random.default_rng(9)), expected)


def test_buffered_multinomial_counts_match() -> None:
    a = boot.resample_counts(50, 4, np.random.default_rng(1))
    b = boot.resample_counts(50, 4, np.random.default_rng(1), out=np.empty(500))
    np.testing.assert_array_equal(a, b)
    assert (a.sum(axis=1) == 50).all()


def test_recommendations_from_frame_places_every_row() -> None:
    rng = np.random.default_rng(3)
    user_ids, item_ids = np.arange(10, 40), np.arange(100, 160)
    rows = []
    for u in rng.choice(user_ids, 12, replace=False):
        n = int(rng.integers(1, 6))
        ranks = rng.choice(np.arange(1, 8), n, replace=False)  # gaps are padding
        items = rng.choice(np.arange(100, 170), n, replace=False)  # 160..169 unknown
        rows += [(int(u), int(i), int(r), float(-r)) for i, r in zip(items, ranks, strict=True)]
    frame = pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.RANK, C.SCORE]).sample(frac=1, random_state=0)
    for k in (None, 4):
        recs = Recommendations.from_frame(frame, user_ids, item_ids, k=k)
        width = 7 if k is None else k
        assert recs.items.shape == (12, width)
        assert np.all(np.diff(recs.users) > 0)  # id-map order
        expected = np.full((12, width), PAD_ITEM)
        for u, i, r, _ in rows:
            if r <= width:
                row = int(np.searchsorted(user_ids[recs.users], u))
                expected[row, r - 1] = i - 100 if i < 160 else UNKNOWN_ITEM
        np.testing.assert_array_equal(recs.items, expected)
        np.testing.assert_array_equal(np.isnan(recs.scores), expected == PAD_ITEM)


def test_recommendations_from_frame_rejects_a_repeated_rank() -> None:
    frame = pd.DataFrame({C.USER: [1, 1, 2, 1], C.ITEM: [5, 6, 5, 7], C.RANK: [1, 2, 1, 2]})
    with pytest.raises(DataValidationError, match="userId 1 has two items at rank 2"):
        Recommendations.from_frame(frame, np.array([1, 2]), np.array([5, 6, 7]))


@pytest.mark.parametrize("with_ts", [False, True])
def test_interaction_order_is_the_stable_lexsort(with_ts: bool) -> None:
    rng = np.random.default_rng(4)
    n = 5000
    users, items = rng.integers(0, 40, n), rng.integers(0, 30, n)
    ts = rng.integers(0, 5, n) if with_ts else None
    expected = (np.lexsort((np.arange(n), items, ts, users)) if with_ts
                else np.lexsort((np.arange(n), items, users)))
    np.testing.assert_array_equal(interaction_order(users, items, ts, 40, 30), expected)
    assert interaction_order(users[:1], items[:1], None if ts is None else ts[:1], 40, 30).tolist() == [0]


@pytest.mark.parametrize("shuffle", [False, True])  # keys already in order (no sort), and not
def test_later_duplicates_matches_hashing(shuffle: bool) -> None:
    rng = np.random.default_rng(6)
    key = np.sort(rng.choice(50 * 40, 600, replace=False))
    if shuffle:
        key = rng.permutation(key)
    users, items = key // 40, key % 40
    assert not later_duplicates(users, items, 40).any()  # distinct pairs: nothing to drop
    users = np.append(users, users[3])
    items = np.append(items, items[3])
    expected = pd.Series(users * 40 + items).duplicated(keep="last").to_numpy()
    got = later_duplicates(users, items, 40)
    np.testing.assert_array_equal(got, expected)
    assert got.sum() == 1 and got[3]
    assert later_duplicates(np.array([1]), np.array([2]), 5).tolist() == [False]
