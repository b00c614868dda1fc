"""The ranker's settings: the checks its constructor keywords must pass, and the XGBoost parameters
they give. Both read a ``get_params()`` mapping, so the estimator keeps scikit-learn's convention of
storing keywords as given and checking them at ``fit``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.boosting.ranker.labels import VALIDATIONS
from movielens_lessons.models.boosting.ranker.prior import prior_columns

OBJECTIVES = ("rank:ndcg", "rank:pairwise", "rank:map", "binary:logistic")
_POSITIVE_INTS = (
    "n_candidates", "n_estimators", "early_stopping_rounds", "max_depth", "n_windows", "n_folds"
)  # fmt: skip


def check_params(params: Mapping[str, Any], retriever_names: list[str]) -> None:
    """Raise :class:`ConfigError` naming the first bad setting of ``params`` (the ranker's
    ``get_params()``); ``retriever_names`` are the labels its ``retrievers`` setting gives."""
    if params["objective"] not in OBJECTIVES:
        raise ConfigError(
            f"objective must be one of {', '.join(OBJECTIVES)}; got {params['objective']!r}"
        )
    if params["validation"] not in VALIDATIONS:
        raise ConfigError(
            f"validation must be 'temporal', 'random' or 'mixed', got {params['validation']!r}"
        )
    for key in _POSITIVE_INTS:
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(f"{key} must be a positive integer, got {value!r}")
    prior_columns(params["prior"], retriever_names, params["retrievers"])
    n_bags = params["n_bags"]
    if isinstance(n_bags, bool) or not isinstance(n_bags, int | np.integer) or n_bags < 0:
        raise ConfigError(f"n_bags must be an integer >= 0, got {n_bags!r}")
    prior_weight = params["prior_weight"]
    if not isinstance(prior_weight, int | float) or not prior_weight > 0:
        raise ConfigError(f"prior_weight must be a number > 0, got {prior_weight!r}")
    shrink = params["shrink"]
    if isinstance(shrink, bool) or not isinstance(shrink, int | float) or not 0 <= shrink <= 1:
        raise ConfigError(f"shrink must be a number in [0, 1], got {shrink!r}")
    if shrink != 1 and not params["prior"]:
        raise ConfigError("shrink scales the trees' corrections to the prior; with prior='' "
                          "there is no prior to shrink towards (use shrink=1)")
    for key in ("validation_fraction", "eval_fraction"):
        value = params[key]
        if not isinstance(value, int | float) or not 0 < value < 1:
            raise ConfigError(f"{key} must be a fraction strictly between 0 and 1, got {value!r}")


def booster_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """``xgboost.train`` parameters from the ranker's settings (NDCG@10 for early stopping)."""
    return {
        "objective": params["objective"],
        "eval_metric": "ndcg@10",
        "tree_method": "hist",
        "learning_rate": float(params["learning_rate"]),
        "max_depth": int(params["max_depth"]),
        "min_child_weight": float(params["min_child_weight"]),
        "subsample": float(params["subsample"]),
        "seed": int(params["random_state"]),
        "nthread": int(params["num_threads"]),
        # candidates are sorted by user, so a whole group is one contiguous block of rows
        "lambdarank_pair_method": "topk",
        "lambdarank_num_pair_per_sample": 10,
    }
