"""The benchmark with ``engine = "spark"`` writes the same run folder, and its temporal rows equal
the single-machine engine's (the user-temporal split is identical)."""

from __future__ import annotations

from pathlib import Path

import pytest

from movielens_lessons.experiments.benchmark import run_benchmark
from movielens_lessons.experiments.config_loading import config_from_dict

pytestmark = [pytest.mark.spark, pytest.mark.realdata, pytest.mark.usefixtures("spark")]


def test_spark_engine_matches_the_local_engine_on_the_temporal_split(
    real_data_dir: Path, tmp_path: Path
) -> None:
    base = {"dataset": {"name": "ml-latest-small"},
            "evaluation": {"k": [10], "metrics": ["ndcg", "recall", "coverage", "novelty"],
                           "n_bootstrap": 100},
            "protocols": [{"name": "user-temporal", "strategy": "user-temporal",
                           "test_size": 0.2}]}
    spark_cfg = config_from_dict({**base, "engine": "spark",
                                  "models": {"spark-most-popular": {}}})
    local_cfg = config_from_dict({**base, "models": {"most-popular": {}}})
    a = run_benchmark(spark_cfg, tmp_path / "spark", data_dir=real_data_dir, download=False,
                      store=False, report=False)
    b = run_benchmark(local_cfg, tmp_path / "local", data_dir=real_data_dir, download=False,
                      store=False, report=False)
    ra, rb = a.leaderboard.iloc[0], b.leaderboard.iloc[0]
    for col in ("ndcg@10", "ndcg@10_ci_low", "ndcg@10_ci_high", "recall@10", "coverage@10",
                "novelty@10"):
        assert ra[col] == pytest.approx(rb[col], abs=1e-9), col
    assert a.run_info["engine"] == "spark" and a.run_info["n_interactions"] == 100836
    assert a.protocols[0].summary()["leakage"]["overlap"] == 0
    for name in ("leaderboard.csv", "run.json", "per_user.csv.gz",
                 "recommendations/user-temporal/spark-most-popular.csv",
                 "models/user-temporal/spark-most-popular/arrays.npz"):
        assert (a.out_dir / name).is_file(), name
