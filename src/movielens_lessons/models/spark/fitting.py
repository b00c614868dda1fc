"""Fitting from a Spark DataFrame: ``fit_spark(train)``, the twin of ``fit(dataset)`` for data that
lives in Spark (read, split and filtered by Spark, never a pandas frame or a ``Dataset``).

Both paths end in the same learned state, so a model trained either way saves, loads, recommends and
is served alike: ``fit(dataset)`` turns the Dataset into a Spark DataFrame (Arrow) and takes the
Spark path. What ``fit_spark`` collects to the driver, besides what the model learns: the distinct
user and item ids (the id maps), and every training ``(user, item)`` pair, which the NumPy serving
path needs to exclude seen items (8 bytes per interaction: 256 MB for ML-32M).
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import DataValidationError, MissingColumnError
from movielens_lessons.models.base import BaseRecommender

S = TypeVar("S", bound="SparkTrainedModel")


class SparkTrainedModel(BaseRecommender):
    """A model whose training runs in Spark; subclasses implement :meth:`_fit_spark`."""

    #: Set by the subclasses' constructors: the master URL a fit uses if it starts the session.
    spark_master: str | None

    def _fit(self, dataset: Dataset) -> None:
        from movielens_lessons.spark.frames import from_dataset
        from movielens_lessons.spark.session import spark_session

        self._check_params()  # before Spark starts
        spark = spark_session(self.spark_master)
        self._fit_spark(spark, from_dataset(spark, dataset), dataset.positive_threshold)

    def fit_spark(self: S, train: Any, positive_threshold: float | None = None) -> S:
        """Learn from a Spark DataFrame with the canonical columns (``userId``, ``movieId``,
        ``rating`` for explicit models or a ``positive_threshold``; ``timestamp`` optional).

        ``positive_threshold`` keeps only ratings ≥ it as positives (as ``Dataset.implicit()``);
        every training row counts as seen either way."""
        from movielens_lessons.spark.frames import fingerprint, to_numpy
        from movielens_lessons.spark.session import spark_session

        missing = [c for c in (C.USER, C.ITEM) if c not in train.columns]
        if missing:
            raise MissingColumnError(f"fit_spark needs columns {missing}; found {train.columns}")
        needs_rating = self.feedback == "explicit" or positive_threshold is not None
        if needs_rating and C.RATING not in train.columns:
            raise DataValidationError(f"{self.name} needs a {C.RATING!r} column to fit on")
        self._check_params()
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attr)
        start = time.perf_counter()
        spark = spark_session(self.spark_master)
        pairs = to_numpy(train.select(C.USER, C.ITEM))
        if len(pairs[C.USER]) == 0:
            raise DataValidationError(f"cannot fit {self.name} on a dataset without interactions")
        self.user_ids_ = np.unique(pairs[C.USER]).astype(np.int64)
        self.item_ids_ = np.unique(pairs[C.ITEM]).astype(np.int64)
        users = np.searchsorted(self.user_ids_, pairs[C.USER])
        items = np.searchsorted(self.item_ids_, pairs[C.ITEM])
        del pairs
        self.seen_ = sp.csr_matrix(
            (np.ones(len(users), dtype=np.float32), (users, items)),
            shape=(len(self.user_ids_), len(self.item_ids_)),
        )
        self.item_popularity_ = np.bincount(items, minlength=len(self.item_ids_)).astype(np.int64)
        self.fingerprint_ = fingerprint(train)
        self._fit_spark(spark, train, positive_threshold)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def _check_params(self) -> None:
        """Raise :class:`~movielens_lessons.errors.ConfigError` for a bad setting (no Spark needed)."""

    def _fit_spark(self, spark: Any, train: Any, positive_threshold: float | None) -> None:
        """Learn from ``train`` (canonical columns, external ids); the id maps are set already."""
        raise NotImplementedError

    def _internal_ids(self, spark: Any, frame: Any) -> Any:
        """``frame`` with ``user`` and ``item`` (int, internal ids) joined on its external
        ``userId`` / ``movieId`` (the id maps are small, so both joins are broadcast)."""
        import pyarrow as pa
        from pyspark.sql import functions as F

        user_map = spark.createDataFrame(pa.table({
            C.USER: self.user_ids_.astype(np.int64),
            "user": np.arange(len(self.user_ids_), dtype=np.int32)}))
        item_map = spark.createDataFrame(pa.table({
            C.ITEM: self.item_ids_.astype(np.int64),
            "item": np.arange(len(self.item_ids_), dtype=np.int32)}))
        frame = frame.withColumn(C.USER, F.col(C.USER).cast("long")).withColumn(
            C.ITEM, F.col(C.ITEM).cast("long"))
        return frame.join(F.broadcast(user_map), C.USER).join(F.broadcast(item_map), C.ITEM)
