"""Beyond-accuracy metrics on the worked example, Gini properties and brute-force cross-checks."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movielens_lessons.evaluation import beyond_accuracy as B


def test_coverage_worked_example(example):
    # catalogue = items with training users: {0, 1, 3, 4, 5} (5 items; item 2 has none)
    # top-1 recommends {0, 3, 5} → 3/5; top-3 recommends all 5 catalogue items (+ item 2) → 1
    np.testing.assert_allclose(B.coverage(example["rec"], example["counts"], (1, 3)), [0.6, 1.0])


def test_gini_worked_example(example):
    # top-1 exposure over the catalogue (items 0, 1, 3, 4, 5) = [1, 0, 1, 0, 1];
    # sorted [0, 0, 1, 1, 1], n = 5, Σx = 3: Σ (2i − 6) x_i = 0·1 + 2·1 + 4·1 = 6 → 6 / 15 = 0.4
    assert B.gini(example["rec"], example["counts"], 1)[0] == pytest.approx(0.4)


def test_novelty_and_arp_worked_example(example):
    rec, counts, n = example["rec"], example["counts"], example["n_train_users"]
    # top-1 items 0, 3, 5 seen by 5, 1, 2 of 8 users: −log2(5/8) = 0.678, −log2(1/8) = 3, −log2(2/8) = 2
    per_user = B.novelty(rec, counts, n, 1)[:, 0]
    np.testing.assert_allclose(per_user, [-np.log2(5 / 8), 3.0, 2.0])
    s, slots = B.novelty_parts(rec, counts, n, 1)
    assert s.sum() / slots.sum() == pytest.approx((-np.log2(5 / 8) + 3 + 2) / 3)
    # top-3, u1 has 2 slots (3, 4): (3 + 3) / 2 = 3; item 2 (no training user) counts as one: log2(8) = 3
    assert B.novelty(rec, counts, n, 3)[1, 0] == pytest.approx(3.0)
    assert B.novelty(rec, counts, n, 3)[0, 0] == pytest.approx((-np.log2(5 / 8) - np.log2(3 / 8)
                                                               + 3) / 3)
    # arp@1: (5 + 1 + 2) / 3 slots
    s, slots = B.arp_parts(rec, counts, 1)
    assert s.sum() / slots.sum() == pytest.approx(8 / 3)


def test_personalization_worked_example(example):
    # L0 = {0, 1, 2}, L1 = {3, 4}, L2 = {5, 0, 1}; overlaps 0, 2, 0 over 3 pairs, K = 3:
    # 1 − (2 / 3) / 3 = 7/9
    assert B.personalization(example["rec"], 3)[0] == pytest.approx(7 / 9)


def test_personalization_matches_all_pairs():
    rng = np.random.default_rng(1)
    rec = np.stack([rng.choice(30, 5, replace=False) for _ in range(25)])
    k = 5
    overlaps = [len(set(a) & set(b)) / k for a, b in combinations(rec.tolist(), 2)]
    assert B.personalization(rec, k)[0] == pytest.approx(1 - np.mean(overlaps))


def test_ild_worked_example(example):
    masks = B.feature_masks(example["genres"])
    # u0 items 0 {A}, 1 {A,B}, 2 {C}: distances 1 − 1/2, 1, 1 → 2.5 / 3
    # u1 items 3 {}, 4 {}: J(∅, ∅) = 1 → 0;  u2 items 5 {B}, 0 {A}, 1 {A,B}: 1, 1/2, 1/2 → 2/3
    got = B.ild(example["rec"], masks, (2, 3))
    np.testing.assert_allclose(got[:, 1], [2.5 / 3, 0.0, 2 / 3])
    # top-2: one pair each: u0 (0, 1) → 0.5, u1 (3, 4) → 0, u2 (5, 0) → 1
    np.testing.assert_allclose(got[:, 0], [0.5, 0.0, 1.0])


def test_ild_matches_brute_force():
    rng = np.random.default_rng(2)
    genres = [set(rng.choice(list("ABCDEFG"), rng.integers(0, 4), replace=False)) for _ in range(40)]
    rec = np.stack([rng.choice(40, 8, replace=False) for _ in range(30)])
    rec[:3, 5:] = -1
    got = B.ild(rec, B.feature_masks(genres), 8, chunk_size=7)[:, 0]

    def dist(a, b):
        u = genres[a] | genres[b]
        return 0.0 if not u else 1 - len(genres[a] & genres[b]) / len(u)

    for u, row in enumerate(rec):
        items = [i for i in row if i >= 0]
        assert got[u] == pytest.approx(np.mean([dist(a, b) for a, b in combinations(items, 2)]))


def test_serendipity_worked_example(example, make_csr):
    # popularity order by counts [5, 3, 0, 1, 1, 2]: 0, 1, 5, 3, 4, 2 (ties by item id)
    # training items: u0 {0}, u1 {}, u2 {}. Popular top-3: u0 [1, 5, 3], u1 [0, 1, 5]
    # u0 hit 1 is in its popular list → 0; u1 hit 3 is not → 1/3; u2 has no hit → 0
    train = make_csr([[0], [], []], 6)
    got = B.serendipity(example["rec"], example["relevant"], np.arange(3), train,
                        example["counts"], 3)
    np.testing.assert_allclose(got[:, 0], [0, 1 / 3, 0])


def test_in_popular_top_k_matches_building_the_lists(make_csr):
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 6, 25)
    train_rows = [list(rng.choice(25, rng.integers(0, 8), replace=False)) for _ in range(10)]
    order = np.lexsort((np.arange(25), -counts))
    users = np.repeat(np.arange(10), 25)
    items = np.tile(np.arange(25), 10)
    got = B.in_popular_top_k(users, items, 4, counts, make_csr(train_rows, 25))
    for u, i, g in zip(users, items, got, strict=True):
        top = [j for j in order if j not in train_rows[u]][:4]
        assert g == (i in top)


def _gini_pairs(x):
    x = np.asarray(x, float)
    return np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) * x.sum())


def test_gini_uniform_is_zero_and_concentrated_is_n_minus_1_over_n():
    assert B.gini_index(np.full(17, 3.0)) == pytest.approx(0.0)
    x = np.zeros(10)
    x[4] = 7
    assert B.gini_index(x) == pytest.approx(9 / 10)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=40).filter(lambda v: sum(v) > 0))
def test_gini_matches_the_pairwise_formula(values):
    assert B.gini_index(np.array(values)) == pytest.approx(_gini_pairs(values), abs=1e-12)
    assert 0 <= B.gini_index(np.array(values)) < 1
