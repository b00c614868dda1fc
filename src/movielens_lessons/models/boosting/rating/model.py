"""``xgboost-rating``: a gradient-boosted regressor on leak-free features, stacked on the factor models.

Features: :mod:`~movielens_lessons.models.boosting.rating.features`; out-of-fold stacking, so that no training
row sees its own rating: :mod:`~movielens_lessons.models.boosting.rating.stacking`; boosting:
:mod:`~movielens_lessons.models.boosting.rating.booster`.

The regressor is trained on the out-of-fold rows with early stopping on a ``validation_size`` share of
them (seeded), keeping the best round. Predictions are clipped to the training rating scale. A user or
item without training ratings falls back to the bias baseline (μ + the known bias), as every explicit model
does. ``feature_importance()`` gives XGBoost's gain per feature and ``explain(users, items)`` the
per-prediction contributions (``pred_contribs``).

The boosting defaults are common XGBoost settings, not tuned (early stopping picks the number of rounds);
the base models keep their own tuned defaults. The lesson with the measured table and the leakage
experiment is docs/lessons/xgboost-rating.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.indexing import map_ids
from movielens_lessons.errors import ConfigError
from movielens_lessons.features.catalogue import genre_matrix
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.boosting.rating.booster import (
    booster_contribs,
    booster_predict,
    gain_importance,
    train_booster,
)
from movielens_lessons.models.boosting.rating.features import (
    RatingTables,
    feature_names,
    item_meta,
    rating_tables,
)
from movielens_lessons.models.boosting.rating.stacking import (
    FALLBACK,
    assign_folds,
    base_model,
    base_names,
    out_of_fold,
)

BOOSTER_FILE = "booster.ubj"
#: Feature rows built at once in ``_score`` (users × items), bounding the float32 block to ~80 MiB.
_ROWS_PER_BLOCK = 500_000


class XGBoostRating(BaseRecommender):
    """XGBoost regressor on out-of-fold user/item statistics, metadata and stacked base-model ratings.

    Boosting: at most ``n_trees`` rounds of depth-``max_depth`` trees with step ``learning_rate``, L2
    penalty ``regularization`` on leaf weights, ``min_child_weight``, row/column ``subsample`` /
    ``colsample``, ``tree_method="hist"``, ``n_threads`` threads; stops after ``early_stopping_rounds``
    rounds without improvement on the validation rows. ``base_models`` is a comma-separated list of
    registered explicit models (their shipped defaults) stacked as features; ``bias-baseline`` is always
    included. ``n_threads`` defaults to 1: on a busy 2-core machine two OpenMP threads made boosting
    ~90x slower (P2: 1.4 s quiet, 126 s with other jobs running; one thread: 2.3 s) for the same trees.
    ``training_metrics_`` holds the out-of-fold RMSE of each base model, the validation RMSE
    and the best round.
    """

    name = "xgboost-rating"
    feedback = "explicit"

    def __init__(
        self,
        base_models: str = "bias-baseline,explicit-als,svd",
        n_folds: int = 5,
        n_trees: int = 2000,
        learning_rate: float = 0.05,
        max_depth: int = 6,
        min_child_weight: float = 20.0,
        subsample: float = 0.8,
        colsample: float = 0.8,
        regularization: float = 1.0,
        damping: float = 5.0,
        top_tags: int = 0,
        validation_size: float = 0.1,
        early_stopping_rounds: int = 50,
        n_threads: int = 1,
        random_state: int = 42,
    ) -> None:
        self.base_models = base_models
        self.n_folds = n_folds
        self.n_trees = n_trees
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample = colsample
        self.regularization = regularization
        self.damping = damping
        self.top_tags = top_tags
        self.validation_size = validation_size
        self.early_stopping_rounds = early_stopping_rounds
        self.n_threads = n_threads
        self.random_state = random_state

    # --- fitting ---------------------------------------------------------------------------------

    def _base_names(self) -> list[str]:
        return base_names(self.base_models, self.name)

    def _check_params(self) -> None:
        if not isinstance(self.n_folds, int | np.integer) or self.n_folds < 2:
            raise ConfigError(f"n_folds must be an integer ≥ 2, got {self.n_folds!r}")
        if not 0 < float(self.validation_size) < 1:
            raise ConfigError(f"validation_size must be in (0, 1), got {self.validation_size!r}")
        if int(self.n_trees) < 1:
            raise ConfigError(f"n_trees must be ≥ 1, got {self.n_trees!r}")

    def _fit(self, dataset: Dataset) -> None:
        from threadpoolctl import threadpool_limits

        self._check_params()
        # The base models solve many small systems: with two BLAS threads on a busy 2-core machine,
        # OpenBLAS's spinning threads made explicit-als ~10x slower (1.3 s → 13 s per fit, measured).
        with threadpool_limits(limits=1, user_api="blas"):
            self._fit_stacked(dataset)

    def _fit_stacked(self, dataset: Dataset) -> None:
        names = self._base_names()
        users, items = np.asarray(dataset.users), np.asarray(dataset.items)
        ratings = np.asarray(dataset.ratings, dtype=np.float64)
        low, high = dataset.rating_scale  # type: ignore[misc]
        self.rating_scale_ = np.array([low, high], dtype=np.float32)
        self.global_mean_ = np.float32(ratings.mean())
        rng = np.random.default_rng(self.random_state)
        folds = assign_folds(users, int(self.n_folds), rng)
        clock = time.perf_counter()

        # out-of-fold features of the training rows
        meta, meta_names = item_meta(dataset, int(self.top_tags))
        genres = genre_matrix(dataset)
        oof = out_of_fold(dataset, folds, int(self.n_folds), self.damping, genres, names)
        oof_seconds = time.perf_counter() - clock
        # everything again from all training data, for prediction time
        self.tables_ = rating_tables(dataset, self.damping, float(self.global_mean_), meta, genres)
        self.bases_ = {name: base_model(name).fit(dataset) for name in names}
        self.feature_names_ = np.array(feature_names(names, meta_names))

        x = self.tables_.rows(
            users, items, oof.user_stats, oof.item_stats, oof.affinity[:, None], oof.base_preds
        )
        valid = rng.random(len(ratings)) < float(self.validation_size)
        clock = time.perf_counter()
        params = {
            "objective": "reg:squarederror",
            "tree_method": "hist",
            "eta": float(self.learning_rate),
            "max_depth": int(self.max_depth),
            "min_child_weight": float(self.min_child_weight),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample),
            "lambda": float(self.regularization),
            "base_score": float(self.global_mean_),
            "nthread": int(self.n_threads),
            "seed": int(self.random_state),
            "eval_metric": "rmse",
        }
        self.booster_, best, validation_rmse = train_booster(
            params,
            x,
            ratings,
            valid,
            self.feature_names_.tolist(),
            int(self.n_trees),
            int(self.early_stopping_rounds),
        )
        oof_rmse = {
            name: float(np.sqrt(np.mean((ratings - oof.base_preds[:, j]) ** 2)))
            for j, name in enumerate(names)
        }
        self.training_metrics_ = {
            "best_round": best + 1,
            "validation_rmse": validation_rmse,
            "oof_rmse": oof_rmse,
            # where the fit time goes: out-of-fold features (K fits of every base model) vs boosting
            "oof_seconds": round(oof_seconds, 2),
            "boosting_seconds": round(time.perf_counter() - clock, 2),
        }

    # --- prediction hooks ------------------------------------------------------------------------

    def _clip(self, values: np.ndarray) -> np.ndarray:
        return np.clip(values, self.rating_scale_[0], self.rating_scale_[1]).astype(np.float32)

    def _predict_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted rating per pair of internal ids; unknown ids (-1) or ids without training
        ratings get the bias baseline's fallback."""
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        out = np.asarray(self.bases_[FALLBACK]._predict_pairs(users, items), dtype=np.float32)
        known = self.tables_.known(users, items)
        if known.any():
            u, i = users[known], items[known]
            base = np.column_stack([m._predict_pairs(u, i) for m in self.bases_.values()])
            out[known] = booster_predict(self.booster_, self.tables_.features(u, i, base))
        return self._clip(out)

    def _score(self, users: np.ndarray) -> np.ndarray:
        """Predicted ratings ``(len(users), n_items)``, built and predicted in blocks of users."""
        users = np.asarray(users, dtype=np.int64)
        n_items = self.n_items
        out = np.empty((len(users), n_items), dtype=np.float32)
        step = max(1, _ROWS_PER_BLOCK // max(n_items, 1))
        all_items = np.arange(n_items)
        for s in range(0, len(users), step):
            block = users[s : s + step]
            scores = [np.asarray(m._score(block), dtype=np.float32) for m in self.bases_.values()]
            fallback = scores[0]
            u = np.repeat(block, n_items)
            i = np.tile(all_items, len(block))
            known = self.tables_.known(u, i)
            flat = fallback.ravel().copy()
            if known.any():
                base = np.column_stack([sc.ravel()[known] for sc in scores])
                x = self.tables_.features(u[known], i[known], base)
                flat[known] = booster_predict(self.booster_, x)
            out[s : s + step] = flat.reshape(len(block), n_items)
        return self._clip(out)

    # --- explanations ----------------------------------------------------------------------------

    def feature_importance(self) -> pd.Series:
        """XGBoost's average gain per feature (0 for unused features), sorted descending."""
        self._check_fitted()
        return gain_importance(self.booster_, self.feature_names_.tolist())

    def explain(self, users: Iterable[int], items: Iterable[int]) -> pd.DataFrame:
        """Per-pair contributions to the predicted rating (external ids), via ``pred_contribs``.

        One row per pair: ``userId, movieId, prediction`` (clipped), ``base_value`` (the booster's
        bias), then one column per feature; the unclipped prediction is their sum. Pairs that use the
        fallback (unknown user or item) have ``fallback=True`` and NaN contributions.
        """
        self._check_fitted()
        u_ext, i_ext = np.asarray(list(users)), np.asarray(list(items))
        if len(u_ext) != len(i_ext):
            raise ConfigError(
                f"explain needs as many users as items, got {len(u_ext)} and {len(i_ext)}"
            )
        u, i = map_ids(u_ext, self.user_ids_), map_ids(i_ext, self.item_ids_)
        names = self.feature_names_.tolist()
        contribs = np.full((len(u), len(names) + 1), np.nan, dtype=np.float32)
        known = self.tables_.known(u, i)
        if known.any():
            uk, ik = u[known], i[known]
            base = np.column_stack([m._predict_pairs(uk, ik) for m in self.bases_.values()])
            x = self.tables_.features(uk, ik, base)
            contribs[known] = booster_contribs(self.booster_, x, names)
        frame = pd.DataFrame(contribs[:, :-1], columns=names)
        frame.insert(0, "base_value", contribs[:, -1])
        frame.insert(0, C.FALLBACK, ~known)
        frame.insert(0, C.PREDICTION, self._predict_pairs(u, i))
        frame.insert(0, C.ITEM, i_ext)
        frame.insert(0, C.USER, u_ext)
        return frame

    # --- persistence -----------------------------------------------------------------------------

    def _get_state(self) -> dict[str, np.ndarray]:
        return {
            "rating_scale_": self.rating_scale_,
            "global_mean_": np.asarray(self.global_mean_),
            **self.tables_.arrays(),
            "feature_names_": self.feature_names_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.rating_scale_ = state["rating_scale_"]
        self.global_mean_ = np.float32(state["global_mean_"])
        self.tables_ = RatingTables.from_arrays(state)
        self.feature_names_ = state["feature_names_"]

    def _save_files(self, folder: Path) -> None:
        self.booster_.save_model(folder / BOOSTER_FILE)
        for name, model in self.bases_.items():
            model.save(folder / f"base-{name}")

    def _load_files(self, folder: Path) -> None:
        import xgboost as xgb

        self.booster_ = xgb.Booster()
        self.booster_.load_model(folder / BOOSTER_FILE)
        self.booster_.set_param({"nthread": int(self.n_threads)})
        self.bases_ = {
            name: BaseRecommender.load(folder / f"base-{name}") for name in self._base_names()
        }
