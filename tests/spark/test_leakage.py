"""Leakage counts by Spark equal the single-machine report's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.leakage import leakage_report

pytestmark = [pytest.mark.spark]


def _frame(spark, ds: Dataset, timestamps: bool = True):
    import pyarrow as pa

    cols = {C.USER: ds.user_ids[ds.users].astype(np.int64),
            C.ITEM: ds.item_ids[ds.items].astype(np.int64)}
    if timestamps and ds.timestamps is not None:
        cols[C.TIMESTAMP] = np.asarray(ds.timestamps, dtype=np.int64)
    return spark.createDataFrame(pa.table(cols))


def test_counts_equal_the_single_machine_report(spark) -> None:
    from movielens_lessons.spark.leakage import leakage_report as spark_report

    rng = np.random.default_rng(3)

    def rows(n: int, users: int, items: int) -> pd.DataFrame:
        return pd.DataFrame({C.USER: rng.integers(1, users, n), C.ITEM: rng.integers(1, items, n),
                             C.RATING: 4.0, C.TIMESTAMP: rng.integers(0, 1000, n)})

    train = Dataset.from_frame(rows(220, 25, 40).drop_duplicates([C.USER, C.ITEM]))
    # pairs also in train, and users and items train never saw
    test = Dataset.from_frame(rows(80, 30, 50).drop_duplicates([C.USER, C.ITEM]))
    want = leakage_report(train, test)
    assert want.overlap > 0 and want.test_items_unseen > 0 and want.test_users_unseen > 0
    assert want.per_user_future_leak
    assert spark_report(_frame(spark, train), _frame(spark, test)) == want
    # without timestamps the time counts are None on both sides
    untimed = spark_report(_frame(spark, train, False), _frame(spark, test, False))
    assert untimed.test_older_than_train_cut is None and untimed.per_user_future_leak is None
    assert untimed.overlap == want.overlap


@pytest.mark.realdata
def test_counts_on_the_ml_latest_small_temporal_split(spark, ml_small: Dataset) -> None:
    from movielens_lessons.data.split_registry import split
    from movielens_lessons.spark.leakage import leakage_report as spark_report

    parts = split(ml_small, "temporal", test_size=0.2)
    assert spark_report(_frame(spark, parts.train), _frame(spark, parts.test)) == leakage_report(
        parts.train, parts.test)
