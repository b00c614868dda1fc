"""ALS trained by Spark MLlib (``pyspark.ml.recommendation.ALS``), served from its factors in NumPy.

``spark-als`` predicts ratings: ``r̂_ui = μ + b_u + b_i + p_u · q_i``, where the damped biases are
averages computed by Spark SQL and ALS factorises what they leave (Spark's ALS has no bias terms, and
plain factors on raw ratings need far more regularisation to reach the same RMSE). ``spark-als-implicit``
is Hu, Koren & Volinsky's implicit ALS (``implicitPrefs=True``): every interaction is a positive with
confidence ``1 + alpha``; scores are ``p_u · q_i``.

Training goes through Spark from the start: the interactions become a Spark DataFrame (internal ids,
via Arrow, no pandas detour), and Spark fits. The learned factors are then collected, so a trained
model recommends, predicts, folds nothing and saves like every other model (``arrays.npz``), and is
served and evaluated without a JVM. When the Spark model is still in memory (a model just fitted),
``save`` also writes it with Spark ML's own writer to ``spark_model/``, loadable with
``pyspark.ml.recommendation.ALSModel.load``. ``spark-als-implicit`` also recommends inside Spark (``recommend_in_spark``: over-fetch, anti-join the
seen pairs, top-K per user by a window), for data whose users do not fit the driver; on
ml-latest-small its top 10 equal the NumPy path's for every user. ``coldStartStrategy="drop"``: Spark never returns NaN;
unknown users and items are handled by the base class (popularity fallback; the baseline rating).
Seeded: the same data, seed and block counts give the same factors.

Defaults, chosen on ``tune``'s validation splits of ml-latest-small (both protocols, P2v temporal /
P1v random) with ``benchmarks/spark_als.py --validation --only MODEL --param MODEL.KEY=VALUE``:

- ``spark-als`` (RMSE as a multiple of ``explicit-als``'s, P2v / P1v): rank 10 with regParam 0.15
  1.011 / 1.016, 0.2 1.006 / 1.011, 0.3 1.012 / 1.017, 0.5 1.016 / 1.021; 0.3 with 20 epochs 1.011
  / 1.015, with bias damping 15 1.014 / 1.020; 0.2 with damping 2 1.011 / 1.015; **0.2 with rank 20
  1.005 / 1.009 (chosen)**; rank 20 with 0.3 1.012 / 1.017.
- ``spark-als-implicit`` (NDCG@10, P2v / P1v), from the issue's tuned rank 64, regParam 0.1, alpha
  0.3, 15 iterations with binary weights: 0.1154 / 0.1866; alpha 1 0.1159 / 0.1842, alpha 3 0.1132 /
  0.1786, regParam 1.0 0.0400 / 0.0280, 0.05 0.1174 / 0.1830, rank 32 0.1140 / 0.1835, 25 iterations
  0.1149 / 0.1878; confidence from the rating (``weighting="rating"``) **0.1200 / 0.1889
  (chosen)**, from ``1 + log(rating)`` 0.1197 / 0.1870.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from movielens_lessons.data.csr_views import check_weighting
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.factorization.factor_model import FactorModel

#: Spark ML's folder inside a saved model, written when the fitted Spark model is in memory.
SPARK_MODEL_DIR = "spark_model"


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _non_negative(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


class _SparkALSBase(FactorModel):
    """Shared fitting: a DataFrame of (user, item, value) → ``pyspark.ml`` ALS → NumPy factors."""

    implicit_prefs = False
    # set by the subclasses' constructors
    n_factors: int
    regularization: float
    n_epochs: int
    n_blocks: int
    random_state: int
    spark_master: str | None

    def _als_params(self, alpha: float) -> dict[str, Any]:
        """``pyspark.ml`` ALS keywords from this model's settings (checked; no Spark needed)."""
        blocks = _positive_int("n_blocks", self.n_blocks)
        return dict(
            rank=_positive_int("n_factors", self.n_factors),
            maxIter=_positive_int("n_epochs", self.n_epochs),
            regParam=_non_negative("regularization", self.regularization),
            alpha=_non_negative("alpha", alpha),
            implicitPrefs=self.implicit_prefs,
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            userCol="user",
            itemCol="item",
            ratingCol="value",
            coldStartStrategy="drop",
            seed=int(self.random_state),
        )

    def _fit_factors(self, dataset: Dataset, users: np.ndarray, items: np.ndarray,
                     values: np.ndarray, alpha: float = 1.0) -> None:
        """Fit Spark's ALS on (internal user, internal item, value) triples and keep its factors as
        ``user_factors_`` ``(n_users, n_factors)`` and ``item_factors_`` ``(n_items, n_factors)``."""
        import pyarrow as pa
        from pyspark.ml.recommendation import ALS

        from movielens_lessons.spark.session import spark_session

        params = self._als_params(alpha)  # checked before Spark starts
        spark = spark_session(self.spark_master)
        als = ALS(**params)
        table = pa.table({
            "user": users.astype(np.int32),
            "item": items.astype(np.int32),
            "value": values.astype(np.float32),
        })  # fmt: skip
        self._train_frame = spark.createDataFrame(table)
        self._spark_model = als.fit(self._train_frame)
        rank = int(self.n_factors)
        # users or items ALS never saw (none here: every id has a training row) stay at zero
        self.user_factors_ = _collect(self._spark_model.userFactors, dataset.n_users, rank)
        self.item_factors_ = _collect(self._spark_model.itemFactors, dataset.n_items, rank)

    def _save_files(self, folder: Path) -> None:
        spark_model = getattr(self, "_spark_model", None)
        if spark_model is not None:  # a loaded model has only its factors: nothing for Spark
            spark_model.write().overwrite().save(str(folder / SPARK_MODEL_DIR))


