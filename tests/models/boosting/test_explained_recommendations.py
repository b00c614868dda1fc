"""Recommendations with reasons: both XGBoost models, the ranker's prior, unknown users, other models."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("xgboost")

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.synth import synthesize
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.models.boosting.explained_recommendations import explain_recommendations
from movielens_lessons.models.boosting.ranker.model import XGBoostRanker
from movielens_lessons.models.boosting.rating.model import XGBoostRating
from movielens_lessons.models.registry import create_model

TINY_RANKER = {
    "retrievers": "ease,item-knn,most-popular",
    "n_candidates": 20,
    "n_estimators": 30,
    "early_stopping_rounds": 5,
    "learning_rate": 0.3,
}


@pytest.fixture(scope="module")
def synth() -> Dataset:
    data = synthesize(100, 120, 4000, seed=3)
    return Dataset.from_frame(data.ratings, movies=data.movies, name="synth")


@pytest.fixture(scope="module")
def ranker(synth: Dataset) -> XGBoostRanker:
    return XGBoostRanker(**TINY_RANKER).fit(synth)


def test_ranker_explains_its_own_list_in_order(ranker: XGBoostRanker, synth: Dataset) -> None:
    user = int(synth.user_ids[4])
    explained = explain_recommendations(ranker, user, k=4)
    recs = ranker.recommend([user], k=4)
    assert [e.movie_id for e in explained] == recs.item_ids[recs.items[0]].tolist()
    assert [e.rank for e in explained] == [1, 2, 3, 4]
    np.testing.assert_allclose([e.score for e in explained], recs.scores[0], atol=1e-4)
    for e in explained:
        assert e.why.startswith("Recommended") and 1 <= len(e.reasons) <= 3
    json.dumps([e.to_dict() for e in explained])


def test_ranker_prior_counts_as_its_retrievers_reason(
    ranker: XGBoostRanker, synth: Dataset
) -> None:
    # the prior (EASE's rank as the boosting start) is part of the EASE reason, not of the bias
    user = int(synth.user_ids[4])
    top = explain_recommendations(ranker, user, k=1, top=50)[0]
    ease = next(r for r in top.reasons if r.concept == "ease")
    assert "ease_prior" in ease.features


def test_rating_model_explains_the_predicted_rating(cluster_data: Dataset) -> None:
    model = XGBoostRating(n_folds=3, n_trees=30, learning_rate=0.3, n_threads=1).fit(cluster_data)
    explained = explain_recommendations(model, 1, k=3)
    recs = model.recommend([1], k=3)
    movies = [e.movie_id for e in explained]
    assert movies == recs.item_ids[recs.items[0]].tolist()
    np.testing.assert_allclose(
        [e.score for e in explained], model.predict([1] * 3, movies), atol=1e-5
    )
    assert all(e.why.startswith("Recommended") for e in explained)


def test_unknown_user_is_a_clear_error(ranker: XGBoostRanker) -> None:
    with pytest.raises(DataValidationError, match="userId 999999 is not in the model"):
        explain_recommendations(ranker, 999_999)


def test_a_model_without_explanations_names_those_with(cluster_data: Dataset) -> None:
    model = create_model("most-popular").fit(cluster_data)
    with pytest.raises(ConfigError, match=r"most-popular cannot explain.*xgboost-ranker"):
        explain_recommendations(model, 1)


def test_k_must_be_positive(ranker: XGBoostRanker, synth: Dataset) -> None:
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        explain_recommendations(ranker, int(synth.user_ids[0]), k=0)


def test_ranker_prior_is_measured_over_every_candidate_without_explaining_them(
    ranker: XGBoostRanker, synth: Dataset
) -> None:
    """explain(k, prior_feature=...) gives what separate_prior over every candidate's row gives."""
    import pandas as pd

    from movielens_lessons.models.boosting.explanations import separate_prior

    assert ranker.prior, "the tiny ranker must start from a prior for this test to mean anything"
    for user in (1, 2, 3, 5, 6):
        every = separate_prior(ranker.explain(user, k=ranker.n_items), "ease_prior")
        fast = ranker.explain(user, k=4, prior_feature="ease_prior")
        pd.testing.assert_frame_equal(fast, every.head(4).reset_index(drop=True), atol=1e-5,
                                      check_dtype=False)  # fmt: skip
        assert fast["ease_prior"].abs().max() > 0  # the prior does vary between candidates


def test_a_user_who_has_seen_every_movie_gets_an_empty_list_not_an_error(
    ranker: XGBoostRanker, synth: Dataset
) -> None:
    user = 4  # synthesize(100, 120, 4000, seed=3): user 4 rated all 120 movies
    assert ranker.seen_[int(np.searchsorted(ranker.user_ids_, user))].nnz == ranker.n_items
    assert (ranker.recommend([user], k=3).items == -1).all()
    assert explain_recommendations(ranker, user, k=3) == []
