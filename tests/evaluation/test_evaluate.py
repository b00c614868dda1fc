"""evaluate(): who is scored, alignment of recommendations, summary and intervals, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.evaluation import evaluate
from movielens_lessons.recommendations import Recommendations


@pytest.fixture
def split():
    """Users 1..3, items 10..60. Train: 1 {10, 20}, 2 {10}, 3 {30}. Test: 1 {40 (r=5), 50 (r=2)},
    2 {20 (r=4)}, 3 {60 (r=3)}. Movies: genres for ILD."""
    train = pd.DataFrame({C.USER: [1, 1, 2, 3], C.ITEM: [10, 20, 10, 30],
                          C.RATING: [4.0, 3, 5, 4], C.TIMESTAMP: [1, 2, 3, 4]})
    test = pd.DataFrame({C.USER: [1, 1, 2, 3], C.ITEM: [40, 50, 20, 60],
                         C.RATING: [5.0, 2, 4, 3], C.TIMESTAMP: [5, 6, 7, 8]})
    users = np.array([1, 2, 3])
    items = np.array([10, 20, 30, 40, 50, 60])
    movies = pd.DataFrame({C.ITEM: items, C.GENRES: [["A"], ["A", "B"], ["B"], ["C"], [], ["A"]]})
    tr = Dataset.from_frame(train, user_ids=users, item_ids=items, movies=movies)
    te = Dataset.from_frame(test, user_ids=users, item_ids=items)
    return tr, te


def recs_from(rows: dict[int, list[int]], tr: Dataset) -> Recommendations:
    frame = pd.DataFrame([(u, m, r + 1) for u, ms in rows.items() for r, m in enumerate(ms)],
                         columns=[C.USER, C.ITEM, C.RANK])
    return Recommendations.from_frame(frame, tr.user_ids, tr.item_ids)


def test_hand_computed_summary(split):
    tr, te = split
    # user 1: [40, 30] (hit at 1); user 2: [30, 20] (hit at 2); user 3: no recommendations
    res = evaluate(recs_from({1: [40, 30], 2: [30, 20]}, tr), te, tr, k=2, n_bootstrap=50)
    # precision@2: (1/2 + 1/2 + 0) / 3; recall@2: (1/2 + 1 + 0) / 3; mrr: (1 + 1/2 + 0) / 3
    assert res.value("precision") == pytest.approx(1 / 3)
    assert res.value("recall") == pytest.approx(0.5)
    assert res.value("mrr") == pytest.approx(0.5)
    assert res.n_users == 3 and res.n_users_without_recs == 1
    # catalogue = {10, 20, 30}; recommended among them: 30, 20 → 2/3
    assert res.value("coverage") == pytest.approx(2 / 3)
    # ILD from train.movies: user 1 (40 {C}, 30 {B}) → 1; user 2 (30 {B}, 20 {A,B}) → 1/2
    assert res.value("ild") == pytest.approx(0.75)
    per = res.per_user
    assert set(per.columns) == {C.USER, "metric", "k", "value"}
    p3 = per[(per[C.USER] == 3) & (per["metric"] == "ndcg")]["value"]
    assert p3.tolist() == [0.0]


def test_relevance_threshold_drops_users_without_relevant_items(split):
    tr, te = split
    recs = recs_from({1: [50, 40], 2: [20, 30], 3: [60, 10]}, tr)
    res = evaluate(recs, te, tr, k=1, relevance_threshold=4.0, n_bootstrap=0)
    # relevant: user 1 {40}, user 2 {20}; user 3 (rating 3) is not scored. Hits@1: user 2 only
    assert res.n_users == 2
    assert res.value("precision") == pytest.approx(0.5)
    assert np.isnan(res.summary["ci_low"]).all()  # n_bootstrap=0: no intervals


def test_several_k_and_to_dict(split):
    tr, te = split
    res = evaluate(recs_from({1: [40, 50, 30], 2: [20]}, tr), te, tr, k=(1, 3), n_bootstrap=200)
    d = res.to_dict()
    assert d["recall@3"] == pytest.approx((1 + 1 + 0) / 3)
    assert d["recall@1"] == pytest.approx((0.5 + 1) / 3)
    for key in ("ndcg@1", "ndcg@3", "gini@3", "novelty@1"):
        assert key in d and f"{key}_ci_low" in d
    s = res.summary
    boot = s[s["metric"].isin(["precision", "recall", "ndcg"])]
    assert (boot["ci_low"] <= boot["mean"] + 1e-12).all()
    assert (boot["mean"] <= boot["ci_high"] + 1e-12).all()


def test_recommendations_for_non_test_users_are_ignored(split):
    tr, te = split
    te2 = te.subset(te.users != 2)  # user 2 has no test rows now
    res = evaluate(recs_from({1: [40], 2: [20], 3: [60]}, tr), te2, tr, k=1, n_bootstrap=0)
    assert res.n_users == 2 and res.n_recommended_users_not_in_test == 1
    assert res.value("precision") == pytest.approx(1.0)


def test_unknown_items_fill_slots_but_never_hit(split):
    tr, te = split
    frame = pd.DataFrame({C.USER: [1, 1], C.ITEM: [999, 40], C.RANK: [1, 2]})
    recs = Recommendations.from_frame(frame, tr.user_ids, tr.item_ids)
    res = evaluate(recs, te, tr, k=2, n_bootstrap=0, metrics=["precision", "mrr"])
    assert res.value("mrr") == pytest.approx(0.5 / 3)  # user 1 hits at rank 2; 3 users scored


def test_errors(split):
    tr, te = split
    recs = recs_from({1: [40]}, tr)
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate(recs, te, tr, metrics=["nope"])
    with pytest.raises(ConfigError, match="scorer"):
        evaluate(recs, te, tr, metrics=["auc"])
    other = Dataset.from_frame(te.to_frame())  # its own, smaller id maps
    with pytest.raises(DataValidationError, match="id maps"):
        evaluate(recs, other, tr)
    dup = Recommendations(np.array([0]), np.array([[3, 3]]), np.zeros((1, 2), np.float32),
                          tr.user_ids, tr.item_ids)
    with pytest.raises(DataValidationError, match="twice"):
        evaluate(dup, te, tr)


def test_auc_through_evaluate(split):
    tr, te = split
    scores = np.tile(np.arange(6, dtype=float), (3, 1))  # higher item index = higher score
    res = evaluate(recs_from({1: [40]}, tr), te, tr, k=1, metrics=["auc"],
                   scorer=lambda u: scores[u], n_bootstrap=0)
    # user 1: candidates 30,40,50,60 (train 10,20 excluded), relevant 40 (rank 2), 50 (rank 3):
    #   (2 + 3 − 3) / (2·2) = 0.5. user 2: candidates 20..60, relevant 20 is the lowest → 0.
    # user 3: candidates all but 30; 60 is the highest → 1. Mean 0.5
    assert res.value("auc") == pytest.approx(0.5)
