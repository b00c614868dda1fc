"""The part every factor model shares: scores are dot products of user and item factors.

A subclass sets ``user_factors_`` ``(n_users, d)`` and ``item_factors_`` ``(n_items, d)`` in ``_fit``;
scoring, similar items (by the item factors) and saving the two arrays come from here, whichever
library learned them (``implicit``'s ALS and BPR, Spark MLlib's ALS).
"""

from __future__ import annotations

import numpy as np

from movielens_lessons.models.base import BaseRecommender


class FactorModel(BaseRecommender):
    """Shared scoring and persistence for models that end up as user and item factor matrices."""

    user_factors_: np.ndarray
    item_factors_: np.ndarray

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _item_vectors(self) -> np.ndarray:
        return self.item_factors_

    def _get_state(self) -> dict[str, np.ndarray]:
        return {"user_factors_": self.user_factors_, "item_factors_": self.item_factors_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.user_factors_ = state["user_factors_"]
        self.item_factors_ = state["item_factors_"]
