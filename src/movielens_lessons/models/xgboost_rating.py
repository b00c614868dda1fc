"""``xgboost-rating``: a gradient-boosted regressor on leak-free features, stacked on the factor models.

Each (user, item) row gets

- **user and item statistics** from the training ratings: ``count``, ``mean``, ``damped`` mean (pulled
  toward the global mean by ``damping`` pseudo-ratings) and ``std``;
- **catalogue metadata**: one 0/1 column per MovieLens genre, the release ``year`` (and, with
  ``top_tags > 0``, the most used tags), IMDb's runtime, rating and log votes when the dataset's
  movies carry them (``data imdb`` output), from :func:`movielens_lessons.features.items.item_features`;
- **stacked predictions** of the base rating models (``base_models``, default the bias baseline,
  ``explicit-als`` and ``svd``), plus the user's ``genre_affinity``: the mean of the user's rating minus
  their own mean over movies sharing a genre with this one.

The leakage trap is a training row that sees its own rating: a user mean that includes the rating being
predicted, or an ALS prediction from a model trained on that rating, fits the training rows far better than
it will ever fit the test. So every rating-derived feature of a training row is computed **out of fold**:
the training ratings are dealt into ``n_folds`` folds (per user, round-robin in a seeded random order) and a
row in fold ``f`` gets statistics and base-model predictions from the other folds only. Counts carry no
rating, so they come from all training data. At prediction time everything comes from all training data
(the base models are refitted on it), the usual stacking recipe.

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
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.base import BaseRecommender, _lookup
from movielens_lessons.models.explicit_baselines import BiasedRatingModel

BOOSTER_FILE = "booster.ubj"
#: The bias baseline is always a base model: it is a cheap feature and the fallback for unknown ids.
FALLBACK = "bias-baseline"
#: Feature rows built at once in ``_score`` (users × items), bounding the float32 block to ~80 MiB.
_ROWS_PER_BLOCK = 500_000
_STAT_NAMES = ("count", "mean", "damped", "std")


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
        from movielens_lessons.models.registry import get_spec

        names = [FALLBACK] + [n.strip() for n in str(self.base_models).split(",") if n.strip()]
        names = list(dict.fromkeys(names))
        for name in names:
            if get_spec(name).feedback != "explicit" or name == self.name:
                raise ConfigError(
                    f"base_models must name explicit rating models other than {self.name}, "
                    f"got {name!r}"
                )
        return names

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
        import xgboost as xgb

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
        self.user_counts_ = dataset.user_counts().astype(np.float32)
        self.item_counts_ = dataset.item_counts().astype(np.float32)
        self.item_meta_, meta_names = _item_meta(dataset, int(self.top_tags))
        self.genres_ = _genre_matrix(dataset)
        base_oof = np.empty((len(ratings), len(names)), dtype=np.float32)
        user_oof = np.empty((len(ratings), 3), dtype=np.float32)
        item_oof = np.empty((len(ratings), 3), dtype=np.float32)
        affinity_oof = np.empty(len(ratings), dtype=np.float32)
        for f in range(int(self.n_folds)):
            held = folds == f
            inside = ~held
            glob = float(ratings[inside].mean())
            u_stats = rating_stats(
                users[inside], ratings[inside], dataset.n_users, self.damping, glob
            )
            i_stats = rating_stats(
                items[inside], ratings[inside], dataset.n_items, self.damping, glob
            )
            user_oof[held] = u_stats[users[held]]
            item_oof[held] = i_stats[items[held]]
            aff = genre_affinity(
                users[inside], items[inside], ratings[inside], u_stats[:, 0], self.genres_,
                dataset.n_users,
            )  # fmt: skip
            affinity_oof[held] = _pair_affinity(aff, self.genres_, users[held], items[held])
            part = dataset.subset(inside)
            for j, name in enumerate(names):
                model = _make_base(name).fit(part)
                base_oof[held, j] = model._predict_pairs(users[held], items[held])

        oof_seconds = time.perf_counter() - clock
        # everything again from all training data, for prediction time
        glob = float(self.global_mean_)
        self.user_stats_ = rating_stats(users, ratings, dataset.n_users, self.damping, glob)
        self.item_stats_ = rating_stats(items, ratings, dataset.n_items, self.damping, glob)
        self.user_genre_affinity_ = genre_affinity(
            users, items, ratings, self.user_stats_[:, 0], self.genres_, dataset.n_users
        )
        self.bases_ = {name: _make_base(name).fit(dataset) for name in names}
        self.feature_names_ = np.array(
            [f"user_{s}" for s in _STAT_NAMES]
            + [f"item_{s}" for s in _STAT_NAMES]
            + ["genre_affinity"]
            + [f"pred_{n}" for n in names]
            + meta_names
        )

        x = self._assemble(users, items, user_oof, item_oof, affinity_oof[:, None], base_oof)
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
        names_list = self.feature_names_.tolist()
        dtrain = xgb.DMatrix(x[~valid], label=ratings[~valid], feature_names=names_list)
        dvalid = xgb.DMatrix(x[valid], label=ratings[valid], feature_names=names_list)
        history: dict = {}
        booster = xgb.train(
            params,
            dtrain,
            num_boost_round=int(self.n_trees),
            evals=[(dvalid, "validation")],
            early_stopping_rounds=int(self.early_stopping_rounds),
            evals_result=history,
            verbose_eval=False,
        )
        best = int(getattr(booster, "best_iteration", int(self.n_trees) - 1))
        self.booster_ = booster[: best + 1]  # keep only the best rounds, so save/load agree
        self.booster_.set_param({"nthread": int(self.n_threads)})
        oof_rmse = {
            name: float(np.sqrt(np.mean((ratings - base_oof[:, j]) ** 2)))
            for j, name in enumerate(names)
        }
        self.training_metrics_ = {
            "best_round": best + 1,
            "validation_rmse": float(history["validation"]["rmse"][best]),
            "oof_rmse": oof_rmse,
            # where the fit time goes: out-of-fold features (K fits of every base model) vs boosting
            "oof_seconds": round(oof_seconds, 2),
            "boosting_seconds": round(time.perf_counter() - clock, 2),
        }

    # --- features --------------------------------------------------------------------------------

    def _assemble(
        self,
        users: np.ndarray,
        items: np.ndarray,
        user_stats: np.ndarray,
        item_stats: np.ndarray,
        affinity: np.ndarray,
        base_preds: np.ndarray,
    ) -> np.ndarray:
        """The float32 feature matrix ``(n_rows, n_features)`` in ``feature_names_`` order."""
        return np.hstack(
            [
                self.user_counts_[users, None],
                user_stats,
                self.item_counts_[items, None],
                item_stats,
                affinity,
                base_preds,
                self.item_meta_[items],
            ],
            dtype=np.float32,
        )

    def _features(self, users: np.ndarray, items: np.ndarray, base_preds: np.ndarray) -> np.ndarray:
        """Prediction-time features for known internal ids (statistics from all training data)."""
        aff = _pair_affinity(self.user_genre_affinity_, self.genres_, users, items)
        return self._assemble(
            users,
            items,
            self.user_stats_[users],
            self.item_stats_[items],
            aff[:, None],
            base_preds,
        )

    def _known(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Pairs whose user and item both have training ratings (the rest use the fallback)."""
        known = (users >= 0) & (items >= 0)
        known[known] = (self.user_counts_[users[known]] > 0) & (self.item_counts_[items[known]] > 0)
        return known

    def _booster_predict(self, x: np.ndarray) -> np.ndarray:
        """Raw booster output ``(n_rows,)`` (``inplace_predict``: no DMatrix copy)."""
        return np.asarray(self.booster_.inplace_predict(x), dtype=np.float32)

    def _booster_contribs(self, x: np.ndarray) -> np.ndarray:
        """Per-feature contributions ``(n_rows, n_features + 1)``; the last column is the bias."""
        import xgboost as xgb

        dmatrix = xgb.DMatrix(x, feature_names=self.feature_names_.tolist())
        return self.booster_.predict(dmatrix, pred_contribs=True)

    # --- prediction hooks ------------------------------------------------------------------------

    def _clip(self, values: np.ndarray) -> np.ndarray:
        return np.clip(values, self.rating_scale_[0], self.rating_scale_[1]).astype(np.float32)

    def _predict_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted rating per pair of internal ids; unknown ids (-1) or ids without training
        ratings get the bias baseline's fallback."""
        users, items = np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)
        out = np.asarray(self.bases_[FALLBACK]._predict_pairs(users, items), dtype=np.float32)
        known = self._known(users, items)
        if known.any():
            u, i = users[known], items[known]
            base = np.column_stack([m._predict_pairs(u, i) for m in self.bases_.values()])
            out[known] = self._booster_predict(self._features(u, i, base))
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
            known = self._known(u, i)
            flat = fallback.ravel().copy()
            if known.any():
                base = np.column_stack([sc.ravel()[known] for sc in scores])
                flat[known] = self._booster_predict(self._features(u[known], i[known], base))
            out[s : s + step] = flat.reshape(len(block), n_items)
        return self._clip(out)

    # --- explanations ----------------------------------------------------------------------------

    def feature_importance(self) -> pd.Series:
        """XGBoost's average gain per feature (0 for unused features), sorted descending."""
        self._check_fitted()
        gain = self.booster_.get_score(importance_type="gain")
        series = pd.Series({n: float(gain.get(n, 0.0)) for n in self.feature_names_.tolist()})
        return series.sort_values(ascending=False, kind="stable").rename("gain")

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
        u, i = _lookup(self.user_ids_, u_ext), _lookup(self.item_ids_, i_ext)
        names = self.feature_names_.tolist()
        contribs = np.full((len(u), len(names) + 1), np.nan, dtype=np.float32)
        known = self._known(u, i)
        if known.any():
            uk, ik = u[known], i[known]
            base = np.column_stack([m._predict_pairs(uk, ik) for m in self.bases_.values()])
            contribs[known] = self._booster_contribs(self._features(uk, ik, base))
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
            "user_counts_": self.user_counts_,
            "item_counts_": self.item_counts_,
            "user_stats_": self.user_stats_,
            "item_stats_": self.item_stats_,
            "item_meta_": self.item_meta_,
            "genres_indptr_": self.genres_.indptr,
            "genres_indices_": self.genres_.indices,
            "genres_shape_": np.asarray(self.genres_.shape),
            "user_genre_affinity_": self.user_genre_affinity_,
            "feature_names_": self.feature_names_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        for key in (
            "rating_scale_",
            "user_counts_",
            "item_counts_",
            "user_stats_",
            "item_stats_",
            "item_meta_",
            "user_genre_affinity_",
            "feature_names_",
        ):
            setattr(self, key, state[key])
        self.global_mean_ = np.float32(state["global_mean_"])
        indices = state["genres_indices_"]
        self.genres_ = sp.csr_matrix(
            (np.ones(len(indices), dtype=np.float32), indices, state["genres_indptr_"]),
            shape=tuple(int(s) for s in state["genres_shape_"]),
        )

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


