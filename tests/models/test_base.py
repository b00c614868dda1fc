"""BaseRecommender's capability queries and item similarity, against the full similarity rows."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.registry import create_model

from .contract import cluster_frame


@pytest.fixture(scope="module")
def data() -> Dataset:
    return Dataset.from_frame(cluster_frame())


@pytest.mark.parametrize("name", ["ease", "pure-svd", "item-knn"])
def test_item_similarity_matches_the_similar_items_ranking(name: str, data: Dataset) -> None:
    model = create_model(name).fit(data)
    items, others = [100, 205, 999], [101, 200, 100, 12345]
    got = model.item_similarity(items, others)
    assert got.shape == (3, 4)
    rows = np.searchsorted(model.item_ids_, [100, 205])
    cols = np.searchsorted(model.item_ids_, [101, 200, 100])
    full = np.asarray(model._similar_scores(rows), dtype=np.float32)[:, cols]
    # the item itself: -inf in similar_items' rows only where the model masks it; compare the rest
    finite = np.isfinite(full)
    np.testing.assert_allclose(got[:2, :3][finite], full[finite], rtol=1e-5, atol=1e-6)
    assert np.isnan(got[2]).all() and np.isnan(got[:, 3]).all()  # unknown movies
    # the most similar movie by item_similarity is similar_items' first answer
    first = model.similar_items([100], k=1)
    top = first.item_ids[first.items[0, 0]]
    candidates = model.item_ids_[model.item_ids_ != 100]
    sims = model.item_similarity([100], candidates)[0]
    assert candidates[int(np.nanargmax(sims))] == top


def test_capabilities(data: Dataset) -> None:
    popular = create_model("most-popular").fit(data)
    assert popular.folds_in() and not popular.has_item_similarity()
    with pytest.raises(ConfigError, match="no item representation"):
        popular.item_similarity([100], [101])
    assert create_model("ease").fit(data).has_item_similarity()


@pytest.mark.parametrize("name", ["ease", "pure-svd", "als"])
def test_a_refit_never_reuses_cached_item_vectors_or_gram(name: str, data: Dataset) -> None:
    """item_similarity and ALS fold-in cache what every request needs; refitting on other data must
    give what a fresh model fitted on that data gives."""
    frame = cluster_frame()
    other = Dataset.from_frame(frame[frame["userId"] % 3 != 0])  # other users, other co-counts
    model = create_model(name).fit(data)
    items = [int(i) for i in other.item_ids[:6]]
    model.item_similarity(items, items)
    model.recommend_for_history(items[:2], k=3)
    model.fit(other)
    fresh = create_model(name).fit(other)
    np.testing.assert_allclose(model.item_similarity(items, items),
                               fresh.item_similarity(items, items), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.recommend_for_history(items[:2], k=3).scores,
                               fresh.recommend_for_history(items[:2], k=3).scores, rtol=1e-5)


@pytest.mark.parametrize("name", ["ease", "item-knn", "als", "bias-baseline"])
def test_a_user_in_the_id_map_without_training_data_gets_the_popularity_fallback(name: str) -> None:
    """A split's parts share the full data's id maps: a user whose ratings all went to the test part
    has an empty training row. They get the most popular movies, flagged, like an unknown user."""
    frame = cluster_frame()
    empty_user = int(frame["userId"].max()) + 1
    users = np.append(np.unique(frame["userId"]), empty_user)
    data = Dataset.from_frame(frame, user_ids=users)
    model = create_model(name).fit(data)
    recs = model.recommend([empty_user, 999_999, int(users[0])], k=3)
    assert recs.fallback.tolist() == [True, True, False]
    np.testing.assert_array_equal(recs.items[0], recs.items[1])  # the same list as an unknown user
    popular = np.argsort(-model.item_popularity_, kind="stable")[:3]
    assert set(recs.items[0].tolist()) == set(popular.tolist())
