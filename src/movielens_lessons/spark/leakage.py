"""What a Spark train split reveals about its test split: :class:`LeakageReport`'s counts by Spark.

The definitions are :func:`movielens_lessons.data.leakage.leakage_report`'s (rows, not distinct
pairs, for the interaction counts; the time counts ``None`` when either side has no timestamps or
the train side is empty); one aggregation per side, the joins against train's distinct users,
items, pairs and per-user latest timestamp, and only the counts reach the driver.
"""

from __future__ import annotations

from typing import Any

from movielens_lessons import columns as C
from movielens_lessons.data.leakage import LeakageReport


def leakage_report(train: Any, test: Any) -> LeakageReport:
    """The leakage counts of ``test`` against ``train`` (DataFrames with the canonical columns)."""
    from pyspark.sql import functions as F

    ts = C.TIMESTAMP
    timed = ts in train.columns and ts in test.columns
    t_row = train.agg(F.count(F.lit(1)).alias("n"),
                      *([F.max(ts).alias("latest")] if timed else [])).first()
    n_train = int(t_row["n"])
    train_users = train.select(C.USER).distinct().withColumn("_u", F.lit(True))
    train_items = train.select(C.ITEM).distinct().withColumn("_i", F.lit(True))
    train_pairs = train.select(C.USER, C.ITEM).distinct().withColumn("_p", F.lit(True))
    rows = (test.join(train_users, C.USER, "left").join(train_items, C.ITEM, "left")
            .join(train_pairs, [C.USER, C.ITEM], "left"))
    aggs = [
        F.count(F.lit(1)).alias("n_test"),
        F.count_distinct(C.USER).alias("n_test_users"),
        F.count_distinct(C.ITEM).alias("n_test_items"),
        F.count_distinct(F.when(F.col("_u").isNull(), F.col(C.USER))).alias("users_unseen"),
        F.count_distinct(F.when(F.col("_i").isNull(), F.col(C.ITEM))).alias("items_unseen"),
        F.sum(F.when(F.col("_i").isNull(), 1).otherwise(0)).alias("rows_unseen_item"),
        F.sum(F.when(F.col("_p"), 1).otherwise(0)).alias("overlap"),
    ]
    timed = timed and n_train > 0
    if timed:
        latest = train.groupBy(C.USER).agg(F.max(ts).alias("_latest"))
        rows = rows.join(latest, C.USER, "left")
        aggs += [
            F.sum(F.when(F.col(ts) < F.lit(t_row["latest"]), 1).otherwise(0)).alias("older"),
            F.sum(F.when(F.col(ts) < F.col("_latest"), 1).otherwise(0)).alias("leak"),
        ]
    r = rows.agg(*aggs).first()

    def count(name: str) -> int:
        return int(r[name] or 0)

    return LeakageReport(
        n_train=n_train,
        n_test=count("n_test"),
        n_test_users=count("n_test_users"),
        n_test_items=count("n_test_items"),
        test_users_unseen=count("users_unseen"),
        test_items_unseen=count("items_unseen"),
        test_interactions_with_unseen_item=count("rows_unseen_item"),
        test_older_than_train_cut=count("older") if timed else None,
        per_user_future_leak=count("leak") if timed else None,
        overlap=count("overlap"),
    )
