"""Non-personalised implicit baselines: random and most popular."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.base import BaseRecommender


class RandomRecommender(BaseRecommender):
    """Uniformly random items: the floor every model must clear.

    Scores are a fixed random permutation per user, seeded by ``random_state`` and the user's internal id, so
    that ``recommend`` and ``score`` agree and a refit with the same seed is identical.
    """

    name = "random"

    def __init__(self, random_state: int = 42) -> None:
        self.random_state = random_state

    def _fit(self, dataset: Dataset) -> None:
        pass

    def _score(self, users: np.ndarray) -> np.ndarray:
        out = np.empty((len(users), self.n_items), dtype=np.float32)
        for row, user in enumerate(users):
            out[row] = np.random.default_rng([self.random_state, int(user)]).random(self.n_items)
        return out

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        return np.random.default_rng([self.random_state, -1]).random(self.n_items)


class MostPopular(BaseRecommender):
    """Items ranked by how many training users interacted with them (positives only).

    ``recent_days`` (optional) counts only interactions in the last N days before the newest one, the
    "trending" variant that wins on temporal splits.
    """

    name = "most-popular"

    def __init__(self, recent_days: float | None = None) -> None:
        self.recent_days = recent_days

    def _fit(self, dataset: Dataset) -> None:
        mask = dataset.positive_mask
        if self.recent_days is not None and dataset.timestamps is not None:
            cutoff = dataset.timestamps.max() - float(self.recent_days) * 86_400
            mask = mask & (dataset.timestamps >= cutoff)
        counts = np.bincount(dataset.items[mask], minlength=dataset.n_items).astype(np.float32)
        self.popularity_ = counts

    def _score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(users), self.n_items))

    def _score_history(self, history: sp.csr_matrix) -> np.ndarray:
        return self.popularity_

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"popularity_": self.popularity_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.popularity_ = state["popularity_"]
