"""Item and user features computed from a training window only (nothing from after ``as_of`` leaks in).

Used by the hybrid and tabular models (LightFM, XGBoost) and by the feature-engineering lesson.
"""

from __future__ import annotations

from movielens_lessons.features.catalogue import genre_matrix, genre_vocabulary
from movielens_lessons.features.items import (
    as_of_seconds,
    item_feature_matrix,
    item_features,
    window_mask,
)
from movielens_lessons.features.users import user_features

__all__ = [
    "as_of_seconds",
    "genre_matrix",
    "genre_vocabulary",
    "item_feature_matrix",
    "item_features",
    "user_features",
    "window_mask",
]
