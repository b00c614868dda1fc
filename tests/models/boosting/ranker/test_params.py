"""The ranker's settings: every bad value is a ConfigError naming it; good ones become XGBoost's."""

from __future__ import annotations

from typing import Any

import pytest

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.boosting.ranker.params import booster_params, check_params

pytest.importorskip("xgboost")

from movielens_lessons.models.boosting.ranker.model import XGBoostRanker

NAMES = ["ease", "als", "item-knn", "most-popular"]


def params(**changes: Any) -> dict[str, Any]:
    return XGBoostRanker().get_params() | changes


def test_defaults_pass_and_give_ndcg_at_10_early_stopping() -> None:
    check_params(params(), NAMES)
    xgb = booster_params(params(num_threads=3, max_depth=4))
    assert xgb["eval_metric"] == "ndcg@10" and xgb["objective"] == "rank:ndcg"
    assert xgb["nthread"] == 3 and xgb["max_depth"] == 4 and xgb["seed"] == 42


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"objective": "reg:squarederror"}, "objective must be one of rank:ndcg"),
        ({"validation": "latest"}, "validation must be 'temporal', 'random' or 'mixed'"),
        ({"n_candidates": 0}, "n_candidates must be a positive integer, got 0"),
        ({"n_folds": True}, "n_folds must be a positive integer, got True"),
        ({"max_depth": 2.5}, "max_depth must be a positive integer, got 2.5"),
        ({"prior": "bpr"}, "prior must be '', 'first' or one of the retrievers"),
        ({"n_bags": -1}, "n_bags must be an integer >= 0, got -1"),
        ({"prior_weight": 0}, "prior_weight must be a number > 0, got 0"),
        ({"shrink": 1.5}, r"shrink must be a number in \[0, 1\], got 1.5"),
        ({"shrink": 0.5, "prior": ""}, "there is no prior to shrink towards"),
        ({"validation_fraction": 1.0}, "validation_fraction must be a fraction strictly between"),
        ({"eval_fraction": 0}, "eval_fraction must be a fraction strictly between"),
    ],
)
def test_each_bad_setting_is_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_params(params(**changes), NAMES)
