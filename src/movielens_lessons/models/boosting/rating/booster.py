"""The boosting step of ``xgboost-rating`` (:mod:`movielens_lessons.models.boosting.rating.model`).

The regressor is trained on the out-of-fold rows (:mod:`movielens_lessons.models.boosting.rating.features`) with
early stopping on a held-out share of them and cut to its best round, so that the booster a model keeps,
saves and reloads is the one that was validated. Predictions go through ``inplace_predict`` (no
``DMatrix`` copy), explanations through ``pred_contribs``. XGBoost is imported lazily: it is an extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xgboost as xgb


def train_booster(
    params: dict[str, Any],
    x: np.ndarray,
    ratings: np.ndarray,
    valid: np.ndarray,
    feature_names: list[str],
    n_trees: int,
    early_stopping_rounds: int,
) -> tuple[xgb.Booster, int, float]:
    """Boost on the rows of ``x`` ``(n_rows, n_features)`` outside ``valid`` (bool ``(n_rows,)``).

    At most ``n_trees`` rounds; stops after ``early_stopping_rounds`` rounds without a lower RMSE on
    the ``valid`` rows (``params`` must ask for ``eval_metric="rmse"``). Returns the booster cut to the
    best round (with ``params["nthread"]`` threads), that round (0-based) and its validation RMSE in
    rating units.
    """
    import xgboost as xgb

    dtrain = xgb.DMatrix(x[~valid], label=ratings[~valid], feature_names=feature_names)
    dvalid = xgb.DMatrix(x[valid], label=ratings[valid], feature_names=feature_names)
    history: dict = {}
    booster = xgb.train(
        params,
        dtrain,
        num_boost_round=n_trees,
        evals=[(dvalid, "validation")],
        early_stopping_rounds=early_stopping_rounds,
        evals_result=history,
        verbose_eval=False,
    )
    best = int(getattr(booster, "best_iteration", n_trees - 1))
    kept = booster[: best + 1]  # keep only the best rounds, so save/load agree
    kept.set_param({"nthread": params["nthread"]})
    return kept, best, float(history["validation"]["rmse"][best])


def booster_predict(booster: xgb.Booster, x: np.ndarray) -> np.ndarray:
    """Raw booster output ``(n_rows,)`` float32 (``inplace_predict``: no DMatrix copy)."""
    return np.asarray(booster.inplace_predict(x), dtype=np.float32)


def booster_contribs(booster: xgb.Booster, x: np.ndarray, feature_names: list[str]) -> np.ndarray:
    """Per-feature contributions ``(n_rows, n_features + 1)``; the last column is the bias."""
    import xgboost as xgb

    dmatrix = xgb.DMatrix(x, feature_names=feature_names)
    return booster.predict(dmatrix, pred_contribs=True)


def gain_importance(booster: xgb.Booster, feature_names: list[str]) -> pd.Series:
    """XGBoost's average gain per feature (0 for unused features), sorted descending."""
    # "gain" is defined for tree boosters only, which give one float per feature (lists: gblinear's)
    gain = cast("dict[str, float]", booster.get_score(importance_type="gain"))
    series = pd.Series({n: float(gain.get(n, 0.0)) for n in feature_names})
    return series.sort_values(ascending=False, kind="stable").rename("gain")
