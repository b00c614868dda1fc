"""One reader per release format, checked on fixtures written in each release's exact on-disk format.

Expected values are parsed independently here, with plain string operations on the fixture bytes, never
taken from the readers themselves.
"""

from __future__ import annotations

import csv
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers import (
    parse_year,
    read_ratings_csv,
    read_release,
    read_release_folder,
    read_u_item,
)
from movielens_lessons.data.readers.ml100k import ML100K_GENRES, read_u_genre
from movielens_lessons.data.readers.titles import parse_years, split_genres
from movielens_lessons.data.releases import get_release
from movielens_lessons.errors import DataNotFoundError

FIXTURES = Path(__file__).parent / "fixtures"

RATINGS_DTYPES = {C.USER: "int32", C.ITEM: "int32", C.RATING: "float32", C.TIMESTAMP: "int64"}


def _lines(path: Path, encoding: str) -> list[str]:
    return [ln for ln in path.read_bytes().decode(encoding).split("\n") if ln]


def _assert_ratings(df: pd.DataFrame, rows: list[list[str]]) -> None:
    """``df`` holds exactly ``rows`` (text fields user, item, rating, timestamp) in file order."""
    assert list(df.columns) == list(C.RATINGS_COLUMNS)
    assert {c: str(t) for c, t in df.dtypes.items()} == RATINGS_DTYPES
    assert df[C.USER].tolist() == [int(r[0]) for r in rows]
    assert df[C.ITEM].tolist() == [int(r[1]) for r in rows]
    np.testing.assert_allclose(df[C.RATING], [float(r[2]) for r in rows])
    assert df[C.TIMESTAMP].tolist() == [int(r[3]) for r in rows]


def _assert_movies_schema(movies: pd.DataFrame) -> None:
    assert list(movies.columns) == [C.ITEM, C.TITLE, C.YEAR, C.GENRES]
    assert str(movies[C.ITEM].dtype) == "int32"
    assert str(movies[C.YEAR].dtype) == "Int16"
    assert all(isinstance(g, list) for g in movies[C.GENRES])


# --- titles and genres ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "year"),
    [
        ("Toy Story (1995)", 1995),
        ("City of Lost Children, The (Cité des enfants perdus, La) (1995)", 1995),
        ("Seven (Se7en) (1995)", 1995),
        ("Babylon 5", None),
        ("Fawlty Towers (1975-1979)", 1975),
        ("Death Note: Desu nôto (2006–2007)", 2006),
        ("From Dusk Till Dawn 2: Texas Blood Money (1999) ", 1999),
        ("unknown", None),
        ("1984 (1956)", 1956),
        ("2001: A Space Odyssey (1968)", 1968),
        ("Movie (1995) extra", None),  # the year must be at the very end
        ("", None),
    ],
)
def test_parse_year(title: str, year: int | None) -> None:
    assert parse_year(title) == year


def test_parse_years_is_nullable_int16() -> None:
    years = parse_years(pd.Series(["A (2001)", "B", None]))
    assert str(years.dtype) == "Int16"
    assert years.iloc[0] == 2001
    assert years.iloc[1:].isna().all()


def test_split_genres() -> None:
    assert split_genres(["A|B", C.NO_GENRES, "", None, "Drama"]) == [
        ["A", "B"],
        [],
        [],
        [],
        ["Drama"],
    ]


# --- ml-100k -----------------------------------------------------------------------------------


def test_ml100k_release() -> None:
    folder = FIXTURES / "ml-100k"
    data = read_release("ml-100k", FIXTURES)
    assert isinstance(data, MovieLensData)
    assert data.name == "ml-100k" and data.path == folder
    assert data.rating_scale == (1.0, 5.0)
    _assert_ratings(data.ratings, [ln.split("\t") for ln in _lines(folder / "u.data", "latin-1")])

    movies = data.movies
    _assert_movies_schema(movies)
    raw_items = [ln.split("|") for ln in _lines(folder / "u.item", "latin-1")]
    assert movies[C.ITEM].tolist() == [int(p[0]) for p in raw_items]
    assert movies[C.TITLE].tolist() == [p[1] for p in raw_items]
    by_id = movies.set_index(C.ITEM)
    # Latin-1 bytes decoded, not mangled: the file holds 0xE9 for "é".
    assert b"Caf\xe9 au Lait" in (folder / "u.item").read_bytes()
    assert by_id.loc[1680, C.TITLE] == "Café au Lait (1994)"
    assert by_id.loc[1680, C.YEAR] == 1994
    assert by_id.loc[267, C.TITLE] == "unknown"
    assert pd.isna(by_id.loc[267, C.YEAR])
    assert by_id.loc[267, C.GENRES] == ["unknown"]
    assert pd.isna(by_id.loc[1358, C.YEAR])  # a title without a year
    for parts in raw_items:  # genres from the 19 flags, by position
        expected = [g for g, f in zip(ML100K_GENRES, parts[5:], strict=True) if f == "1"]
        assert by_id.loc[int(parts[0]), C.GENRES] == expected
    assert by_id.loc[1, C.GENRES] == ["Animation", "Children's", "Comedy"]

    users = data.users
    assert list(users.columns) == [C.USER, C.GENDER, C.AGE, C.OCCUPATION, C.ZIP_CODE]
    raw_users = [ln.split("|") for ln in _lines(folder / "u.user", "latin-1")]
    assert users[C.USER].tolist() == [int(p[0]) for p in raw_users]
    assert users[C.AGE].tolist() == [int(p[1]) for p in raw_users]
    assert users[C.ZIP_CODE].tolist() == [
        p[4] for p in raw_users
    ]  # "00000" and "T8H1N" kept as text
    assert data.tags is None and data.links is None


