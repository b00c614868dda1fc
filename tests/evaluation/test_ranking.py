"""Ranking metrics: the worked example, ranx as the reference, Hypothesis properties, AUC."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from movielens_lessons.errors import ConfigError
from movielens_lessons.evaluation import ranking as R

LOG3 = np.log2(3)


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    """Binary CSR with row r holding the items ``rows[r]`` (Hypothesis tests cannot use fixtures)."""
    indptr = np.cumsum([0, *[len(r) for r in rows]])
    indices = np.array([i for r in rows for i in sorted(r)], dtype=np.int32)
    return sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr),
                         shape=(len(rows), n_items))


def test_worked_example_at_1_and_3(example):
    rec, rel = example["rec"], example["relevant"]
    m = R.ranking_metrics(rec, rel, (1, 3))
    # precision@1: hits in the first slot 0,1,0; @3: u0 1/3, u1 1/3 (a short list still divides by 3)
    np.testing.assert_allclose(m["precision"], [[0, 1 / 3], [1, 1 / 3], [0, 0]])
    # recall@3: u0 1 of 2 relevant, u1 1 of 1, u2 0 of 1
    np.testing.assert_allclose(m["recall"], [[0, 0.5], [1, 1], [0, 0]])
    np.testing.assert_allclose(m["hit_rate"], [[0, 1], [1, 1], [0, 0]])
    # ndcg@3 u0: DCG = 1/log2(2+1); IDCG over min(2, 3) = 2 items = 1 + 1/log2(3)
    np.testing.assert_allclose(m["ndcg"], [[0, (1 / LOG3) / (1 + 1 / LOG3)], [1, 1], [0, 0]])
    # AP@3 u0: precision@2 (1/2) at the one hit, / min(|rel|=2, 3) = 0.25; AP@1 u0: nothing
    np.testing.assert_allclose(m["map"], [[0, 0.25], [1, 1], [0, 0]])
    # RR u0: first hit at rank 2 (beyond k=1), u1 at rank 1
    np.testing.assert_allclose(m["mrr"], [[0, 0.5], [1, 1], [0, 0]])


def test_single_metric_functions_agree_with_the_bundle(example):
    rec, rel = example["rec"], example["relevant"]
    both = R.ranking_metrics(rec, rel, (2, 3))
    for name, fn in (("precision", R.precision), ("recall", R.recall), ("ndcg", R.ndcg),
                     ("map", R.average_precision), ("mrr", R.reciprocal_rank),
                     ("hit_rate", R.hit_rate)):
        np.testing.assert_array_equal(fn(rec, rel, (2, 3)), both[name])


def test_lists_shorter_than_k_are_padded(example):
    m = R.ranking_metrics(example["rec"], example["relevant"], (5,))
    np.testing.assert_allclose(m["precision"][:, 0], [1 / 5, 1 / 5, 0])


def test_bad_k_is_a_config_error(example):
    with pytest.raises(ConfigError, match="positive"):
        R.ranking_metrics(example["rec"], example["relevant"], (0,))


def _random_case(rng, n_users=40, n_items=60, k=15):
    rec = np.stack([rng.permutation(n_items)[:k] for _ in range(n_users)])
    # some users get shorter lists, padded at the end (as every recommender pads)
    length = np.where(rng.random(n_users) < 0.3, rng.integers(0, k, n_users), k)
    rec[np.arange(k)[None, :] >= length[:, None]] = -1
    rel_rows = [list(rng.choice(n_items, size=rng.integers(1, 25), replace=False))
                for _ in range(n_users)]
    return rec, rel_rows


@pytest.mark.slow  # ranx JIT-compiles its metrics with numba on first use (~20 s)
def test_matches_ranx(make_csr):
    ranx = pytest.importorskip("ranx")
    rng = np.random.default_rng(0)
    rec, rel_rows = _random_case(rng, n_users=300)
    ks = (1, 5, 15)
    ours = R.ranking_metrics(rec, make_csr(rel_rows, 60), ks)
    # zero-padded query ids: ranx returns per-query scores in sorted query-id order
    qrels = ranx.Qrels({f"u{u:05d}": {f"i{i}": 1 for i in rows} for u, rows in enumerate(rel_rows)})
    run = ranx.Run({f"u{u:05d}": {f"i{i}": float(100 - r) for r, i in enumerate(row) if i >= 0}
                    for u, row in enumerate(rec)})
    names = ("precision", "recall", "ndcg", "mrr", "hit_rate", "map")
    got = ranx.evaluate(qrels, run, [f"{m}@{k}" for m in names for k in ks], return_mean=False,
                        make_comparable=True)
    n_rel = np.array([len(r) for r in rel_rows])
    for j, k in enumerate(ks):
        for ours_name in names:
            ref = np.asarray(got[f"{ours_name}@{k}"])
            mine = ours[ours_name][:, j]
            if ours_name == "map":  # ranx divides AP by |relevant|, we by min(|relevant|, K)
                mine = mine * np.minimum(n_rel, k) / n_rel
            np.testing.assert_allclose(mine, ref, atol=1e-9, err_msg=f"{ours_name}@{k}")


@st.composite
def cases(draw):
    n_items = draw(st.integers(2, 30))
    n_users = draw(st.integers(1, 8))
    k = draw(st.integers(1, n_items))
    rec = np.array([draw(st.permutations(range(n_items)))[:k] for _ in range(n_users)])
    rel = [draw(st.lists(st.integers(0, n_items - 1), min_size=1, max_size=n_items, unique=True))
           for _ in range(n_users)]
    return rec, rel, n_items, k


@settings(max_examples=60, deadline=None)
@given(cases())
def test_bounds_and_user_order_invariance(case):
    rec, rel, n_items, k = case
    ks = sorted({1, k})
    m = R.ranking_metrics(rec, csr(rel, n_items), ks)
    perm = np.random.default_rng(0).permutation(len(rec))
    mp = R.ranking_metrics(rec[perm], csr([rel[p] for p in perm], n_items), ks)
    for name, v in m.items():
        assert np.all((v >= 0) & (v <= 1 + 1e-12)), name
        np.testing.assert_allclose(mp[name], v[perm])


@settings(max_examples=60, deadline=None)
@given(cases())
def test_perfect_ranking_scores_one(case):
    _, rel, n_items, k = case
    # relevant items first, then the rest: the best possible list for each user
    rec = np.array([list(r) + [i for i in range(n_items) if i not in r] for r in rel])[:, :k]
    m = R.ranking_metrics(rec, csr(rel, n_items), (k,))
    for name in ("ndcg", "map", "mrr", "hit_rate"):
        np.testing.assert_allclose(m[name], 1.0, err_msg=name)
    n_rel = np.array([len(r) for r in rel])
    np.testing.assert_allclose(m["precision"][:, 0], np.minimum(n_rel, k) / k)
    np.testing.assert_allclose(m["recall"][:, 0], np.minimum(n_rel, k) / n_rel)


def test_auc_worked_example(make_csr):
    # 1 user, 5 items; item 4 was in training (excluded). Scores: 0.9, 0.1, 0.5, 0.5, 9.
    # Relevant {0, 2}; candidates 0..3 ranked ascending: 1 (0.1) → 1, 2 and 3 tie (0.5) → 2.5 each,
    # 0 (0.9) → 4. AUC = (4 + 2.5 − 2·3/2) / (2·2) = 3.5 / 4 = 0.875
    scores = np.array([[0.9, 0.1, 0.5, 0.5, 9.0]])
    got = R.auc(lambda u: scores[u], np.array([0]), make_csr([[0, 2]], 5), make_csr([[4]], 5))
    np.testing.assert_allclose(got, [0.875])


def test_auc_matches_sklearn_on_random_scores(make_csr):
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    n_users, n_items = 30, 40
    scores = rng.integers(0, 10, (n_users, n_items)).astype(float)  # with ties
    rel = [list(rng.choice(n_items, 5, replace=False)) for _ in range(n_users)]
    train = [[i for i in rng.choice(n_items, 6, replace=False) if i not in r] for r in rel]
    got = R.auc(lambda u: scores[u], np.arange(n_users), make_csr(rel, n_items),
                make_csr(train, n_items), chunk_size=7)
    for u in range(n_users):
        cand = np.setdiff1d(np.arange(n_items), train[u])
        y = np.isin(cand, rel[u])
        assert got[u] == pytest.approx(roc_auc_score(y, scores[u, cand]), abs=1e-12)