# --- out-of-fold building blocks (public so the lessons and tests can use them) ---------------------


def assign_folds(users: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold ``0 .. n_folds-1`` per row: each user's rows in a random order, dealt round-robin from a
    random start, so a user with ``n ≥ n_folds`` ratings has some in every fold. Shape ``(n_rows,)``."""
    users = np.asarray(users)
    n_users = int(users.max()) + 1 if len(users) else 0
    order = np.lexsort((rng.random(len(users)), users))
    start = np.concatenate([[0], np.cumsum(np.bincount(users, minlength=n_users))])
    rank = np.empty(len(users), dtype=np.int64)
    rank[order] = np.arange(len(users)) - start[users[order]]
    offset = rng.integers(0, n_folds, n_users)
    return ((rank + offset[users]) % n_folds).astype(np.int64)


def rating_stats(
    index: np.ndarray, ratings: np.ndarray, n: int, damping: float, global_mean: float
) -> np.ndarray:
    """Per id ``0 .. n-1``: ``[mean, damped mean, std]`` of the ratings, float32 ``(n, 3)``.

    ``damped = (Σ r + damping · global_mean) / (count + damping)``; mean is NaN without ratings (damped
    is then the global mean); std is the population std, NaN under two ratings.
    """
    count = np.bincount(index, minlength=n).astype(np.float64)
    total = np.bincount(index, weights=ratings, minlength=n)
    squares = np.bincount(index, weights=ratings**2, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)
        var = np.maximum(squares / count - mean**2, 0.0)
        std = np.where(count > 1, np.sqrt(var), np.nan)
    damped = (total + float(damping) * global_mean) / (count + float(damping))
    return np.column_stack([mean, damped, std]).astype(np.float32)


def genre_affinity(
    users: np.ndarray,
    items: np.ndarray,
    ratings: np.ndarray,
    user_mean: np.ndarray,
    genres: sp.csr_matrix,
    n_users: int,
) -> np.ndarray:
    """Per user and genre, the mean of (rating − the user's mean) over their rated movies of that genre:
    float32 ``(n_users, n_genres)``, NaN where the user rated none."""
    n_items = genres.shape[0]
    centred = ratings - np.nan_to_num(user_mean[users].astype(np.float64))
    shape = (n_users, n_items)
    sums = np.asarray((sp.csr_matrix((centred, (users, items)), shape=shape) @ genres).todense())
    seen = sp.csr_matrix((np.ones(len(users)), (users, items)), shape=shape)
    counts = np.asarray((seen @ genres).todense())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan).astype(np.float32)


def _pair_affinity(
    affinity: np.ndarray, genres: sp.csr_matrix, users: np.ndarray, items: np.ndarray
) -> np.ndarray:
    """Mean of the user's genre affinities over the item's genres (NaN if none known), ``(n_pairs,)``."""
    if genres.shape[1] == 0 or len(users) == 0:
        return np.full(len(users), np.nan, dtype=np.float32)
    hot = genres[items]  # (n_pairs, n_genres) CSR
    rows = np.repeat(np.arange(len(users)), np.diff(hot.indptr))
    values = affinity[users[rows], hot.indices].astype(np.float64)
    ok = np.isfinite(values)
    total = np.bincount(rows[ok], weights=values[ok], minlength=len(users))
    count = np.bincount(rows[ok], minlength=len(users))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan).astype(np.float32)


def _genre_matrix(dataset: Dataset) -> sp.csr_matrix:
    from movielens_lessons.features.items import genre_matrix

    return genre_matrix(dataset).tocsr()


def _item_meta(dataset: Dataset, top_tags: int) -> tuple[np.ndarray, list[str]]:
    """Catalogue columns (genres, year, tags, IMDb runtime/rating/log votes when the movies carry
    them; no MovieLens-rating-derived ones) ``(n_items, m)`` and names."""
    from movielens_lessons.features.items import attached_imdb, item_features

    feats = item_features(dataset, top_tags=top_tags, imdb=attached_imdb(dataset))
    imdb = ("imdb_runtime", "imdb_rating", "imdb_log_votes")
    cols = [
        c for c in feats.columns if c.startswith(("genre_", "tag_")) or c == "year" or c in imdb
    ]
    return feats[cols].to_numpy(np.float32), [f"item_{c}" for c in cols]


def _make_base(name: str) -> BiasedRatingModel:
    from movielens_lessons.models.registry import create_model

    return create_model(name)
