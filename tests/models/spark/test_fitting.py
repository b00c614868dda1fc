"""``fit_spark``: models trained from a Spark DataFrame learn what ``fit(dataset)`` learns."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError, MissingColumnError
from movielens_lessons.models.registry import create_model

pytestmark = [pytest.mark.spark]

SMALL = {"n_factors": 4, "n_epochs": 8}
MODELS = [("spark-most-popular", {}), ("spark-most-popular", {"recent_days": 30}),
          ("spark-als-implicit", SMALL), ("spark-als", SMALL)]


@pytest.mark.parametrize(("name", "params"), MODELS)
def test_a_spark_frame_and_a_dataset_give_the_same_model(
    spark, cluster_data: Dataset, name: str, params: dict
) -> None:
    from movielens_lessons.spark.frames import from_dataset

    from_frame = create_model(name, **params).fit_spark(from_dataset(spark, cluster_data))
    from_data = create_model(name, **params).fit(cluster_data)
    np.testing.assert_array_equal(from_frame.user_ids_, cluster_data.user_ids)
    np.testing.assert_array_equal(from_frame.item_ids_, cluster_data.item_ids)
    assert (from_frame.seen_ != from_data.seen_).nnz == 0
    np.testing.assert_array_equal(from_frame.item_popularity_, from_data.item_popularity_)
    users = cluster_data.user_ids
    np.testing.assert_allclose(from_frame.score(users), from_data.score(users), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_array_equal(from_frame.recommend(users, k=5).items,
                                  from_data.recommend(users, k=5).items)
    assert from_frame.fingerprint_.startswith("spark:")


def test_most_popular_counts_what_the_numpy_baseline_counts(spark, cluster_data: Dataset) -> None:
    for params in ({}, {"recent_days": 30}):
        ours = create_model("spark-most-popular", **params).fit(cluster_data)
        numpy = create_model("most-popular", **params).fit(cluster_data)
        np.testing.assert_array_equal(ours.popularity_, numpy.popularity_)


def test_positive_threshold_keeps_only_high_ratings(spark, cluster_data: Dataset) -> None:
    from movielens_lessons.spark.frames import from_dataset

    frame = from_dataset(spark, cluster_data)
    model = create_model("spark-most-popular").fit_spark(frame, positive_threshold=4.0)
    numpy = create_model("most-popular").fit(cluster_data.with_positive_threshold(4.0))
    np.testing.assert_array_equal(model.popularity_, numpy.popularity_)
    # every training row still counts as seen
    assert model.seen_.nnz == cluster_data.n_interactions


def test_fingerprints_ignore_row_order_but_not_content(spark, cluster_data: Dataset) -> None:
    from pyspark.sql import functions as F

    from movielens_lessons.spark.frames import fingerprint, from_dataset

    frame = from_dataset(spark, cluster_data)
    shuffled = frame.orderBy(F.rand(3)).repartition(3)
    assert fingerprint(frame) == fingerprint(shuffled)
    assert fingerprint(frame) != fingerprint(frame.limit(frame.count() - 1))


def test_bad_frames_and_settings_are_refused_before_spark_works(spark) -> None:
    frame = spark.createDataFrame([(1, 2)], [C.USER, C.ITEM])
    with pytest.raises(DataValidationError, match="needs a 'rating' column"):
        create_model("spark-als").fit_spark(frame)
    with pytest.raises(MissingColumnError, match="movieId"):
        create_model("spark-most-popular").fit_spark(frame.select(C.USER))
    with pytest.raises(DataValidationError, match="without interactions"):
        create_model("spark-most-popular").fit_spark(frame.limit(0))
    with pytest.raises(ConfigError, match="n_factors"):
        create_model("spark-als-implicit", n_factors=0, weighting="binary").fit_spark(frame)
    with pytest.raises(ConfigError, match="recent_days"):
        create_model("spark-most-popular", recent_days=-1).fit_spark(frame)
    with pytest.raises(DataValidationError, match="needs ratings"):
        create_model("spark-als-implicit", weighting="rating").fit_spark(frame)
