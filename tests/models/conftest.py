"""Fixtures shared by every model's tests: the two-cluster dataset and the contract suite's fitted model."""

from __future__ import annotations

import pytest

from movielens_lessons.data.dataset import Dataset
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