def _collect(factors: Any, n: int, rank: int) -> np.ndarray:
    """A Spark ``(id, features)`` factor DataFrame as a float32 ``(n, rank)`` array, row = id."""
    table = factors.toArrow()
    ids = table.column("id").to_numpy()
    out = np.zeros((n, rank), dtype=np.float32)
    if len(ids):
        out[ids] = np.asarray(table.column("features").to_pylist(), dtype=np.float32)
    return out


class SparkALSImplicit(_SparkALSBase):
    """Implicit-feedback ALS on Spark: ``n_factors`` (Spark's ``rank``), ``regularization``
    (``regParam``), ``n_epochs`` (``maxIter``), confidence ``1 + alpha · w`` with ``w`` 1 per
    interaction (``weighting="binary"``), its rating or ``1 + log(rating)``, ``n_blocks`` user and item
    blocks, seeded by ``random_state``; ``spark_master`` overrides ``$SPARK_MASTER`` / ``local[*]``
    when this fit starts the process's Spark session."""

    name = "spark-als-implicit"
    feedback = "implicit"
    implicit_prefs = True

    def __init__(
        self,
        n_factors: int = 64,
        regularization: float = 0.1,
        n_epochs: int = 15,
        alpha: float = 0.3,
        weighting: str = "rating",
        n_blocks: int = 4,
        random_state: int = 42,
        spark_master: str | None = None,
    ) -> None:
        self.n_factors = n_factors
        self.regularization = regularization
        self.n_epochs = n_epochs
        self.alpha = alpha
        self.weighting = weighting
        self.n_blocks = n_blocks
        self.random_state = random_state
        self.spark_master = spark_master

    def _fit(self, dataset: Dataset) -> None:
        x = dataset.implicit(check_weighting(self.weighting)).tocoo()
        self._fit_factors(dataset, x.row, x.col, x.data, alpha=self.alpha)

    def recommend_in_spark(self, k: int = 10) -> Any:
        """Every training user's top-``k`` unseen items computed by Spark, as a Spark DataFrame
        ``userId, movieId, rank, score`` (external ids): Spark's ``recommendForAllUsers`` over-fetches
        ``k`` + the most items any user has seen, the training pairs are removed by an anti-join,
        and each user keeps the best ``k`` (ties: lower internal item id first, as the NumPy path).
        Needs the fitted Spark model in memory (a model just fitted, not one loaded from disk)."""
        import pyarrow as pa
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from movielens_lessons import columns as C
        from movielens_lessons.models.topk import check_k
        from movielens_lessons.spark.session import spark_session

        k = check_k(k)
        if getattr(self, "_spark_model", None) is None:
            raise ConfigError(f"{self.name}: recommend_in_spark needs the Spark model of a fit in "
                              "this process; a loaded model recommends with recommend()")
        spark = spark_session(self.spark_master)
        seen = self._train_frame.select("user", "item")
        most_seen = seen.groupBy("user").count().agg(F.max("count")).first()[0]
        fetch = min(k + int(most_seen), self.n_items)
        recs = (self._spark_model.recommendForAllUsers(fetch)
                .select("user", F.explode("recommendations").alias("r"))
                .select("user", F.col("r.item").alias("item"), F.col("r.rating").alias("score"))
                .join(seen, ["user", "item"], "left_anti"))  # fmt: skip
        order = Window.partitionBy("user").orderBy(F.col("score").desc(), F.col("item"))
        top = recs.withColumn(C.RANK, F.row_number().over(order)).where(F.col(C.RANK) <= k)
        ids = pa.table({"user": np.arange(self.n_users, dtype=np.int32),
                        C.USER: np.asarray(self.user_ids_).astype(np.int64)})
        items = pa.table({"item": np.arange(self.n_items, dtype=np.int32),
                          C.ITEM: np.asarray(self.item_ids_).astype(np.int64)})
        return (top.join(spark.createDataFrame(ids), "user").join(spark.createDataFrame(items), "item")
                .select(C.USER, C.ITEM, C.RANK, "score"))  # fmt: skip


