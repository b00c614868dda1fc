"""Rating-prediction metrics: RMSE, MAE and the share of test pairs the model could predict."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import DataValidationError, MissingColumnError


def rmse(predicted: np.ndarray, actual: np.ndarray) -> float:
    """RMSE = √(mean((ŷ − y)²)) over the pairs given (NaN if none)."""
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(d**2))) if len(d) else float("nan")


def mae(predicted: np.ndarray, actual: np.ndarray) -> float:
    """MAE = mean(\\|ŷ − y\\|) over the pairs given (NaN if none)."""
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.mean(np.abs(d))) if len(d) else float("nan")


def evaluate_predictions(
    predictions: pd.DataFrame, test: Dataset, *, source: str | None = None
) -> dict[str, float]:
    """RMSE and MAE over the test pairs with a finite prediction, and ``coverage`` = their share.

    ``predictions``: ``userId, movieId, prediction`` (external ids). Predictions for pairs outside the
    test set are ignored (``n_ignored``); a duplicated (user, item) pair is an error. Returns
    ``{"rmse", "mae", "coverage", "n_test", "n_predicted", "n_ignored"}``.
    """
    for col in (C.USER, C.ITEM, C.PREDICTION):
        if col not in predictions.columns:
            raise MissingColumnError(
                f"missing column {col!r}; found {list(predictions.columns)}", path=source
            )
    if test.ratings is None:
        raise DataValidationError("rating metrics need test ratings; the test data has none")
    dup = predictions.duplicated([C.USER, C.ITEM], keep="first")
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        row = predictions.iloc[i]
        raise DataValidationError(
            f"duplicate prediction for userId {row[C.USER]} movieId {row[C.ITEM]}; one per pair",
            path=source, line=i + 2 if source else None,
        )
    truth = test.to_frame()[[C.USER, C.ITEM, C.RATING]]
    pred = predictions[[C.USER, C.ITEM, C.PREDICTION]]
    merged = truth.merge(pred, on=[C.USER, C.ITEM], how="left")
    y = merged[C.RATING].to_numpy(np.float64)
    yhat = pd.to_numeric(merged[C.PREDICTION], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(yhat)
    n_matched = int(merged[C.PREDICTION].notna().sum())
    return {
        "rmse": rmse(yhat[ok], y[ok]),
        "mae": mae(yhat[ok], y[ok]),
        "coverage": float(ok.mean()) if len(ok) else float("nan"),
        "n_test": len(truth),
        "n_predicted": int(ok.sum()),
        "n_ignored": len(pred) - n_matched,
    }
