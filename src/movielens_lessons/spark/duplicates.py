"""Repeated (user, movie) pairs resolved by Spark as ``Dataset.from_frame`` resolves them: the latest
interaction is kept."""

from __future__ import annotations

from typing import Any

from movielens_lessons import columns as C


def keep_latest(df: Any) -> tuple[Any, int]:
    """``(df without repeated pairs, number of rows dropped)``: per (userId, movieId) the row with
    the latest timestamp (equal timestamps: the higher rating, then any), or, without timestamps,
    the higher rating. The count is one aggregation; the pass that drops is lazy."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    stats = df.agg(F.count(F.lit(1)).alias("rows"),
                   F.count_distinct(C.USER, C.ITEM).alias("pairs")).first()
    dropped = int(stats["rows"]) - int(stats["pairs"])
    if dropped == 0:
        return df, 0
    order = [F.col(c).desc() for c in (C.TIMESTAMP, C.RATING) if c in df.columns]
    if not order:
        return df.dropDuplicates([C.USER, C.ITEM]), dropped
    window = Window.partitionBy(C.USER, C.ITEM).orderBy(*order)
    kept = df.withColumn("_n", F.row_number().over(window)).where(F.col("_n") == 1).drop("_n")
    return kept, dropped