def test_ml100k_genre_names_come_from_u_genre(tmp_path: Path) -> None:
    assert read_u_genre(FIXTURES / "ml-100k" / "u.genre") == list(ML100K_GENRES)
    renamed = [f"g{i}" for i in range(19)]
    movies = read_u_item(FIXTURES / "ml-100k" / "u.item", genres=renamed)
    assert movies.set_index(C.ITEM).loc[267, C.GENRES] == ["g0"]


# --- ml-1m ---------------------------------------------------------------------------------------


def test_ml1m_release() -> None:
    folder = FIXTURES / "ml-1m"
    data = read_release("ml-1m", FIXTURES)
    assert data.rating_scale == (1.0, 5.0)
    _assert_ratings(
        data.ratings, [ln.split("::") for ln in _lines(folder / "ratings.dat", "ascii")]
    )
    movies = data.movies
    _assert_movies_schema(movies)
    raw = [ln.split("::") for ln in _lines(folder / "movies.dat", "latin-1")]
    assert movies[C.TITLE].tolist() == [p[1] for p in raw]
    assert movies[C.GENRES].tolist() == [p[2].split("|") for p in raw]
    by_id = movies.set_index(C.ITEM)
    assert b"Cit\xe9 des enfants" in (folder / "movies.dat").read_bytes()
    assert (
        by_id.loc[29, C.TITLE] == "City of Lost Children, The (Cité des enfants perdus, La) (1995)"
    )
    assert by_id.loc[29, C.YEAR] == 1995
    users = data.users.set_index(C.USER)
    assert users.loc[1, C.GENDER] == "F"
    assert users.loc[1, C.AGE] == 1  # the README's "Under 18" age group
    assert users.loc[1, C.OCCUPATION] == "K-12 student"  # code 10 in the README's list
    assert users.loc[2, C.OCCUPATION] == "self-employed"  # code 16
    assert users.loc[3, C.ZIP_CODE] == "55117"


# --- ml-10m --------------------------------------------------------------------------------------


def test_ml10m_release() -> None:
    folder = FIXTURES / "ml-10M100K"
    data = read_release("ml-10m", FIXTURES)
    assert data.path == folder
    rows = [ln.split("::") for ln in _lines(folder / "ratings.dat", "ascii")]
    _assert_ratings(data.ratings, rows)
    assert 4.5 in data.ratings[C.RATING].tolist()  # half stars
    movies = data.movies
    _assert_movies_schema(movies)
    by_id = movies.set_index(C.ITEM)
    assert by_id.loc[8606, C.GENRES] == []  # "(no genres listed)"
    assert by_id.loc[25801, C.TITLE] == "Thé au harem d'Archimède, Le (1985)"  # UTF-8 here
    assert by_id.loc[7789, C.TITLE] == "11'09\"01 - September 11 (2002)"  # quotes are plain text
    assert pd.isna(by_id.loc[40697, C.YEAR])
    tags = data.tags
    raw = [ln.split("::") for ln in _lines(folder / "tags.dat", "utf-8")]
    assert tags[C.TAG].tolist() == [p[2] for p in raw]
    assert tags[C.TIMESTAMP].tolist() == [int(p[3]) for p in raw]
    assert str(tags[C.USER].dtype) == "int32" and str(tags[C.TIMESTAMP].dtype) == "int64"


# --- CSV releases --------------------------------------------------------------------------------


