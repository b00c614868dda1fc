"""The ranker's booster fitting: stacked windows, stage-one recall, user-fold early stopping."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.errors import DataValidationError
from movielens_lessons.models.boosting.ranker.training import (
    stack_rows,
    stage_one_metrics,
    train_booster,
)

pytest.importorskip("xgboost")

PARAMS = {"objective": "rank:ndcg", "eval_metric": "ndcg@10", "tree_method": "hist", "seed": 0}


def window_rows(n_users: int, per_user: int, seed: int, signal: float = 3.0) -> dict:
    """Rows of one label window: feature 0 predicts the label, feature 1 is noise."""
    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n_users), per_user)
    x = rng.normal(size=(len(rows), 2)).astype(np.float32)
    labels = (rng.random(len(rows)) < 1 / (1 + np.exp(-signal * x[:, 0] + 2))).astype(np.float32)
    ranks = rng.integers(1, 12, size=(len(rows), 2)).astype(np.float32)
    return {"x": x, "labels": labels, "prior": None, "rows": rows, "ranks": ranks,
            "users": np.arange(n_users) + 5, "n_window": int(labels.sum()) + 7}


def test_stack_rows_keeps_windows_apart_but_users_together():
    a, b = window_rows(3, 4, 0), window_rows(2, 4, 1)
    stacked = stack_rows([a, b])
    assert stacked["x"].shape == (20, 2)
    # window b's groups come after window a's, never merged with them
    assert stacked["qid"].tolist() == [0] * 4 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4
    # the same internal user keeps its id across windows (held out whole by early stopping)
    assert stacked["row_user"].tolist() == [5] * 4 + [6] * 4 + [7] * 4 + [5] * 4 + [6] * 4
    assert stacked["prior"] is None


def test_stage_one_metrics_counts_each_retriever_within_its_top_n():
    rows = window_rows(4, 5, 2)
    rows["labels"] = np.zeros(20, np.float32)
    rows["labels"][[0, 6, 12]] = 1
    rows["ranks"][:, 0] = 1
    rows["ranks"][:, 1] = 11  # outside every top-10
    rows["n_window"] = 6
    m = stage_one_metrics(rows, ["a", "b"], 10)
    assert m["candidate_recall"] == pytest.approx(0.5)
    assert m["recall_a"] == pytest.approx(0.5)
    assert m["recall_b"] == 0.0
    assert m["candidates_per_user"] == 5.0


@pytest.mark.parametrize("n_folds", [1, 4])
def test_train_booster_learns_the_signal_and_reports_its_folds(n_folds):
    rows = stack_rows([window_rows(60, 20, 3)])
    (booster,), metrics = train_booster(
        PARAMS, rows, ["f0", "f1"], n_users=70, n_folds=n_folds, eval_fraction=0.25,
        n_estimators=50, early_stopping_rounds=10, random_state=0,
    )
    assert metrics["n_folds"] == n_folds
    assert len(metrics["fold_best_iterations"]) == n_folds
    assert booster.num_boosted_rounds() == metrics["best_iteration"] + 1
    gain = booster.get_score(importance_type="total_gain")
    assert gain.get("f0", 0.0) > gain.get("f1", 0.0)


def test_bagged_boosters_are_the_fold_boosters_of_each_assignment():
    rows = stack_rows([window_rows(60, 20, 3)])
    boosters, metrics = train_booster(
        PARAMS, rows, ["f0", "f1"], n_users=70, n_folds=4, eval_fraction=0.25,
        n_estimators=50, early_stopping_rounds=10, random_state=0, n_bags=2,
    )
    assert len(boosters) == metrics["n_boosters"] == 8
    assert [b.num_boosted_rounds() for b in boosters] == [
        i + 1 for i in metrics["fold_best_iterations"]
    ]
    import xgboost as xgb

    # two fold assignments, and each booster samples its own rows: not eight copies of one model
    x = np.random.default_rng(1).normal(size=(50, 2)).astype(np.float32)
    preds = np.array([b.predict(xgb.DMatrix(x, feature_names=["f0", "f1"])) for b in boosters])
    assert len({p.round(5).tobytes() for p in preds}) > 1
    (single,), _ = train_booster(
        PARAMS, rows, ["f0", "f1"], n_users=70, n_folds=1, eval_fraction=0.25,
        n_estimators=50, early_stopping_rounds=10, random_state=0, n_bags=2,
    )  # one held-out set: nothing to bag
    assert single.num_boosted_rounds() >= 1


def test_train_booster_refuses_fewer_than_two_users_with_a_positive():
    rows = stack_rows([window_rows(5, 10, 4)])
    rows["labels"][rows["row_user"] != 5] = 0
    rows["labels"][rows["row_user"] == 5] = 1
    with pytest.raises(DataValidationError, match="only 1 user"):
        train_booster(PARAMS, rows, ["f0", "f1"], n_users=10, n_folds=5, eval_fraction=0.2,
                      n_estimators=5, early_stopping_rounds=2, random_state=0)
