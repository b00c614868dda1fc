"""The DuckDB results store: runs are appended, listed newest first, and compared metric by metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons.errors import ConfigError, DataNotFoundError
from movielens_lessons.experiments.store import append_run, compare_runs, list_runs, result_rows


def _board(ndcg: float, fit: float) -> pd.DataFrame:
    return pd.DataFrame({
        "protocol": ["p", "p"], "model": ["ease", "random"], "status": ["ok", "failed"],
        "ndcg@10": [ndcg, np.nan], "ndcg@10_ci_low": [ndcg - 0.01, np.nan],
        "ndcg@10_ci_high": [ndcg + 0.01, np.nan], "coverage@10": [0.5, np.nan],
        "coverage@10_ci_low": [np.nan, np.nan], "coverage@10_ci_high": [np.nan, np.nan],
        "fit_seconds": [fit, np.nan], "peak_memory_mb": [10.0, np.nan],
    })


def _info(run_id: str, started: str) -> dict:
    return {"run_id": run_id, "started_at": started, "wall_seconds": 1.5, "name": "t",
            "dataset": "d", "quick": False, "out_dir": f"/x/{run_id}"}


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "runs" / "results.duckdb"
    append_run(path, _info("20240101-000000", "2024-01-01T00:00:00+00:00"), _board(0.30, 2.0),
               {"seed": 1}, {"python": "3"})
    append_run(path, _info("20240102-000000", "2024-01-02T00:00:00+00:00"), _board(0.35, 1.0),
               {"seed": 1}, {"python": "3"})
    return path


def test_list_is_newest_first_with_counts(store) -> None:
    runs = list_runs(store)
    assert list(runs["run_id"]) == ["20240102-000000", "20240101-000000"]
    assert list(runs["n_failed"]) == [1, 1] and list(runs["n_models"]) == [2, 2]


def test_compare_gives_b_minus_a(store) -> None:
    frame = compare_runs(store, "20240101", "latest")
    row = frame[(frame["model"] == "ease") & (frame["metric"] == "ndcg")].iloc[0]
    assert row["k"] == 10
    assert row["value_a"] == pytest.approx(0.30) and row["value_b"] == pytest.approx(0.35)
    assert row["delta"] == pytest.approx(0.05)
    fit = frame[(frame["model"] == "ease") & (frame["metric"] == "fit_seconds")].iloc[0]
    assert fit["delta"] == pytest.approx(-1.0) and pd.isna(fit["k"])
    only = compare_runs(store, "previous", "latest", ["coverage"])
    assert set(only["metric"]) == {"coverage"}


def test_unknown_or_ambiguous_run_ids(store) -> None:
    with pytest.raises(ConfigError, match="no run 'zzz'"):
        compare_runs(store, "zzz", "latest")
    with pytest.raises(ConfigError, match="ambiguous"):
        compare_runs(store, "2024", "latest")


def test_missing_store_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(DataNotFoundError, match="no results store"):
        list_runs(tmp_path / "none.duckdb")


def test_duplicate_run_id_leaves_the_store_unchanged(store) -> None:
    with pytest.raises(Exception, match=r"(?i)constraint|duplicate"):
        append_run(store, _info("20240101-000000", "2024-01-03T00:00:00+00:00"),
                   _board(0.1, 1.0), {}, {})
    assert len(list_runs(store)) == 2


def test_long_form_rows_cover_metrics_and_costs() -> None:
    rows = result_rows("r", _board(0.3, 2.0))
    ease = rows[rows["model"] == "ease"].set_index("metric")
    assert ease.loc["ndcg", "ci_low"] == pytest.approx(0.29)
    assert ease.loc["fit_seconds", "mean"] == 2.0