def test_csv_release() -> None:
    folder = FIXTURES / "ml-20m"
    data = read_release("ml-20m", FIXTURES)
    assert data.rating_scale == (0.5, 5.0)
    with open(folder / "ratings.csv", newline="") as f:
        _assert_ratings(data.ratings, list(csv.reader(f))[1:])

    movies = data.movies
    _assert_movies_schema(movies)
    with open(folder / "movies.csv", encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    assert movies[C.TITLE].tolist() == [r["title"] for r in raw]  # exactly as in the file
    by_id = movies.set_index(C.ITEM)
    assert by_id.loc[11, C.TITLE] == "American President, The (1995)"  # quoted, with a comma
    assert by_id.loc[5069, C.TITLE] == "11'09\"01 - September 11 (2002)"  # doubled quote
    assert by_id.loc[91199, C.TITLE] == "Weekend (2011) "  # trailing space kept ...
    assert by_id.loc[91199, C.YEAR] == 2011  # ... and the year still found
    assert by_id.loc[115969, C.YEAR] == 1975
    assert by_id.loc[131004, C.YEAR] == 2006
    assert by_id.loc[131004, C.GENRES] == []
    assert pd.isna(by_id.loc[40697, C.YEAR])

    with open(folder / "tags.csv", encoding="utf-8", newline="") as f:
        raw_tags = list(csv.DictReader(f))
    assert data.tags[C.TAG].tolist() == [r["tag"] for r in raw_tags]
    assert 'dark, "gritty" hero' in data.tags[C.TAG].tolist()

    links = data.links
    with open(folder / "links.csv", newline="") as f:
        raw_links = list(csv.DictReader(f))
    assert links[C.IMDB_ID].tolist() == [r["imdbId"] for r in raw_links]  # zero padding kept
    assert links[C.IMDB_TCONST].tolist() == ["tt" + r["imdbId"] for r in raw_links]
    assert str(links[C.TMDB_ID].dtype) == "Int64"
    assert [None if pd.isna(v) else int(v) for v in links[C.TMDB_ID]] == [
        int(r["tmdbId"]) if r["tmdbId"] else None for r in raw_links
    ]


def test_incomplete_release_folder_names_the_missing_files(tmp_path: Path) -> None:
    folder = tmp_path / "ml-20m"
    folder.mkdir()
    for name in ("ratings.csv", "movies.csv"):
        shutil.copy(FIXTURES / "ml-20m" / name, folder / name)
    with pytest.raises(DataNotFoundError, match=r"tags\.csv"):
        read_release_folder(folder, get_release("ml-20m"))


def test_missing_release_names_folder_and_files(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError) as info:
        read_release("ml-1m", tmp_path)
    message = str(info.value)
    assert "ml-1m" in message and "ratings.dat" in message
    assert "\n" not in message


# --- the real ml-latest-small ----------------------------------------------------------------------


@pytest.mark.realdata
def test_real_ratings_match_an_independent_read(real_data_dir: Path) -> None:
    path = real_data_dir / "ml-latest-small" / "ratings.csv"
    ours = read_ratings_csv(path, scale=(0.5, 5.0))
    theirs = pd.read_csv(path)
    assert len(ours) == len(theirs) == 100_836
    for col in C.RATINGS_COLUMNS:
        np.testing.assert_array_equal(
            ours[col].to_numpy(), theirs[col].to_numpy().astype(ours[col].dtype)
        )


@pytest.mark.realdata
def test_real_release_metadata(real_data_dir: Path) -> None:
    data = read_release("ml-latest-small", real_data_dir)
    folder = real_data_dir / "ml-latest-small"
    with open(folder / "movies.csv", encoding="utf-8", newline="") as f:
        raw_movies = list(csv.DictReader(f))
    assert data.movies[C.TITLE].tolist() == [r["title"] for r in raw_movies]
    no_genres = sum(r["genres"] == C.NO_GENRES for r in raw_movies)
    assert sum(g == [] for g in data.movies[C.GENRES]) == no_genres > 0
    with open(folder / "links.csv", newline="") as f:
        raw_links = list(csv.DictReader(f))
    assert data.links[C.IMDB_ID].tolist() == [r["imdbId"] for r in raw_links]
    assert data.links[C.TMDB_ID].isna().sum() == sum(r["tmdbId"] == "" for r in raw_links)
    with open(folder / "tags.csv", encoding="utf-8", newline="") as f:
        assert data.tags[C.TAG].tolist() == [r["tag"] for r in csv.DictReader(f)]


@pytest.mark.realdata
def test_real_ratings_parse_well_under_a_second(real_data_dir: Path) -> None:
    path = real_data_dir / "ml-latest-small" / "ratings.csv"
    read_ratings_csv(path)  # warm the file cache and imports
    best = min(_timed(lambda: read_ratings_csv(path, scale=(0.5, 5.0))) for _ in range(3))
    assert best < 0.25, f"ratings.csv took {best:.3f} s"


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
