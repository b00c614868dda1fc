"""The service's API through FastAPI's test client: answers, reasons, and a clear 4xx for each bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx2")  # the TestClient's HTTP client

from fastapi.testclient import TestClient

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.readers.titles import movies_frame
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model
from movielens_lessons.serving.app import create_app, load_models
from movielens_lessons.serving.catalogue import Catalogue

from ..models.contract import cluster_frame

IDS = [*range(100, 111), *range(200, 211)]


def _title(m: int) -> str:
    if m == 210:
        return "<script>alert(1)</script> (2010)"
    return f"{'Comedy' if m < 200 else 'Horror'} Movie {m} ({1990 if m < 200 else 2010})"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue(movies_frame(IDS, [_title(m) for m in IDS],
                                  [["Comedy"] if m < 200 else ["Horror"] for m in IDS]))  # fmt: skip


@pytest.fixture(scope="module")
def models() -> dict[str, BaseRecommender]:
    data = Dataset.from_frame(cluster_frame())
    return {
        name: create_model(name).fit(data) for name in ("item-knn", "most-popular", "bias-baseline")
    }


@pytest.fixture(scope="module")
def client(models, catalogue) -> TestClient:
    return TestClient(create_app(models, catalogue=catalogue))


def test_health_and_models(client: TestClient) -> None:
    assert client.get("/health").json() == {
        "status": "ok", "models": ["item-knn", "most-popular", "bias-baseline"]
    }  # fmt: skip
    infos = {m["name"]: m for m in client.get("/models").json()}
    assert infos["item-knn"]["default"] and not infos["most-popular"]["default"]
    assert infos["item-knn"]["similar_items"] and not infos["most-popular"]["similar_items"]
    assert infos["bias-baseline"]["feedback"] == "explicit"
    assert infos["item-knn"]["n_users"] == 40 and infos["item-knn"]["fold_in"]


def test_known_user_gets_unseen_movies_with_titles_and_reasons(client, models) -> None:
    got = client.get("/users/3/recommendations", params={"k": 5})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["model"] == "item-knn" and body["userId"] == 3 and not body["fallback"]
    items = body["items"]
    assert [i["rank"] for i in items] == [1, 2, 3, 4, 5]
    seen = set(cluster_frame().query("userId == 3")["movieId"])
    assert not {i["movieId"] for i in items} & seen
    first = items[0]
    assert first["title"].startswith("Comedy Movie") and first["year"] == 1990
    assert first["genres"] == ["Comedy"]
    assert first["reason"].startswith("because you watched ")
    # a model without item similarity gives no reason
    plain = client.get("/users/3/recommendations", params={"k": 3, "model": "most-popular"}).json()
    assert [i["reason"] for i in plain["items"]] == [None, None, None]


def test_unknown_user_is_404_unless_fallback_is_asked(client) -> None:
    got = client.get("/users/999/recommendations")
    assert got.status_code == 404
    assert got.json() == {"detail": "userId 999 is not known to model item-knn; add fallback=true "
                                    "for the most popular movies"}  # fmt: skip
    body = client.get("/users/999/recommendations", params={"fallback": True, "k": 3}).json()
    assert body["fallback"] and len(body["items"]) == 3


def test_new_user_history_folds_in(client) -> None:
    history = [{"movieId": 100, "rating": 5.0, "timestamp": 3},
               {"movieId": 101, "rating": 4.5, "timestamp": 1},
               {"movieId": 200, "rating": 1.0, "timestamp": 2}]  # fmt: skip
    got = client.post("/recommendations", json={"history": history, "k": 10})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["userId"] is None and len(body["items"]) == 10
    ids = [i["movieId"] for i in body["items"]]
    assert not {100, 101, 200} & set(ids)
    assert all(m < 200 for m in ids[:3])
    # reasons come from the liked movies (rating >= 4), never from the disliked horror film
    reasons = {i["reason"] for i in body["items"] if i["reason"]}
    assert reasons and all("Comedy Movie 10" in r and r.startswith("because you liked") for r in reasons)
    # unknown movies in a history are ignored; a history without ratings counts as watched
    plain = client.post("/recommendations", json={"history": [{"movieId": 100}, {"movieId": 5}]})
    assert plain.status_code == 200 and plain.json()["items"][0]["reason"].startswith("because you watched")


def test_a_model_that_cannot_fold_in_names_the_ones_that_can(catalogue, models) -> None:
    pytest.importorskip("implicit")
    data = Dataset.from_frame(cluster_frame())
    bpr = create_model("bpr", n_epochs=2, n_factors=4).fit(data)
    client = TestClient(create_app({"bpr": bpr, **models}, catalogue=catalogue))
    got = client.post("/recommendations", json={"history": [{"movieId": 100}]})
    assert got.status_code == 422
    assert got.json()["detail"] == ("model bpr cannot recommend for a new user's history; served "
                                    "models that can: item-knn, most-popular, bias-baseline")  # fmt: skip


def test_similar_movies(client) -> None:
    got = client.get("/items/100/similar", params={"k": 4})
    assert got.status_code == 200, got.text
    items = got.json()["items"]
    assert len(items) == 4 and 100 not in [i["movieId"] for i in items]
    assert all(i["movieId"] < 200 for i in items)
    assert items[0]["reason"] == "similar to Comedy Movie 100 (1990)"
    missing = client.get("/items/555/similar")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "movieId 555 is not in model item-knn's training data"
    none = client.get("/items/100/similar", params={"model": "most-popular"})
    assert none.status_code == 422 and "served models that have one: item-knn" in none.json()["detail"]


def test_search_ranks_titles_and_keeps_markup_as_text(client, models) -> None:
    got = client.get("/items/search", params={"q": "movie 10", "limit": 3}).json()
    assert [m["movieId"] for m in got] == [100, 101, 102]
    assert client.get("/items/search", params={"q": "HORROR 205"}).json()[0]["movieId"] == 205
    script = client.get("/items/search", params={"q": "<script>"}).json()
    assert script[0]["title"] == "<script>alert(1)</script> (2010)"  # data, returned as it is
    bare = TestClient(create_app(models))
    assert bare.get("/items/search", params={"q": "x"}).status_code == 404


def test_predict_ratings_and_scores(client) -> None:
    pairs = [{"userId": 1, "movieId": 100}, {"userId": 1, "movieId": 999}]
    got = client.post("/predict", json={"pairs": pairs, "model": "bias-baseline"}).json()
    assert got["kind"] == "rating"
    # a rating model falls back to the user's bias for a movie it does not know
    assert all(0.5 <= p["value"] <= 5.0 for p in got["predictions"])
    scores = client.post("/predict", json={"pairs": pairs}).json()
    assert scores["kind"] == "score" and scores["model"] == "item-knn"
    assert np.isfinite(scores["predictions"][0]["value"]) and scores["predictions"][1]["value"] is None


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "detail"),
    [
        ("get", "/users/3/recommendations?k=0", None, 422,
         "query.k: Input should be greater than or equal to 1"),
        ("get", "/users/3/recommendations?k=1000000", None, 422,
         "query.k: Input should be less than or equal to 100"),
        ("get", "/users/100000000000000000000/recommendations", None, 422,
         "path.userId: Input should be less than or equal to 2147483647"),
        ("get", "/users/abc/recommendations", None, 422,
         "path.userId: Input should be a valid integer, unable to parse string as an integer"),
        ("get", "/users/3/recommendations?model=nope", None, 404,
         "unknown model 'nope'; served: item-knn, most-popular, bias-baseline"),
        ("post", "/recommendations", {"history": [{"movieId": 100}], "colour": "red"}, 422,
         "colour: Extra inputs are not permitted"),
        ("post", "/recommendations", {"history": [{"movieId": 100, "stars": 5}]}, 422,
         "history.0.stars: Extra inputs are not permitted"),
        ("post", "/recommendations", {"history": []}, 422,
         "history: List should have at least 1 item after validation, not 0"),
        ("post", "/recommendations", {"history": [{"movieId": 1}] * 1001}, 422,
         "history: List should have at most 1000 items after validation, not 1001"),
        ("post", "/recommendations", {"history": [{"movieId": "100"}]}, 422,
         "history.0.movieId: Input should be a valid integer"),
        ("post", "/recommendations", {"history": [{"movieId": 1.5}]}, 422,
         "history.0.movieId: Input should be a valid integer"),
        ("post", "/recommendations", {"history": [{"movieId": 100}], "k": 101}, 422,
         "k: Input should be less than or equal to 100"),
        ("post", "/predict", {"pairs": [{"userId": -1, "movieId": 1}]}, 422,
         "pairs.0.userId: Input should be greater than or equal to 0"),
        ("get", "/items/search?q=", None, 422,
         "query.q: String should have at least 1 character"),
    ],
)
def test_bad_input_gets_a_clear_4xx(client, method, url, body, status, detail) -> None:
    got = getattr(client, method)(url, **({} if body is None else {"json": body}))
    assert got.status_code == status, got.text
    assert got.json() == {"detail": detail}


def test_malformed_and_oversized_bodies(client, models) -> None:
    bad = client.post("/recommendations", content=b'{"history": [', headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("the request body is not valid JSON")
    small = TestClient(create_app(models, max_body_bytes=100))
    big = small.post("/recommendations", json={"history": [{"movieId": 100}] * 20})
    assert big.status_code == 413
    assert big.json() == {"detail": "the request body is over 100 bytes"}


def test_load_models_from_folders(models, tmp_path: Path) -> None:
    folders = [models[name].save(tmp_path / name) for name in ("most-popular", "item-knn")]
    loaded = load_models(folders)
    assert list(loaded) == ["most-popular", "item-knn"]
    np.testing.assert_array_equal(loaded["item-knn"].score([1]), models["item-knn"].score([1]))
    with pytest.raises(ConfigError, match="two models named 'item-knn'"):
        load_models([folders[1], folders[1]])
    with pytest.raises(ConfigError, match="no model to serve"):
        load_models([])
    assert json.loads((folders[0] / "model.json").read_text())["name"] == "most-popular"


def test_xgboost_models_give_their_own_explanations_as_reasons() -> None:
    """The ranker's and the rating model's reasons are their explanations of the score they rank by,
    in the order of their own recommendations."""
    pytest.importorskip("xgboost")
    from movielens_lessons.data.synth import synthesize
    from movielens_lessons.models.boosting.explained_recommendations import (
        explain_recommendations,
    )

    synth = synthesize(100, 120, 4000, seed=3)
    data = Dataset.from_frame(synth.ratings, movies=synth.movies)
    served = {
        "xgboost-ranker": create_model("xgboost-ranker", retrievers="ease,item-knn,most-popular",
                                       n_candidates=20, n_estimators=30, early_stopping_rounds=5,
                                       learning_rate=0.3).fit(data),
        "xgboost-rating": create_model("xgboost-rating", n_folds=3, n_trees=30, learning_rate=0.3,
                                       n_threads=1).fit(data),
    }  # fmt: skip
    client = TestClient(create_app(served, catalogue=Catalogue(synth.movies)))
    user = int(data.user_ids[4])
    for name, model in served.items():
        body = client.get(f"/users/{user}/recommendations", params={"k": 4, "model": name}).json()
        recs = model.recommend([user], k=4)
        assert [i["movieId"] for i in body["items"]] == recs.item_ids[recs.items[0]].tolist()
        np.testing.assert_allclose([i["score"] for i in body["items"]], recs.scores[0], atol=1e-4)
        expected = [e.why for e in explain_recommendations(model, user, k=4)]
        assert [i["reason"] for i in body["items"]] == expected
        assert all(r.startswith("Recommended") for r in expected), expected
        assert all(i["title"] for i in body["items"])
    # an unknown user with the fallback has no explanation to give
    body = client.get("/users/99999999/recommendations",
                      params={"k": 3, "model": "xgboost-ranker", "fallback": True}).json()  # fmt: skip
    assert body["fallback"] and [i["reason"] for i in body["items"]] == [None] * 3


def test_models_served_from_a_benchmark_run_show_their_leaderboard_row(tmp_path: Path) -> None:
    from dataclasses import replace

    from movielens_lessons.experiments.benchmark import run_benchmark
    from movielens_lessons.experiments.config_loading import load_config

    from ..experiments.conftest import TINY_TOML, synthetic_dataset

    config = load_config(TINY_TOML)
    config = replace(config, models=tuple(m for m in config.models
                                          if m.name in ("most-popular", "ease", "bias-baseline")))  # fmt: skip
    run = run_benchmark(config, tmp_path / "run", dataset=synthetic_dataset(), report=False,
                        store=False)  # fmt: skip
    board = run.leaderboard.set_index(["protocol", "model"])
    folders = [run.out_dir / "models" / "user-random" / "ease",
               run.out_dir / "models" / "user-temporal" / "bias-baseline"]  # fmt: skip
    served = load_models(folders)
    plain = create_model("most-popular").fit(synthetic_dataset())  # trained outside any run
    client = TestClient(create_app({**served, "most-popular": plain},
                                   folders={n: str(f) for n, f in zip(served, folders, strict=True)}))  # fmt: skip
    infos = {m["name"]: m for m in client.get("/models").json()}
    ease = infos["ease"]["leaderboard"]
    assert ease["run"] == run.run_id and ease["protocol"] == "user-random"
    assert ease["primary_metric"] == "ndcg@10"
    row = board.loc[("user-random", "ease")]
    assert ease["rank"] == int(row["rank"])
    assert ease["metrics"]["ndcg@10"] == pytest.approx(
        {"mean": row["ndcg@10"], "ci_low": row["ndcg@10_ci_low"], "ci_high": row["ndcg@10_ci_high"]})
    assert set(ease["metrics"]) >= {"ndcg@5", "recall@10", "coverage@10"}
    rating = infos["bias-baseline"]["leaderboard"]
    assert rating["protocol"] == "user-temporal"
    assert rating["metrics"]["rmse"]["mean"] == pytest.approx(
        board.loc[("user-temporal", "bias-baseline"), "rmse"])
    assert infos["most-popular"]["leaderboard"] is None


def test_a_user_without_training_data_is_unknown_to_the_service(catalogue) -> None:
    frame = cluster_frame()
    users = np.append(np.unique(frame["userId"]), 77)  # 77: in the id map, no training rating
    model = create_model("item-knn").fit(Dataset.from_frame(frame, user_ids=users))
    client = TestClient(create_app({"item-knn": model}, catalogue=catalogue))
    got = client.get("/users/77/recommendations")
    assert got.status_code == 404 and "not known" in got.json()["detail"]
    assert client.get("/users/77/history").status_code == 404
    body = client.get("/users/77/recommendations", params={"fallback": True, "k": 3}).json()
    assert body["fallback"] and [i["reason"] for i in body["items"]] == [None] * 3
