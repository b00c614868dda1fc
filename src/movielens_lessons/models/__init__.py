"""Recommenders behind one protocol; see :mod:`movielens_lessons.models.base` and the registry."""

from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.protocol import Recommender
from movielens_lessons.models.registry import create_model, get_model_class, model_names

__all__ = ["BaseRecommender", "Recommender", "create_model", "get_model_class", "model_names"]
