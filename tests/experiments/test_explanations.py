"""Explanations in the benchmark: per-protocol parameters reach the fitted models, and the XGBoost models'
gain importance and one recommendation's contributions are recorded, saved and drawn in the report."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import tomllib

from movielens_lessons import columns as C
from movielens_lessons.experiments.config_loading import config_from_dict
from movielens_lessons.experiments.explanations import (
    explain_model,
    importance_shares,
    read_explanation,
)
from movielens_lessons.experiments.runner import make_split
from movielens_lessons.models.registry import create_model

from .conftest import TINY_TOML, synthetic_dataset

XGB = ("xgboost-ranker", "xgboost-rating")


def test_importance_shares_keep_the_top_and_sum_the_rest() -> None:
    series = pd.Series({"a": 6.0, "b": 3.0, "c": 0.5, "d": 0.5}, name="total_gain")
    top, other = importance_shares(series, top=2)
    assert top == pytest.approx({"a": 0.6, "b": 0.3}) and list(top) == ["a", "b"]
    assert other == pytest.approx(0.1)
    assert importance_shares(pd.Series({"a": 0.0}))[0] == {"a": 0.0}  # never split on: no 0/0


def test_a_model_without_feature_importance_is_not_explained(synth_data) -> None:
    model = create_model("most-popular").fit(synth_data)
    assert explain_model(model, "implicit", "p", "most-popular", 1) is None


@pytest.fixture(scope="module")
def xgb_run(tmp_path_factory):
    """A two-protocol benchmark of both XGBoost models (tiny settings), the ranker's label window and
    item-kNN's neighbours set per protocol; with the report and a results store."""
    pytest.importorskip("xgboost")
    from movielens_lessons.experiments.benchmark import run_benchmark

    data = tomllib.loads(TINY_TOML.read_text(encoding="utf-8"))
    data.pop("quick")
    data["models"] = {
        "most-popular": {},
        "item-knn": {"n_neighbors": 20, "protocols": {"user-temporal": {"n_neighbors": 7}}},
        "xgboost-ranker": {"n_estimators": 5, "n_candidates": 20,
                           "retrievers": "most-popular,item-knn",
                           "protocols": {"user-random": {"validation": "random"}}},
        "xgboost-rating": {"base_models": "bias-baseline", "n_folds": 2, "n_trees": 5},
    }
    root = tmp_path_factory.mktemp("xgb")
    config = config_from_dict(data, "xgb.toml")
    dataset = synthetic_dataset()
    result = run_benchmark(config, root / "run", dataset=dataset, store=root / "r.duckdb")
    return result, dataset


def _params(result, protocol: str, model: str) -> dict:
    board = result.leaderboard
    row = board[(board["protocol"] == protocol) & (board["model"] == model)].iloc[0]
    return json.loads(row["params"])


def test_each_protocol_fits_with_its_own_parameters(xgb_run) -> None:
    result, _ = xgb_run
    assert set(result.leaderboard["status"]) == {"ok"}
    assert _params(result, "user-random", "xgboost-ranker")["validation"] == "random"
    assert "validation" not in _params(result, "user-temporal", "xgboost-ranker")
    assert _params(result, "user-temporal", "item-knn")["n_neighbors"] == 7
    assert _params(result, "user-random", "item-knn")["n_neighbors"] == 20
    for protocol, window, k in (("user-temporal", "temporal", 7), ("user-random", "random", 20)):
        models = result.out_dir / "models" / protocol
        saved = json.loads((models / "xgboost-ranker" / "model.json").read_text())
        assert saved["params"]["validation"] == window  # what the fitted model was built with
        assert json.loads((models / "item-knn" / "model.json").read_text())["params"][
            "n_neighbors"] == k


def test_per_protocol_parameters_are_recorded_with_the_run(xgb_run) -> None:
    import duckdb

    result, _ = xgb_run
    written = tomllib.loads((result.out_dir / "config.toml").read_text(encoding="utf-8"))
    assert written["models"]["xgboost-ranker"]["protocols"] == {"user-random": {
        "validation": "random"}}
    con = duckdb.connect(str(result.store), read_only=True)
    try:
        stored = json.loads(con.execute("SELECT config FROM runs").fetchone()[0])
    finally:
        con.close()
    assert stored["models"]["item-knn"]["protocols"] == {"user-temporal": {"n_neighbors": 7}}
    html = (result.out_dir / "report.html").read_text(encoding="utf-8")
    assert "Parameters set for this protocol only: <code>xgboost-ranker</code> " \
           "<code>validation = &#x27;random&#x27;</code>" in html


@pytest.mark.parametrize("protocol", ["user-temporal", "user-random"])
def test_xgboost_models_are_explained_and_saved(xgb_run, protocol) -> None:
    result, dataset = xgb_run
    folder = result.out_dir / "explanations" / protocol
    assert sorted(p.name for p in folder.iterdir()) == [f"{m}.json" for m in XGB]
    run = next(p for p in result.protocols if p.config.name == protocol)
    by_model = {m.model: m for m in run.models}
    assert by_model["most-popular"].explanation is None
    sp = make_split(dataset, run.config)
    first_user = int(sp.test.user_ids[sp.test.active_users].min())
    for name in XGB:
        e = read_explanation(folder / f"{name}.json")
        assert e == by_model[name].explanation
        assert 0 < len(e.importance) <= 15 and e.n_features >= len(e.importance)
        assert sum(e.importance.values()) + e.other_share == pytest.approx(1.0)
        shares = list(e.importance.values())
        assert shares == sorted(shares, reverse=True)
        ex = e.example
        assert ex is not None and ex.user == first_user
        assert ex.bias + sum(ex.contributions.values()) == pytest.approx(ex.score, abs=1e-4)
        assert ex.title and ex.title.startswith("Synthetic Movie")
        # the explained movie is the one the user was recommended first
        recs = pd.read_csv(result.out_dir / "recommendations" / protocol / f"{name}.csv")
        top = recs[(recs[C.USER] == first_user) & (recs[C.RANK] == 1)].iloc[0]
        assert ex.item == int(top[C.ITEM])
        if name == "xgboost-ranker":  # the ranker's score is the margin its explanation sums to
            assert ex.score == pytest.approx(float(top[C.SCORE]), abs=1e-4)


def test_report_draws_both_explanation_figures_per_model(xgb_run) -> None:
    result, _ = xgb_run
    html = (result.out_dir / "report.html").read_text(encoding="utf-8")
    for protocol in ("user-temporal", "user-random"):
        for name in XGB:
            for suffix in ("importance", "contributions"):
                stem = f"{protocol}_explain_{name}_{suffix}"
                assert f"data-name='{stem}'" in html
                assert (result.out_dir / "figures" / f"{stem}.png").is_file()
    assert "explain_most-popular" not in html
    assert "pred_contribs" in html and "share of the trees" in html
