"""End to end on ml-latest-small: a per-user random split, most-popular lists, evaluate(), ranx."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.evaluation import compare, evaluate
from movielens_lessons.recommendations import Recommendations

pytestmark = pytest.mark.realdata


@pytest.fixture
def split(ml_small):
    from movielens_lessons.data.splits import user_random_split

    s = user_random_split(ml_small, test_size=0.2, seed=7)
    return s.train, s.test


def most_popular(train, k: int) -> Recommendations:
    """Each user's k most popular training items that the user has not seen (ties: lower item id)."""
    counts = train.item_counts()
    order = np.lexsort((np.arange(train.n_items), -counts))
    seen = train.implicit().tolil().rows
    users = train.active_users
    items = np.array([[i for i in order[: k + len(seen[u])] if i not in set(seen[u])][:k]
                      for u in users])
    return Recommendations(users, items, np.tile(np.arange(k, 0, -1), (len(users), 1)).astype(
        np.float32), train.user_ids, train.item_ids)


def test_most_popular_against_ranx(split):
    ranx = pytest.importorskip("ranx")
    train, test = split
    recs = most_popular(train, 10)
    res = evaluate(recs, test, train, k=10, n_bootstrap=200)
    assert res.n_users == len(np.unique(test.users))
    frame = recs.to_frame()
    tf = test.to_frame()
    qrels = ranx.Qrels.from_df(pd.DataFrame({
        "q_id": tf[C.USER].astype(str).astype(object), "doc_id": tf[C.ITEM].astype(str).astype(object),
        "score": 1}))
    run = ranx.Run.from_df(pd.DataFrame({
        "q_id": frame[C.USER].astype(str).astype(object),
        "doc_id": frame[C.ITEM].astype(str).astype(object), "score": frame[C.SCORE].astype(float)}))
    ref = ranx.evaluate(qrels, run, "ndcg@10", make_comparable=True)
    assert res.value("ndcg", 10) == pytest.approx(ref, abs=1e-9)
    # popularity lists are concentrated: low coverage, high Gini, low novelty versus random lists
    rng = np.random.default_rng(0)
    rand_items = np.stack([rng.choice(np.flatnonzero(train.item_counts()), 10, replace=False)
                           for _ in recs.users])
    rand = Recommendations(recs.users, rand_items, recs.scores, train.user_ids, train.item_ids)
    res_rand = evaluate(rand, test, train, k=10, n_bootstrap=200)
    assert res.value("coverage") < 0.05 < res_rand.value("coverage")
    assert res.value("gini") > 0.95 > res_rand.value("gini")
    assert res.value("novelty") < res_rand.value("novelty")
    assert res.value("ndcg") > res_rand.value("ndcg")
    assert 0 < res.value("ild") < 1  # genres from train.movies
    table = compare({"popular": res, "random": res_rand}, metrics=["ndcg"], n_bootstrap=500)
    assert bool(table["significant"].iloc[0]) and table["diff"].iloc[0] < 0
