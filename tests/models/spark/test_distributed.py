"""Any fitted model recommending and predicting in Spark, slot for slot as its NumPy path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

pytestmark = [pytest.mark.spark]


def _lists(frame) -> dict[tuple[int, int], tuple[int, float]]:
    return {(int(u), int(r)): (int(i), float(s)) for u, i, r, s in zip(
        frame[C.USER], frame[C.ITEM], frame[C.RANK], frame[C.SCORE], strict=True)}


@pytest.mark.parametrize("name", ["spark-als-implicit", "ease", "item-knn", "most-popular"])
def test_spark_lists_equal_the_numpy_lists_of_a_loaded_model(
    spark, cluster_data: Dataset, tmp_path: Path, name: str
) -> None:
    from movielens_lessons.models.spark.distributed import recommend_in_spark
    from movielens_lessons.spark.frames import from_dataset, to_numpy

    params = {"n_factors": 4, "n_epochs": 8} if name.startswith("spark") else {}
    fitted = create_model(name, **params).fit(cluster_data)
    model = BaseRecommender.load(fitted.save(tmp_path / name))  # no Spark model in memory
    # known users, and 99999, whom the model does not know: the popularity fallback
    users = [*cluster_data.user_ids.tolist(), 99999]
    frame = spark.createDataFrame([(u,) for u in users], [C.USER]).repartition(3)
    train = from_dataset(spark, cluster_data)
    got = to_numpy(recommend_in_spark(model, frame, k=4, seen=train))
    expected = model.recommend(users, k=4).to_frame()
    a, b = _lists(got), _lists(expected)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key][0] == b[key][0]
        assert a[key][1] == pytest.approx(b[key][1], rel=1e-6)
    seen = set(zip(cluster_data.user_ids[cluster_data.users].tolist(),
                   cluster_data.item_ids[cluster_data.items].tolist(), strict=True))
    assert not {(u, i) for (u, _), (i, _) in a.items()} & seen


def test_without_seen_nothing_is_excluded(spark, cluster_data: Dataset) -> None:
    from movielens_lessons.models.spark.distributed import recommend_in_spark
    from movielens_lessons.spark.frames import to_numpy

    model = create_model("most-popular").fit(cluster_data)
    users = cluster_data.user_ids[:3].tolist()
    frame = spark.createDataFrame([(u,) for u in users], [C.USER])
    got = _lists(to_numpy(recommend_in_spark(model, frame, k=3)))
    assert got == _lists(model.recommend(users, k=3, exclude_seen=False).to_frame())


def test_predictions_in_spark_equal_the_models_own(spark, cluster_data: Dataset) -> None:
    from movielens_lessons.models.spark.distributed import predict_in_spark
    from movielens_lessons.spark.frames import to_numpy

    model = create_model("spark-als", n_factors=4, n_epochs=8).fit(cluster_data)
    users = [*cluster_data.user_ids[:5].tolist(), 99999]
    items = [*cluster_data.item_ids[-5:].tolist(), int(cluster_data.item_ids[0])]
    pairs = spark.createDataFrame(list(zip(users, items, range(6), strict=True)),
                                  [C.USER, C.ITEM, "row"])
    got = to_numpy(predict_in_spark(model, pairs).orderBy("row"))
    np.testing.assert_array_equal(got["row"], np.arange(6))  # other columns are kept
    np.testing.assert_allclose(got[C.PREDICTION], model.predict(users, items), rtol=1e-6)


@pytest.mark.realdata
def test_spark_top_k_equals_the_numpy_top_k_on_ml_latest_small(spark, ml_small: Dataset) -> None:
    from movielens_lessons.models.spark.distributed import recommend_in_spark
    from movielens_lessons.spark.frames import from_dataset, to_numpy

    train = from_dataset(spark, ml_small)
    model = create_model("spark-als-implicit").fit_spark(train)
    got = to_numpy(recommend_in_spark(model, train.select(C.USER), k=10, seen=train))
    expected = model.recommend(k=10).to_frame()
    assert len(got[C.USER]) == len(expected) == 10 * ml_small.n_users
    assert {k: v[0] for k, v in _lists(got).items()} == {
        k: v[0] for k, v in _lists(expected).items()}
