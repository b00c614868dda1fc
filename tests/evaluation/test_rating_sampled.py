"""Rating metrics and the (clearly labelled) sampled-candidate evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import DataValidationError, MissingColumnError
from movielens_lessons.evaluation import evaluate_predictions, sampled_evaluate
from movielens_lessons.evaluation.sampled import sample_negatives


def test_rating_metrics_by_hand(tiny):
    # tiny: (1,10)=5, (1,20)=3, (1,30)=4, (2,10)=2, (2,40)=5, (3,20)=4.5, (3,30)=1, (3,40)=3.5, (3,50)=4
    pred = pd.DataFrame({C.USER: [1, 1, 2, 9], C.ITEM: [10, 20, 40, 10],
                         C.PREDICTION: [4.0, 3.0, 3.0, 1.0]})
    out = evaluate_predictions(pred, tiny)
    # errors on the 3 matched test pairs: 1, 0, 2 → RMSE √(5/3), MAE 1; 3 of 9 pairs predicted
    assert out["rmse"] == pytest.approx(np.sqrt(5 / 3))
    assert out["mae"] == pytest.approx(1.0)
    assert out["coverage"] == pytest.approx(3 / 9)
    assert out["n_ignored"] == 1


def test_rating_errors(tiny):
    with pytest.raises(MissingColumnError, match="prediction"):
        evaluate_predictions(pd.DataFrame({C.USER: [1], C.ITEM: [10]}), tiny)
    dup = pd.DataFrame({C.USER: [1, 1], C.ITEM: [10, 10], C.PREDICTION: [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="duplicate"):
        evaluate_predictions(dup, tiny)


def test_negatives_are_distinct_and_unseen():
    rng = np.random.default_rng(0)
    import scipy.sparse as sp

    seen = sp.random(50, 200, density=0.3, format="csr", random_state=1)
    seen.data[:] = 1
    seen.sort_indices()
    neg = sample_negatives(seen, 100, rng)
    dense = seen.toarray() > 0
    for u in range(50):
        assert len(set(neg[u])) == 100
        assert not dense[u, neg[u]].any()


def _split():
    rng = np.random.default_rng(5)
    n_users, n_items = 60, 400
    df = pd.DataFrame({C.USER: rng.integers(0, n_users, 4000), C.ITEM: rng.integers(0, n_items, 4000)})
    df = df.drop_duplicates([C.USER, C.ITEM])
    full = Dataset.from_frame(df, user_ids=np.arange(n_users), item_ids=np.arange(n_items))
    mask = rng.random(len(full)) < 0.8
    return full.subset(mask), full.subset(~mask)


def test_sampled_metrics_are_labelled_and_reward_an_oracle():
    train, test = _split()
    truth = test.implicit().toarray()
    oracle = sampled_evaluate(lambda u: truth[u] + 0.0, test, train, n_negatives=50, k=10)
    assert set(oracle) >= {"sampled_ndcg@10", "sampled_recall@10"}
    assert oracle["sampled_hit_rate@10"] == pytest.approx(1.0)
    flat = sampled_evaluate(lambda u: np.zeros((len(u), train.n_items)), test, train,
                            n_negatives=50, k=10, seed=1)
    assert flat["sampled_ndcg@10"] < 0.5  # ties broken at random: no credit for candidate order


def test_first_in_row_marks_the_leftmost_copy_of_each_value() -> None:
    from movielens_lessons.evaluation.sampled import first_in_row

    values = np.array([[3, 1, 3, 2, 1], [5, 5, 5, 0, 7]])
    expected = np.array([[True, True, False, True, False], [True, False, False, True, True]])
    np.testing.assert_array_equal(first_in_row(values), expected)
