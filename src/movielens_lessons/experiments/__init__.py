"""Config-driven experiments: the benchmark (splits × models → leaderboard, report, results store)
and hyperparameter tuning on validation splits carved from training data."""

from __future__ import annotations

from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.config_loading import load_config

__all__ = ["BenchmarkConfig", "load_config"]
