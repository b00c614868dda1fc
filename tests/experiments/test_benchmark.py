"""The benchmark end to end on synthetic data: the leaderboard agrees with ``evaluate`` run separately on
the saved recommendations, failures and missing extras are reported, and the run folder is complete."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.evaluation import evaluate, evaluate_predictions
from movielens_lessons.experiments.benchmark import run_benchmark
from movielens_lessons.experiments.runner import make_split
from movielens_lessons.experiments.store import list_runs
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.recommendations import Recommendations

from .conftest import RUN_MODELS


def _row(board: pd.DataFrame, protocol: str, model: str) -> dict:
    rows = board[(board["protocol"] == protocol) & (board["model"] == model)]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def test_every_model_and_protocol_has_one_row(finished_run) -> None:
    board = finished_run.leaderboard
    assert len(board) == 2 * len(RUN_MODELS)
    assert set(board["protocol"]) == {"user-temporal", "user-random"}
    for protocol in ("user-temporal", "user-random"):
        assert set(board.loc[board["protocol"] == protocol, "model"]) == set(RUN_MODELS)


def test_missing_extra_is_skipped_with_install_command(finished_run) -> None:
    row = _row(finished_run.leaderboard, "user-temporal", "als")
    assert row["status"] == "skipped"
    assert 'pip install "movielens-lessons[models]"' in row["message"]
    assert math.isnan(row["ndcg@10"])


def test_failing_model_is_reported_and_the_run_goes_on(finished_run) -> None:
    row = _row(finished_run.leaderboard, "user-temporal", "pure-svd")
    assert row["status"] == "failed"
    assert "n_factors" in row["message"] and "\n" not in row["message"]
    assert (finished_run.out_dir / "errors.log").read_text().count("pure-svd") == 2
    ok = finished_run.leaderboard[finished_run.leaderboard["status"] == "ok"]
    assert len(ok) == 2 * (len(RUN_MODELS) - 2)


@pytest.mark.parametrize("protocol", ["user-temporal", "user-random"])
def test_leaderboard_matches_evaluate_on_saved_recommendations(finished_run, synth_data, protocol):
    config = finished_run.config
    proto = next(p for p in config.protocols if p.name == protocol)
    sp = make_split(synth_data, proto)
    for model in ("most-popular", "item-knn", "ease", "bias-baseline"):
        path = finished_run.out_dir / "recommendations" / protocol / f"{model}.csv"
        frame = pd.read_csv(path)
        recs = Recommendations.from_frame(frame, sp.train.user_ids, sp.train.item_ids,
                                          k=config.k_max)
        result = evaluate(recs, sp.test, sp.train, k=config.k, metrics=config.metrics,
                          n_bootstrap=config.n_bootstrap, seed=config.seed)
        row = _row(finished_run.leaderboard, protocol, model)
        for metric in ("ndcg", "recall", "precision", "mrr", "coverage", "gini", "novelty"):
            for k in config.k:
                assert row[f"{metric}@{k}"] == pytest.approx(result.value(metric, k), abs=1e-6)
        lo = result.summary.query("metric == 'ndcg' and k == 10")["ci_low"].iloc[0]
        assert row["ndcg@10_ci_low"] == pytest.approx(lo, abs=1e-6)
        assert row["ndcg@10_ci_low"] <= row["ndcg@10"] <= row["ndcg@10_ci_high"]


def test_explicit_models_get_rmse_from_their_saved_artifact(finished_run, synth_data) -> None:
    proto = finished_run.config.protocols[0]
    sp = make_split(synth_data, proto)
    model = BaseRecommender.load(finished_run.out_dir / "models" / proto.name / "bias-baseline")
    frame = sp.test.to_frame()
    frame[C.PREDICTION] = model.predict(frame[C.USER], frame[C.ITEM])
    expected = evaluate_predictions(frame, sp.test)
    row = _row(finished_run.leaderboard, proto.name, "bias-baseline")
    assert row["rmse"] == pytest.approx(expected["rmse"], rel=1e-6)
    assert row["mae"] == pytest.approx(expected["mae"], rel=1e-6)
    assert math.isnan(_row(finished_run.leaderboard, proto.name, "ease")["rmse"])


def test_saved_artifacts_reproduce_the_recommendations(finished_run) -> None:
    proto = "user-random"
    saved = pd.read_csv(finished_run.out_dir / "recommendations" / proto / "ease.csv")
    model = BaseRecommender.load(finished_run.out_dir / "models" / proto / "ease")
    assert json.loads((finished_run.out_dir / "models" / proto / "ease" / "model.json")
                      .read_text())["name"] == "ease"
    users = saved[C.USER].unique()
    again = model.recommend(users, k=finished_run.config.k_max).to_frame()
    pd.testing.assert_frame_equal(saved[[C.USER, C.ITEM, C.RANK]],
                                  again[[C.USER, C.ITEM, C.RANK]], check_dtype=False)


def test_best_model_is_ranked_first_and_others_get_holm_p_values(finished_run) -> None:
    for protocol, rows in finished_run.leaderboard.groupby("protocol"):
        ok = rows[rows["status"] == "ok"]
        best = ok.loc[ok["ndcg@10"].idxmax()]
        assert best["rank"] == 1 and math.isnan(best["p_vs_best"]) and best["tied_with_best"]
        others = ok[ok["model"] != best["model"]]
        assert others["p_vs_best"].between(0, 1).all(), protocol
        assert (others["tied_with_best"] == (others["p_vs_best"] >= 0.05)).all()
    # random-like baselines are far from the best on this data: at least one clear loss
    assert (finished_run.leaderboard["p_vs_best"] < 0.05).any()


def test_run_folder_holds_everything_needed_to_rerun(finished_run) -> None:
    out = finished_run.out_dir
    for name in ("leaderboard.csv", "leaderboard.json", "report.html", "config.toml",
                 "environment.json", "run.json", "per_user.csv.gz"):
        assert (out / name).is_file(), name
    data = json.loads((out / "leaderboard.json").read_text())
    assert data["run"]["run_id"] == "run-a"
    assert {"fit_seconds", "recommend_seconds", "peak_memory_mb", "ndcg@10_ci_low"} <= set(
        data["rows"][0])
    ok_rows = [r for r in data["rows"] if r["status"] == "ok"]
    assert all(r["fit_seconds"] >= 0 and r["peak_memory_mb"] >= 0 for r in ok_rows)
    env = json.loads((out / "environment.json").read_text())
    assert env["packages"]["numpy"] == np.__version__ and env["cpu_count"] >= 1
    csv = pd.read_csv(out / "leaderboard.csv")
    assert list(csv["model"]) == list(finished_run.leaderboard["model"])
    run = json.loads((out / "run.json").read_text())
    assert run["protocols"][0]["leakage"]["overlap"] == 0


def test_run_is_appended_to_the_store_next_to_the_run_folder(finished_run) -> None:
    assert finished_run.store == finished_run.out_dir.parent / "results.duckdb"
    runs = list_runs(finished_run.store)
    assert "run-a" in set(runs["run_id"])


def test_same_config_and_seed_give_the_same_leaderboard(finished_run, synth_data, tmp_path):
    config = finished_run.config
    models = tuple(m for m in config.models if m.name in ("most-popular", "item-knn", "ease"))
    again = run_benchmark(replace(config, models=models), tmp_path / "again", dataset=synth_data,
                          store=False, report=False)
    cols = [c for c in again.leaderboard.columns if "@" in c]
    first = finished_run.leaderboard.set_index(["protocol", "model"]).loc[
        again.leaderboard.set_index(["protocol", "model"]).index, cols]
    pd.testing.assert_frame_equal(first, again.leaderboard.set_index(["protocol", "model"])[cols])


def test_a_ratings_file_dataset_and_quick_variant(tiny_config, tmp_path) -> None:
    from .conftest import synthetic_dataset

    ds = synthetic_dataset(60, 50, 900, seed=5)
    path = tmp_path / "ratings.csv"
    ds.to_frame().to_csv(path, index=False)
    config = replace(tiny_config, dataset=str(path))
    result = run_benchmark(config, tmp_path / "q", quick=True, store=tmp_path / "s.duckdb",
                           report=False)
    assert result.config.k == (5,)
    assert set(result.leaderboard["model"]) == {"most-popular", "ease", "bias-baseline"}
    assert result.run_info["quick"] is True
    assert not (tmp_path / "q" / "report.html").exists()
    assert (tmp_path / "s.duckdb").is_file()
