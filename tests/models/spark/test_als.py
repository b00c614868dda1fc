"""ALS on Spark MLlib behind the Recommender protocol: trained by Spark, served from NumPy factors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite

pytestmark = [pytest.mark.spark, pytest.mark.usefixtures("spark")]

SMALL = {"n_factors": 4, "n_epochs": 8}


class TestSparkALSImplicitContract(ContractSuite):
    model_name = "spark-als-implicit"
    params = SMALL


class TestSparkALSContract(ContractSuite):
    model_name = "spark-als"
    params = SMALL


class TestSparkMostPopularContract(ContractSuite):
    model_name = "spark-most-popular"

    def check_known_answer(self, model: BaseRecommender) -> None:
        # unpersonalised: the most counted item first, as most-popular
        recs = model.recommend([999_998], k=1)
        assert recs.items[0, 0] == int(np.argmax(model.popularity_))


def test_explicit_predictions_add_biases_to_the_factors(cluster_data: Dataset) -> None:
    model = create_model("spark-als", **SMALL).fit(cluster_data)
    users, items = np.array([0, 1, 2]), np.array([3, 4, 5])
    expected = (model.global_mean_ + model.user_bias_[users] + model.item_bias_[items]
                + np.einsum("nd,nd->n", model.user_factors_[users], model.item_factors_[items]))
    low, high = model.rating_scale_
    np.testing.assert_allclose(model._predict_pairs(users, items), np.clip(expected, low, high),
                               rtol=1e-5)
    # an unknown user keeps the item's bias; predictions stay on the rating scale
    out = model.predict([99999, 99999], cluster_data.item_ids[:2])
    np.testing.assert_allclose(out, model.global_mean_ + model.item_bias_[:2], rtol=1e-5)


def test_biases_match_a_numpy_computation(cluster_data: Dataset) -> None:
    damping = 5.0
    model = create_model("spark-als", **SMALL, bias_damping=damping).fit(cluster_data)
    r = np.asarray(cluster_data.ratings, dtype=np.float64)
    u, i = np.asarray(cluster_data.users), np.asarray(cluster_data.items)
    mu = r.mean()
    bi = np.bincount(i, r - mu, cluster_data.n_items) / (np.bincount(i, None, cluster_data.n_items)
                                                         + damping)
    bu = np.bincount(u, r - mu - bi[i], cluster_data.n_users) / (
        np.bincount(u, None, cluster_data.n_users) + damping)
    assert model.global_mean_ == pytest.approx(mu)
    np.testing.assert_allclose(model.item_bias_, bi, atol=1e-9)
    np.testing.assert_allclose(model.user_bias_, bu, atol=1e-9)


def test_spark_writes_its_own_model_and_the_npz_serves_without_it(
    cluster_data: Dataset, tmp_path: Path
) -> None:
    from pyspark.ml.recommendation import ALSModel

    model = create_model("spark-als-implicit", **SMALL).fit(cluster_data)
    folder = model.save(tmp_path / "m")
    # Spark ML's writer: its factors are the ones the NumPy path scores with
    spark_model = ALSModel.load(str(folder / "spark_model"))
    table = spark_model.itemFactors.toArrow()
    ids = table.column("id").to_numpy()
    np.testing.assert_allclose(np.asarray(table.column("features").to_pylist())[np.argsort(ids)],
                               model.item_factors_, rtol=1e-6)
    # the npz alone serves the same top-K (no Spark model in memory after load)
    loaded = BaseRecommender.load(folder)
    assert not hasattr(loaded, "_spark_model")
    a, b = model.recommend(k=5), loaded.recommend(k=5)
    np.testing.assert_array_equal(a.items, b.items)
    # and a loaded model saves again (factors only)
    again = BaseRecommender.load(loaded.save(tmp_path / "again"))
    np.testing.assert_array_equal(again.recommend(k=5).items, a.items)


@pytest.mark.parametrize("bad", [{"n_factors": 0}, {"n_epochs": 1.5}, {"regularization": -1},
                                 {"n_blocks": 0}])
def test_bad_settings_are_refused(cluster_data: Dataset, bad: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(bad))):
        create_model("spark-als-implicit", **bad).fit(cluster_data)


def test_implicit_confidence_follows_the_weighting(cluster_data: Dataset) -> None:
    binary = create_model("spark-als-implicit", **SMALL, weighting="binary").fit(cluster_data)
    rating = create_model("spark-als-implicit", **SMALL, weighting="rating").fit(cluster_data)
    assert not np.allclose(binary.item_factors_, rating.item_factors_)
    with pytest.raises(ConfigError, match="weighting must be one of binary, rating, log"):
        create_model("spark-als-implicit", weighting="counts").fit(cluster_data)
