"""describe(): sizes, rating range, density and dates, checked against independent computations."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

from movielens_lessons.data.info import describe
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers import read_release

FIXTURES = Path(__file__).parent / "fixtures"


def _iso_day(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=timezone.utc).date().isoformat()


def _expected_from_csv(folder: Path) -> dict:
    """The summary computed with the csv module only, straight from the files."""
    with open(folder / "ratings.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    ratings = [float(r["rating"]) for r in rows]
    stamps = [int(r["timestamp"]) for r in rows]
    users = {r["userId"] for r in rows}
    movies_rated = {r["movieId"] for r in rows}
    pairs = {(r["userId"], r["movieId"]) for r in rows}
    with open(folder / "movies.csv", encoding="utf-8", newline="") as f:
        n_movies = sum(1 for _ in csv.DictReader(f))
    with open(folder / "tags.csv", encoding="utf-8", newline="") as f:
        n_tags = sum(1 for _ in csv.DictReader(f))
    return {
        "ratings": len(rows),
        "users": len(users),
        "rated_movies": len(movies_rated),
        "movies": n_movies,
        "tags": n_tags,
        "rating_min": min(ratings),
        "rating_max": max(ratings),
        "density": len(pairs) / (len(users) * len(movies_rated)),
        "duplicate_pairs": len(rows) - len(pairs),
        "first_date": _iso_day(min(stamps)),
        "last_date": _iso_day(max(stamps)),
    }


def _check(summary: dict, expected: dict) -> None:
    for key, value in expected.items():
        if isinstance(value, float):
            assert summary[key] == pytest.approx(value), key
        else:
            assert summary[key] == value, key


def test_describe_csv_fixture() -> None:
    summary = describe(read_release("ml-20m", FIXTURES))
    _check(summary, _expected_from_csv(FIXTURES / "ml-20m"))
    assert summary["links"] == 7 and summary["users_with_demographics"] is None
    json.dumps(summary)  # plain Python values only


@pytest.mark.parametrize("name", ["ml-100k", "ml-1m", "ml-10m"])
def test_describe_other_formats_counts(name: str) -> None:
    data = read_release(name, FIXTURES)
    summary = describe(data)
    assert summary["ratings"] == len(data.ratings)
    assert summary["movies"] == len(data.movies)
    assert summary["rating_scale"] == list(data.rating_scale)
    assert data.rating_scale[0] <= summary["rating_min"] <= summary["rating_max"]
    json.dumps(summary)


def test_describe_counts_duplicates_and_implicit_data() -> None:
    ratings = pd.DataFrame({"userId": [1, 1, 2], "movieId": [5, 5, 5]})
    summary = describe(MovieLensData(name="x", path=None, ratings=ratings))
    assert summary["duplicate_pairs"] == 1
    assert summary["density"] == pytest.approx(2 / (2 * 1))
    assert summary["rating_min"] is None and summary["first_date"] is None
    assert summary["movies"] is None


@pytest.mark.realdata
def test_describe_real_ml_latest_small(real_data_dir: Path) -> None:
    summary = describe(read_release("ml-latest-small", real_data_dir))
    _check(summary, _expected_from_csv(real_data_dir / "ml-latest-small"))
    # The published figures of the release (README.txt).
    assert (summary["ratings"], summary["users"], summary["movies"], summary["tags"]) == (
        100_836,
        610,
        9_742,
        3_683,
    )
    assert summary["rated_movies"] == 9_724
    assert (summary["rating_min"], summary["rating_max"]) == (0.5, 5.0)
