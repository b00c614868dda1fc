"""ALS trained by Spark MLlib (``pyspark.ml.recommendation.ALS``), served from its factors in NumPy.

``spark-als`` predicts ratings: ``r̂_ui = μ + b_u + b_i + p_u · q_i``, where the damped biases are
averages computed by Spark SQL and ALS factorises what they leave (Spark's ALS has no bias terms, and
plain factors on raw ratings need far more regularisation to reach the same RMSE). ``spark-als-implicit``
is Hu, Koren & Volinsky's implicit ALS (``implicitPrefs=True``): every interaction is a positive with
confidence ``1 + alpha``; scores are ``p_u · q_i``.

Training goes through Spark from the start (:class:`~.fitting.SparkTrainedModel`): from a Spark
DataFrame (``fit_spark``), or from a Dataset turned into one (``fit``); ids become internal ids by
broadcast joins, and Spark fits. The learned factors are then collected, so a trained model
recommends, predicts, folds nothing and saves like every other model (``arrays.npz``), and is served
and evaluated without a JVM, or inside Spark from those arrays
(:mod:`~movielens_lessons.models.spark.distributed`). When the Spark model is still in memory (a
model just fitted), ``save`` also writes it with Spark ML's own writer to ``spark_model/``, loadable
with ``pyspark.ml.recommendation.ALSModel.load``. ``coldStartStrategy="drop"``: Spark never returns
NaN; unknown users and items are handled by the base class (popularity fallback; the baseline
rating). Seeded: the same data, seed and block counts give the same factors.

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
from movielens_lessons.errors import DataValidationError
from movielens_lessons.models.factorization.factor_model import FactorModel
from movielens_lessons.models.params import check_int, check_number
from movielens_lessons.models.spark.fitting import SparkTrainedModel

#: Spark ML's folder inside a saved model, written when the fitted Spark model is in memory.
SPARK_MODEL_DIR = "spark_model"


class _SparkALSBase(FactorModel, SparkTrainedModel):
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
        blocks = check_int("n_blocks", self.n_blocks)
        return dict(
            rank=check_int("n_factors", self.n_factors),
            maxIter=check_int("n_epochs", self.n_epochs),
            regParam=check_number("regularization", self.regularization, 0.0),
            alpha=check_number("alpha", alpha, 0.0),
            implicitPrefs=self.implicit_prefs,
            numUserBlocks=blocks,
            numItemBlocks=blocks,
            userCol="user",
            itemCol="item",
            ratingCol="value",
            coldStartStrategy="drop",
            seed=int(self.random_state),
        )

    def _fit_factors(self, frame: Any, alpha: float = 1.0) -> None:
        """Fit Spark's ALS on ``frame`` (``user``, ``item``: internal ids; ``value``) and keep its
        factors as ``user_factors_`` ``(n_users, n_factors)`` and ``item_factors_``
        ``(n_items, n_factors)``."""
        from pyspark.ml.recommendation import ALS
        from pyspark.sql import functions as F

        als = ALS(**self._als_params(alpha))
        self._train_frame = frame.select(F.col("user").cast("int"), F.col("item").cast("int"),
                                         F.col("value").cast("float"))
        self._spark_model = als.fit(self._train_frame)
        rank = int(self.n_factors)
        # users or items ALS never saw (none here: every id has a training row) stay at zero
        self.user_factors_ = _collect(self._spark_model.userFactors, len(self.user_ids_), rank)
        self.item_factors_ = _collect(self._spark_model.itemFactors, len(self.item_ids_), rank)

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

    def _check_params(self) -> None:
        check_weighting(self.weighting)
        self._als_params(self.alpha)

    def _fit_spark(self, spark: Any, train: Any, positive_threshold: float | None) -> None:
        from pyspark.sql import functions as F

        from movielens_lessons import columns as C

        weighting = check_weighting(self.weighting)
        if weighting != "binary" and C.RATING not in train.columns:
            raise DataValidationError(f"weighting {weighting!r} needs ratings; this data has none")
        if positive_threshold is not None:
            train = train.where(F.col(C.RATING) >= F.lit(float(positive_threshold)))
        rating = F.col(C.RATING).cast("double")
        value = {"binary": F.lit(1.0), "rating": rating,
                 "log": 1.0 + F.log(F.greatest(rating, F.lit(1e-6)))}[weighting]
        frame = self._internal_ids(spark, train.select(C.USER, C.ITEM, value.alias("value")))
        self._fit_factors(frame, alpha=self.alpha)


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

    def _check_params(self) -> None:
        check_number("bias_damping", self.bias_damping, 0.0)
        self._als_params(1.0)

    def _fit_spark(self, spark: Any, train: Any, positive_threshold: float | None) -> None:
        from pyspark.sql import functions as F

        from movielens_lessons import columns as C

        damping = check_number("bias_damping", self.bias_damping, 0.0)
        frame = self._internal_ids(
            spark, train.select(C.USER, C.ITEM, F.col(C.RATING).cast("double").alias("r"))
        ).select("user", "item", "r").persist()
        try:
            stats = frame.agg(F.avg("r"), F.min("r"), F.max("r")).first()
            mu = float(stats[0])
            self.rating_scale_ = np.array([stats[1], stats[2]], dtype=np.float32)
            # b_i = Σ(r − μ) / (n_i + damping), then b_u = Σ(r − μ − b_i) / (n_u + damping)
            item = frame.groupBy("item").agg(
                (F.sum(F.col("r") - mu) / (F.count("r") + damping)).alias("bi"))
            with_item = frame.join(F.broadcast(item), "item")
            user = with_item.groupBy("user").agg(
                (F.sum(F.col("r") - mu - F.col("bi")) / (F.count("r") + damping)).alias("bu"))
            self.global_mean_ = mu
            self.item_bias_ = _dense(item.toArrow(), "item", "bi", len(self.item_ids_))
            self.user_bias_ = _dense(user.toArrow(), "user", "bu", len(self.user_ids_))
            residual = with_item.join(F.broadcast(user), "user").select(
                "user", "item", (F.col("r") - mu - F.col("bi") - F.col("bu")).alias("value"))
            self._fit_factors(residual)
        finally:
            frame.unpersist()

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


def _dense(table: Any, key: str, column: str, n: int) -> np.ndarray:
    """A Spark ``(key, column)`` result as a float64 ``(n,)`` array indexed by ``key``."""
    out = np.zeros(n, dtype=np.float64)
    out[table.column(key).to_numpy()] = table.column(column).to_numpy()
    return out
