"""``explain --model DIR --user ID``: the table, --json, titles, unknown users, models that cannot explain."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("xgboost")

from movielens_lessons import columns as C
from movielens_lessons.data.synth import synthesize, write_movielens

from .runner import run_cli

#: Wide enough that rich never wraps a "why" sentence, so the table can be searched for it.
WIDE = {"COLUMNS": "400"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=WIDE)


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explain") / "synth"
    write_movielens(synthesize(100, 120, 4000, seed=3), folder)
    return folder


@pytest.fixture(scope="module")
def ranker(release: Path) -> Path:
    out = release.parent / "ranker"
    result = run(
        "train",
        "xgboost-ranker",
        "--ratings",
        str(release / "ratings.csv"),
        "--movies",
        str(release / "movies.csv"),
        "--out",
        str(out),
        "--param",
        "retrievers=ease,most-popular",
        "--param",
        "n_candidates=20",
        "--param",
        "n_estimators=30",
        "--param",
        "early_stopping_rounds=5",
        "--param",
        "learning_rate=0.3",
    )
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def user(release: Path) -> int:
    return int(pd.read_csv(release / "ratings.csv")[C.USER].iloc[0])


@pytest.fixture(scope="module")
def as_json(ranker: Path, user: int) -> dict:
    result = run("explain", "--model", str(ranker), "--user", str(user), "--k", "3", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_json_has_each_recommendation_with_its_reasons(as_json: dict, user: int) -> None:
    assert as_json["userId"] == user
    assert as_json["model"] == "xgboost-ranker"
    recs = as_json["recommendations"]
    assert [r[C.RANK] for r in recs] == [1, 2, 3]
    for rec in recs:
        assert rec[C.TITLE]  # titles from the movies.csv saved with the model
        assert rec["why"].startswith("Recommended")
        assert 1 <= len(rec["reasons"]) <= 3
        assert {"concept", "direction", "contribution", "phrase", "features"} <= set(
            rec["reasons"][0]
        )


def test_table_shows_titles_scores_and_why(ranker: Path, user: int, as_json: dict) -> None:
    result = run("explain", "--model", str(ranker), "--user", str(user), "--k", "3")
    assert result.returncode == 0, result.stderr
    assert f"Why these movies for user {user}" in result.stdout
    for rec in as_json["recommendations"]:
        assert str(rec[C.ITEM]) in result.stdout
        assert rec[C.TITLE] in result.stdout
        assert f"{rec[C.SCORE]:.3f}" in result.stdout
        assert rec["why"] in result.stdout


def test_titles_from_a_movies_file(ranker: Path, user: int, tmp_path: Path) -> None:
    movies = tmp_path / "movies.csv"
    pd.DataFrame({C.ITEM: [0], C.TITLE: ["unused"]}).to_csv(movies, index=False)
    result = run(
        "explain", "--model", str(ranker), "--user", str(user), "--k", "1", "--json", "--movies", str(movies)
    )
    assert result.returncode == 0, result.stderr
    # a movie the file does not list has no title
    assert json.loads(result.stdout)["recommendations"][0][C.TITLE] is None


def test_unknown_user_is_one_error_line(ranker: Path) -> None:
    result = run("explain", "--model", str(ranker), "--user", "999999")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: userId 999999 is not in the model's training data"
    assert result.stdout == ""


def test_model_without_explain_names_the_models_that_have_it(release: Path) -> None:
    out = release.parent / "popular"
    trained = run(
        "train", "most-popular", "--ratings", str(release / "ratings.csv"), "--out", str(out)
    )
    assert trained.returncode == 0, trained.stderr
    result = run("explain", "--model", str(out), "--user", "1")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: most-popular cannot explain its recommendations; models that can: "
        "xgboost-ranker, xgboost-rating"
    )


@pytest.mark.parametrize(("flag", "value"), [("--k", "0"), ("--top", "0")])
def test_bad_counts_are_one_error_line(ranker: Path, flag: str, value: str) -> None:
    result = run("explain", "--model", str(ranker), "--user", "1", flag, value)
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: {flag} must be a positive integer, got {value}"
