"""The ``Recommender`` protocol: what every model offers, whoever implements it.

:class:`~movielens_lessons.models.base.BaseRecommender` is the shared implementation every model of the
project derives from; code that only uses models (the CLI, the benchmark, the service) may type against
this protocol instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, Literal, Protocol, runtime_checkable

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.recommendations import Recommendations

Feedback = Literal["implicit", "explicit"]


@runtime_checkable
class Recommender(Protocol):
    """What every model offers; see :class:`~movielens_lessons.models.base.BaseRecommender` for the
    shared implementation."""

    name: ClassVar[str]
    feedback: ClassVar[Feedback]

    def fit(self, dataset: Dataset) -> Recommender: ...

    def recommend(
        self, users: Iterable[int] | None = None, k: int = 10, *, exclude_seen: bool = True
    ) -> Recommendations: ...

    def score(self, users: Iterable[int], items: Iterable[int] | None = None) -> np.ndarray: ...

    def predict(self, users: Iterable[int], items: Iterable[int]) -> np.ndarray: ...

    def save(self, path: str | os.PathLike[str]) -> Path: ...
