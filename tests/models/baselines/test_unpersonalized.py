"""Random and most-popular baselines."""

from __future__ import annotations

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite


class TestRandomContract(ContractSuite):
    model_name = "random"
    params = {"random_state": 7}

    def check_known_answer(self, model: BaseRecommender) -> None:
        # Random: different users get different lists, and about half the top picks are off-cluster.
        recs = model.recommend(k=1)
        assert len(set(recs.items[:, 0].tolist())) > 5


class TestMostPopularContract(ContractSuite):
    model_name = "most-popular"

    def check_known_answer(self, model: BaseRecommender) -> None:
        recs = model.recommend([999_998], k=1)
        assert recs.items[0, 0] == int(np.argmax(model.popularity_))


def test_most_popular_counts_positives_only(cluster_data: Dataset) -> None:
    pos = cluster_data.with_positive_threshold(4.0)
    model = create_model("most-popular").fit(pos)
    expected = np.bincount(pos.items[pos.ratings >= 4.0], minlength=pos.n_items)
    np.testing.assert_array_equal(model.popularity_, expected)


def test_random_differs_by_seed(cluster_data: Dataset) -> None:
    a = create_model("random", random_state=1).fit(cluster_data).recommend(k=5).items
    b = create_model("random", random_state=2).fit(cluster_data).recommend(k=5).items
    assert (a != b).any()
