"""train / recommend / predict / similar / models from the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C

from ..models.contract import cluster_frame
from .runner import run_cli as _run_cli


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return _run_cli(*args, cwd=cwd)


@pytest.fixture(scope="module")
def ratings_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "ratings.csv"
    cluster_frame().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained(ratings_csv: Path) -> Path:
    out = ratings_csv.parent / "model"
    result = run("train", "most-popular", "--ratings", str(ratings_csv), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_train_writes_a_model_folder(trained: Path) -> None:
    meta = json.loads((trained / "model.json").read_text())
    assert meta["name"] == "most-popular"
    assert meta["n_users"] == 40


def test_recommend_every_requested_user_gets_k_rows(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "recs.csv"
    result = run(
        "recommend", "--model", str(trained), "--users", "1,2,999", "--k", "4", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    recs = pd.read_csv(out)
    assert list(recs.columns) == [C.USER, C.ITEM, C.RANK, C.SCORE, C.FALLBACK]
    assert recs.groupby(C.USER).size().to_dict() == {1: 4, 2: 4, 999: 4}
    assert recs.loc[recs[C.USER] == 999, C.FALLBACK].all()
    assert not recs.loc[recs[C.USER] == 1, C.FALLBACK].any()


def test_recommend_users_from_a_file_and_all_users(
    trained: Path, ratings_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "recs.csv"
    assert (
        run(
            "recommend",
            "--model",
            str(trained),
            "--users-from",
            str(ratings_csv),
            "--out",
            str(out),
        ).returncode
        == 0
    )
    assert pd.read_csv(out)[C.USER].nunique() == 40
    assert (
        run(
            "recommend", "--model", str(trained), "--all-users", "--k", "2", "--out", str(out)
        ).returncode
        == 0
    )
    assert len(pd.read_csv(out)) == 80


def test_include_seen_can_return_training_items(
    trained: Path, ratings_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "recs.csv"
    seen = pd.read_csv(ratings_csv).query("userId == 1")[C.ITEM].tolist()
    run(
        "recommend",
        "--model",
        str(trained),
        "--users",
        "1",
        "--k",
        "20",
        "--include-seen",
        "--out",
        str(out),
    )
    assert set(seen) <= set(pd.read_csv(out)[C.ITEM])
    run("recommend", "--model", str(trained), "--users", "1", "--k", "20", "--out", str(out))
    assert not set(seen) & set(pd.read_csv(out)[C.ITEM])


def test_predict_writes_one_row_per_pair(trained: Path, ratings_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"
    result = run("predict", "--model", str(trained), "--pairs", str(ratings_csv), "--out", str(out))
    assert result.returncode == 0, result.stderr
    pred = pd.read_csv(out)
    assert list(pred.columns) == [C.USER, C.ITEM, C.PREDICTION]
    assert len(pred) == len(pd.read_csv(ratings_csv))


def test_models_lists_every_registered_name() -> None:
    result = run("models", "--json")
    names = {row["name"] for row in json.loads(result.stdout)}
    assert {"most-popular", "ease", "als", "svd"} <= names


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["train", "no-such-model", "--ratings", "x.csv", "--out", "m"],
            "unknown model 'no-such-model'",
        ),
        (
            ["train", "most-popular", "--ratings", "x.csv", "--out", "m", "--param", "oops"],
            "expected KEY=VALUE",
        ),
        (
            ["train", "most-popular", "--ratings", "x.csv", "--out", "m", "--param", "alpha=3"],
            "unknown parameter 'alpha'",
        ),
        (["train", "most-popular", "--ratings", "missing.csv", "--out", "m"], "missing.csv"),
    ],
)
def test_bad_train_input_gets_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--users", "1", "--k", "0"], "--k must be a positive integer"),
        (["--users", "1,abc"], "'abc' is not an integer userId"),
        ([], "give exactly one of --users"),
    ],
)
def test_bad_recommend_input_gets_one_line(
    trained: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    result = run("recommend", "--model", str(trained), "--out", str(tmp_path / "r.csv"), *extra)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_pairs_file_names_line_and_column(trained: Path, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("userId,movieId\n1,100\n2,x7\n")
    result = run(
        "predict", "--model", str(trained), "--pairs", str(pairs), "--out", str(tmp_path / "p.csv")
    )
    assert result.returncode != 0
    assert "line 3" in result.stderr and "movieId" in result.stderr


def test_load_of_a_folder_without_model_fails_clearly(tmp_path: Path) -> None:
    result = run(
        "recommend", "--model", str(tmp_path), "--users", "1", "--out", str(tmp_path / "r")
    )
    assert result.returncode != 0
    assert "not a saved model" in result.stderr


def test_similar_lists_neighbours_and_refuses_models_without_items(
    ratings_csv: Path, trained: Path, tmp_path: Path
) -> None:
    model = tmp_path / "knn"
    assert (
        run("train", "item-knn", "--ratings", str(ratings_csv), "--out", str(model)).returncode == 0
    )
    result = run("similar", "--model", str(model), "--movie", "100", "--k", "3", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert all(r["queryMovieId"] == 100 and r["movieId"] != 100 for r in rows)
    refused = run("similar", "--model", str(trained), "--movie", "100")
    assert refused.returncode != 0 and "no item representation" in refused.stderr


def _imdb_parquet(folder: Path, items: list[int]) -> Path:
    """A `data imdb`-shaped Parquet: MovieLens columns plus runtime, rating and votes."""
    from movielens_lessons.data.imdb import write_enriched_items

    frame = pd.DataFrame(
        {
            C.ITEM: items,
            C.TITLE: [f"Movie {i} (2000)" for i in items],
            C.GENRES: [["Drama"] if i < 200 else ["Comedy"] for i in items],
            C.IMDB_RUNTIME: [90 + i % 7 for i in items],
            C.IMDB_RATING: [5.0 + (i % 50) / 10 for i in items],
            C.IMDB_VOTES: [10 * (i + 1) for i in items],
        }
    )
    return write_enriched_items(frame, folder / "imdb_items.parquet")


def test_train_with_imdb_gives_the_ranker_imdb_features(ratings_csv: Path, tmp_path: Path) -> None:
    pytest.importorskip("xgboost")
    from movielens_lessons.models.base import BaseRecommender
    from movielens_lessons.models.boosting.ranker.features import ITEM_COLUMNS

    items = sorted(cluster_frame()[C.ITEM].unique().tolist())
    parquet = _imdb_parquet(tmp_path, items)
    out = tmp_path / "ranker"
    cheap = ["n_candidates=8", "n_estimators=5", "retrievers=most-popular,item-knn"]
    args = [a for kv in cheap for a in ("--param", kv)]
    result = run("train", "xgboost-ranker", "--ratings", str(ratings_csv), "--imdb", str(parquet),
                 "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    model = BaseRecommender.load(out)
    column = model.tables_.item[:, ITEM_COLUMNS.index("item_imdb_rating")]
    expected = [5.0 + (i % 50) / 10 for i in model.item_ids_]
    assert column.tolist() == pytest.approx(expected)


@pytest.mark.parametrize(("make", "needle"), [
    (lambda d: d / "missing.parquet", "IMDb items file not found"),
    (lambda d: (d / "x.parquet").write_text("not parquet") and d / "x.parquet", "not a Parquet"),
])
def test_train_imdb_errors_are_one_line(ratings_csv: Path, tmp_path: Path, make, needle) -> None:
    path = make(tmp_path)
    result = run("train", "most-popular", "--ratings", str(ratings_csv), "--imdb", str(path),
                 "--out", str(tmp_path / "m"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith("error: ") and needle in result.stderr
    assert "Traceback" not in result.stderr


def test_train_imdb_without_its_columns_names_them(ratings_csv: Path, tmp_path: Path) -> None:
    path = tmp_path / "plain.parquet"
    pd.DataFrame({C.ITEM: [100], C.TITLE: ["x"]}).to_parquet(path)
    result = run("train", "most-popular", "--ratings", str(ratings_csv), "--imdb", str(path),
                 "--out", str(tmp_path / "m"))
    assert result.returncode == 1
    assert "lacks column(s) runtimeMinutes, averageRating, numVotes" in result.stderr


@pytest.mark.torch
@pytest.mark.parametrize("model", ["mult-vae", "sasrec"])
def test_train_a_pytorch_model_on_the_cpu_then_recommend(
    model: str, ratings_csv: Path, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    out = tmp_path / model
    small = ["--param", "n_epochs=2", "--param", "hidden_dim=16", "--param", "num_threads=1"]
    result = run("train", model, "--ratings", str(ratings_csv), "--param", "device=cpu", *small,
                 "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["name"] == model and meta["params"]["device"] == "cpu"
    assert (out / "weights.pt").is_file()
    recs = tmp_path / "recs.csv"
    result = run("recommend", "--model", str(out), "--users", "1,2", "--k", "3", "--out", str(recs))
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(recs).groupby(C.USER).size().to_dict() == {1: 3, 2: 3}


@pytest.mark.tf
def test_train_two_tower_adds_the_unrated_movies_and_recommends_them(
    ratings_csv: Path, tmp_path: Path
) -> None:
    pytest.importorskip("tensorflow")
    ids = [*range(100, 111), *range(200, 211)]  # 110 and 210: in movies.csv, rated by nobody
    movies = tmp_path / "movies.csv"
    pd.DataFrame({
        C.ITEM: ids,
        C.TITLE: [f"Movie {m} ({1990 if m < 200 else 2010})" for m in ids],
        C.GENRES: ["Comedy" if m < 200 else "Horror" for m in ids],
    }).to_csv(movies, index=False)  # fmt: skip
    out = tmp_path / "tt"
    small = ["--param", "n_epochs=2", "--param", "embedding_dim=8", "--param", "feature_dim=4",
             "--param", "num_threads=1"]  # fmt: skip
    result = run("train", "two-tower", "--ratings", str(ratings_csv), "--movies", str(movies),
                 *small, "--out", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "2 movies of --movies without ratings join the catalogue" in result.stderr
    recs = tmp_path / "recs.csv"
    result = run("recommend", "--model", str(out), "--users", "1", "--k", "20", "--out", str(recs))
    assert result.returncode == 0, result.stderr
    got = pd.read_csv(recs)
    # every unseen movie is ranked, the two unrated ones among them with finite scores
    assert {110, 210} <= set(got[C.ITEM])
    assert np.isfinite(got["score"]).all()
    # a model that cannot score them from features keeps the rated movies only
    plain = tmp_path / "pop"
    result = run("train", "most-popular", "--ratings", str(ratings_csv), "--movies", str(movies),
                 "--out", str(plain))  # fmt: skip
    assert result.returncode == 0 and "join the catalogue" not in result.stderr
