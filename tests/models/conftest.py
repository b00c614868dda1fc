"""Fixtures shared by every model's tests: the two-cluster dataset and the contract suite's fitted model."""

from __future__ import annotations

import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import split
from movielens_lessons.data.synth import synthesize
from movielens_lessons.models.base import BaseRecommender

from .contract import cluster_frame


@pytest.fixture(scope="module")
def cluster_data() -> Dataset:
    return Dataset.from_frame(cluster_frame(), name="clusters")


@pytest.fixture(scope="class")
def fitted(request: pytest.FixtureRequest, cluster_data: Dataset) -> BaseRecommender:
    """The contract class's model fitted on ``cluster_data``, once per class (a module-level fixture:
    pytest no longer lets a class-scoped fixture be an instance method)."""
    return request.cls().make().fit(cluster_data)


@pytest.fixture(scope="module")
def synth_split():
    """Synthetic data with real signal (400 users × 300 movies, 12,000 ratings, with movies), split
    per user at random (20 % test): where a learned model must beat most-popular. A test module
    may define its own ``synth_split`` of another shape (the ranker's does)."""
    data = synthesize(400, 300, 12_000, seed=3)
    ds = Dataset.from_frame(data.ratings, movies=data.movies, name="synth")
    return split(ds, "user-random", test_size=0.2, seed=0)
