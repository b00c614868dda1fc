"""Offline evaluation: exact, vectorised metrics over top-K lists, with bootstrap intervals.

See ``docs/metrics.md`` for every formula, what it tells you and its pitfalls.
"""

from __future__ import annotations

from movielens_lessons.evaluation.compare import compare, holm
from movielens_lessons.evaluation.evaluate import (
    ALL_METRICS,
    DEFAULT_METRICS,
    EvaluationResult,
    evaluate,
)
from movielens_lessons.evaluation.rating import evaluate_predictions, mae, rmse
from movielens_lessons.evaluation.sampled import sampled_evaluate

__all__ = [
    "ALL_METRICS",
    "DEFAULT_METRICS",
    "EvaluationResult",
    "compare",
    "evaluate",
    "evaluate_predictions",
    "holm",
    "mae",
    "rmse",
    "sampled_evaluate",
]
