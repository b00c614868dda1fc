"""Most popular items, counted by Spark: the reference row of a benchmark that runs on Spark.

Scores, saving and serving are :class:`~movielens_lessons.models.baselines.unpersonalized.MostPopular`'s
(the same ``popularity_`` array), so a model counted by Spark and one counted by NumPy on the same
data recommend the same lists; only the counting runs in Spark.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from movielens_lessons import columns as C
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.models.baselines.unpersonalized import MostPopular
from movielens_lessons.models.spark.fitting import SparkTrainedModel


class SparkMostPopular(MostPopular, SparkTrainedModel):
    """Items ranked by their number of positive training interactions, counted by Spark;
    ``recent_days`` counts only the last N days before the newest interaction (as ``most-popular``);
    ``spark_master`` as the Spark ALS models."""

    name = "spark-most-popular"

    def __init__(self, recent_days: float | None = None, spark_master: str | None = None) -> None:
        super().__init__(recent_days=recent_days)
        self.spark_master = spark_master

    # the Spark path, not MostPopular's NumPy count
    _fit = SparkTrainedModel._fit

    def _check_params(self) -> None:
        days = self.recent_days
        if days is not None and (isinstance(days, bool) or not isinstance(days, int | float)
                                 or days <= 0):
            raise ConfigError(f"recent_days must be a number > 0 or None, got {days!r}")

    def _fit_spark(self, spark: Any, train: Any, positive_threshold: float | None) -> None:
        from pyspark.sql import functions as F

        kept = train
        if positive_threshold is not None:
            kept = kept.where(F.col(C.RATING) >= F.lit(float(positive_threshold)))
        if self.recent_days is not None:
            if C.TIMESTAMP not in train.columns:
                raise DataValidationError("recent_days needs timestamps; this data has none")
            # the newest interaction of any kind, as most-popular
            newest = train.agg(F.max(C.TIMESTAMP)).first()[0]
            cutoff = float(newest) - float(self.recent_days) * 86_400
            kept = kept.where(F.col(C.TIMESTAMP) >= F.lit(cutoff))
        counts = kept.groupBy(F.col(C.ITEM).cast("long").alias(C.ITEM)).count().toArrow()
        ids = counts.column(C.ITEM).to_numpy()
        popularity = np.zeros(len(self.item_ids_), dtype=np.float32)
        popularity[np.searchsorted(self.item_ids_, ids)] = counts.column("count").to_numpy()
        self.popularity_ = popularity
