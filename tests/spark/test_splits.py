"""Splits done by Spark against the single-machine splits: the same rows where the definition allows,
the same per-user counts where it cannot (the seeded random split)."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import split as local_split
from movielens_lessons.errors import ConfigError
from movielens_lessons.spark.frames import from_dataset, to_numpy
from movielens_lessons.spark.splits import split as spark_split

pytestmark = [pytest.mark.spark, pytest.mark.usefixtures("spark")]


def pairs(frame: dict[str, np.ndarray]) -> set[tuple[int, int]]:
    return set(zip(frame[C.USER].tolist(), frame[C.ITEM].tolist(), strict=True))


def local_pairs(ds: Dataset) -> set[tuple[int, int]]:
    return set(zip(ds.user_ids[ds.users].tolist(), ds.item_ids[ds.items].tolist(), strict=True))


def check_same(spark, ds: Dataset, strategy: str, **params) -> None:
    train, test = spark_split(from_dataset(spark, ds), strategy, **params)
    expected = local_split(ds, strategy, **params)
    assert pairs(to_numpy(test)) == local_pairs(expected.test)
    assert pairs(to_numpy(train)) == local_pairs(expected.train)


@pytest.fixture(scope="module")
def ties() -> Dataset:
    """Users with equal timestamps inside and across users (ties decide both temporal splits)."""
    import pandas as pd

    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({
        C.USER: rng.integers(1, 30, n), C.ITEM: rng.integers(1, 80, n),
        C.RATING: rng.integers(1, 11, n) / 2.0, C.TIMESTAMP: rng.integers(0, 40, n) * 1000,
    }).drop_duplicates([C.USER, C.ITEM])
    return Dataset.from_frame(frame, name="ties")


@pytest.mark.parametrize(("strategy", "params"), [
    ("user-temporal", {"test_size": 0.2}), ("user-temporal", {"test_size": 0.5, "min_train": 3}),
    ("temporal", {"test_size": 0.2}), ("temporal", {"test_size": 0.37}),
])
def test_temporal_splits_are_identical(spark, ties: Dataset, strategy: str, params: dict) -> None:
    check_same(spark, ties, strategy, **params)


def test_user_random_gives_each_user_the_same_count_seeded(spark, ties: Dataset) -> None:
    df = from_dataset(spark, ties)
    train, test = spark_split(df, "user-random", test_size=0.25, seed=42)
    local = local_split(ties, "user-random", test_size=0.25, seed=42)
    got = to_numpy(test)[C.USER]
    users, counts = np.unique(got, return_counts=True)
    l_users, l_counts = np.unique(local.test.user_ids[local.test.users], return_counts=True)
    np.testing.assert_array_equal(users, l_users)
    np.testing.assert_array_equal(counts, l_counts)
    again = to_numpy(spark_split(df.repartition(7), "user-random", test_size=0.25, seed=42)[1])
    assert pairs(again) == pairs(to_numpy(test))  # seeded, whatever the partitioning
    other = to_numpy(spark_split(df, "user-random", test_size=0.25, seed=1)[1])
    assert pairs(other) != pairs(to_numpy(test))
    assert not pairs(to_numpy(train)) & pairs(to_numpy(test))


def test_unknown_strategy_and_bad_parameters(spark, ties: Dataset) -> None:
    df = from_dataset(spark, ties)
    with pytest.raises(ConfigError, match="Spark splits know"):
        spark_split(df, "strong-generalization")
    with pytest.raises(ConfigError, match="test_size"):
        spark_split(df, "user-temporal", test_size=1.5)


@pytest.mark.realdata
def test_protocol_splits_match_on_ml_latest_small(spark, ml_small) -> None:
    check_same(spark, ml_small, "user-temporal", test_size=0.2)
    check_same(spark, ml_small, "temporal", test_size=0.2)
