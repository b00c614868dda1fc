"""The synthetic item sampler: distinct items per user, quotas honoured, taste-driven, seeded."""

from __future__ import annotations

import numpy as np

from movielens_lessons.data.synth_sampling import sample_items


def _world(seed: int, n_users: int = 60, n_items: int = 200, d: int = 4):
    rng = np.random.default_rng(seed)
    p = rng.normal(0, 0.5, (n_users, d)).astype(np.float32)
    q = rng.normal(0, 0.5, (n_items, d)).astype(np.float32)
    log_pop = np.zeros(n_items)
    # some users rate most of the catalogue: they take the exact (dense) path
    counts = np.where(np.arange(n_users) % 10 == 0, 150, rng.integers(1, 30, n_users))
    release = np.zeros(n_items, dtype=np.int64)
    win_end = np.full(n_users, 10**9, dtype=np.int64)
    return p, q, log_pop, counts, release, win_end


def test_quota_distinct_sorted_and_dots() -> None:
    p, q, log_pop, counts, release, win_end = _world(0)
    users, items, dots = sample_items(np.random.default_rng(1), p, q, log_pop, counts, release,
                                      win_end)
    np.testing.assert_array_equal(np.bincount(users, minlength=len(counts)), counts)
    order = np.lexsort((items, users))
    np.testing.assert_array_equal(order, np.arange(len(users)))  # sorted by user, then item
    assert len(np.unique(users.astype(np.int64) * len(q) + items)) == len(users)  # distinct pairs
    np.testing.assert_allclose(dots, np.einsum("ij,ij->i", p[users], q[items]), rtol=1e-5)


def test_seeded_and_taste_driven() -> None:
    p, q, log_pop, counts, release, win_end = _world(2)
    a = sample_items(np.random.default_rng(3), p, q, log_pop, counts, release, win_end)
    b = sample_items(np.random.default_rng(3), p, q, log_pop, counts, release, win_end)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    # with flat popularity, chosen items lean towards the user's taste: mean <p, q> above random
    users, _, dots = a
    light = counts[users] < 30
    random_dots = (p @ q.T).mean(axis=1)[users]
    assert dots[light].mean() > random_dots[light].mean() + 0.05


def test_late_releases_are_avoided() -> None:
    p, q, log_pop, counts, release, win_end = _world(4)
    release = np.where(np.arange(len(q)) < 100, 0, 2 * 10**9)  # half the movies come out too late
    counts = np.minimum(counts, 20)
    _, items, _ = sample_items(np.random.default_rng(5), p, q, log_pop, counts, release, win_end)
    assert (items >= 100).mean() < 0.05