class SparkALS(_SparkALSBase):
    """Explicit ratings on Spark: damped user and item biases (``bias_damping`` pseudo-ratings at
    the mean, computed with Spark SQL) plus ALS factors of the residuals; the other settings as
    :class:`SparkALSImplicit` (there is no ``alpha``). Predictions are clipped to the rating scale."""

    name = "spark-als"
    feedback = "explicit"

    def __init__(
        self,
        n_factors: int = 20,
        regularization: float = 0.2,
        n_epochs: int = 10,
        bias_damping: float = 5.0,
        n_blocks: int = 4,
        random_state: int = 42,
        spark_master: str | None = None,
    ) -> None:
        self.n_factors = n_factors
        self.regularization = regularization
        self.n_epochs = n_epochs
        self.bias_damping = bias_damping
        self.n_blocks = n_blocks
        self.random_state = random_state
        self.spark_master = spark_master

    def _fit(self, dataset: Dataset) -> None:
        from movielens_lessons.spark.session import spark_session

        damping = _non_negative("bias_damping", self.bias_damping)
        self._als_params(1.0)  # every parameter checked before Spark starts
        users, items = np.asarray(dataset.users), np.asarray(dataset.items)
        ratings = np.asarray(dataset.ratings, dtype=np.float64)
        low, high = dataset.rating_scale  # type: ignore[misc]
        self.rating_scale_ = np.array([low, high], dtype=np.float32)
        spark = spark_session(self.spark_master)
        self.global_mean_, self.item_bias_, self.user_bias_ = _biases(
            spark, users, items, ratings, damping, dataset.n_users, dataset.n_items
        )
        residual = ratings - self.global_mean_ - self.item_bias_[items] - self.user_bias_[users]
        self._fit_factors(dataset, users, items, residual)

    def _predict_pairs(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Predicted ratings per pair of internal ids; an unknown side (-1) drops its bias and the
        factor term."""
        users, items = np.asarray(users), np.asarray(items)
        known_u, known_i = users >= 0, items >= 0
        out = np.full(len(users), self.global_mean_, dtype=np.float64)
        out[known_u] += self.user_bias_[users[known_u]]
        out[known_i] += self.item_bias_[items[known_i]]
        both = known_u & known_i
        out[both] += np.einsum(
            "nd,nd->n", self.user_factors_[users[both]], self.item_factors_[items[both]]
        )
        return np.clip(out, self.rating_scale_[0], self.rating_scale_[1]).astype(np.float32)

    def _score(self, users: np.ndarray) -> np.ndarray:
        scores = (
            self.global_mean_ + self.user_bias_[users, None] + self.item_bias_[None, :]
            + self.user_factors_[users] @ self.item_factors_.T
        )  # fmt: skip
        return np.clip(scores, self.rating_scale_[0], self.rating_scale_[1]).astype(np.float32)

    def _get_state(self) -> dict[str, np.ndarray]:
        return {
            **super()._get_state(),
            "global_mean_": np.array(self.global_mean_),
            "user_bias_": self.user_bias_,
            "item_bias_": self.item_bias_,
            "rating_scale_": self.rating_scale_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        super()._set_state(state)
        self.global_mean_ = float(state["global_mean_"])
        self.user_bias_ = state["user_bias_"]
        self.item_bias_ = state["item_bias_"]
        self.rating_scale_ = state["rating_scale_"]


def _biases(spark: Any, users: np.ndarray, items: np.ndarray, ratings: np.ndarray, damping: float,
            n_users: int, n_items: int) -> tuple[float, np.ndarray, np.ndarray]:
    """``(μ, b_i, b_u)`` computed by Spark SQL: ``b_i = Σ(r − μ) / (n_i + damping)``, then
    ``b_u = Σ(r − μ − b_i) / (n_u + damping)``; float64 arrays indexed by internal id."""
    import pyarrow as pa
    from pyspark.sql import functions as F

    frame = spark.createDataFrame(pa.table({"user": users.astype(np.int32),
                                            "item": items.astype(np.int32), "r": ratings}))
    mu = float(frame.agg(F.avg("r")).first()[0])
    item = frame.groupBy("item").agg((F.sum(F.col("r") - mu) / (F.count("r") + damping)).alias("b"))
    item_bias = _dense(item.toArrow(), "item", n_items)
    with_item = frame.join(item.withColumnRenamed("b", "bi"), "item")
    user = with_item.groupBy("user").agg(
        (F.sum(F.col("r") - mu - F.col("bi")) / (F.count("r") + damping)).alias("b")
    )
    return mu, item_bias, _dense(user.toArrow(), "user", n_users)


def _dense(table: Any, key: str, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.float64)
    out[table.column(key).to_numpy()] = table.column("b").to_numpy()
    return out
