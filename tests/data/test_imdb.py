"""IMDb enrichment: reading the dumps (quotes, ``\\N``, filtering), the enriched table, the CLI."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.imdb import (
    enrich_items,
    imdb_join_report,
    read_enriched_items,
    write_enriched_items,
)
from movielens_lessons.data.imdb_dumps import BASICS_FILE, RATINGS_FILE
from movielens_lessons.errors import DataNotFoundError, DataQualityWarning

from .imdb_fixtures import FIXTURES, MISSING, by_tconst

UNLINKED = "tt1234567"  # in both dumps, linked by nobody


@pytest.fixture
def movies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.ITEM: pd.array([1, 2, 3, 4, 5, 6, 7, 8], dtype="int32"),
            C.TITLE: [f"Movie {i}" for i in range(1, 9)],
            C.YEAR: pd.array([1995, 1995, 1946, 1996, None, 2019, 2001, 1990], dtype="Int16"),
            C.GENRES: [["Comedy"], ["Adventure"], ["Drama"], [], ["Comedy"], ["Crime"], [], []],
        }
    )


@pytest.fixture
def links() -> pd.DataFrame:
    """Movie 8 has no link; movie 7 points to an id in neither dump."""
    imdb_ids = ["0114709", "0113497", "0038650", "0115963", "0120363", "12345678", "7654321"]
    return pd.DataFrame(
        {
            C.ITEM: pd.array([1, 2, 3, 4, 5, 6, 7], dtype="int32"),
            C.IMDB_ID: imdb_ids,
            C.IMDB_TCONST: ["tt" + i for i in imdb_ids],
        }
    )


# --- reading and joining ------------------------------------------------------------------------


def test_enrich_items_matches_an_independent_parse(
    imdb_dir: Path, movies: pd.DataFrame, links: pd.DataFrame
) -> None:
    out = enrich_items(movies, links, imdb_dir)
    assert out[C.ITEM].tolist() == movies[C.ITEM].tolist()  # one row per movie, in order
    assert list(out.columns[:4]) == list(movies.columns)
    basics, ratings = by_tconst(BASICS_FILE), by_tconst(RATINGS_FILE)
    for row in out.itertuples(index=False):
        b = basics.get(row.tconst) if isinstance(row.tconst, str) else None
        r = ratings.get(row.tconst) if isinstance(row.tconst, str) else None
        if b is None:
            assert pd.isna(row.titleType) and pd.isna(row.runtimeMinutes)
            assert row.imdbGenres is None
        else:
            assert row.titleType == b["titleType"]
            runtime = b["runtimeMinutes"]
            assert (
                pd.isna(row.runtimeMinutes)
                if runtime is None
                else row.runtimeMinutes == int(runtime)
            )
            year = b["startYear"]
            assert pd.isna(row.startYear) if year is None else row.startYear == int(year)
            genres = b["genres"]
            assert row.imdbGenres == ([] if genres is None else genres.split(","))
        if r is None:
            assert pd.isna(row.averageRating) and pd.isna(row.numVotes)
        else:
            assert row.averageRating == pytest.approx(float(r["averageRating"]))
            assert row.numVotes == int(r["numVotes"])


def test_nulls_unlinked_and_missing_titles(
    imdb_dir: Path, movies: pd.DataFrame, links: pd.DataFrame
) -> None:
    out = enrich_items(movies, links, imdb_dir).set_index(C.ITEM)
    assert UNLINKED not in set(out[C.IMDB_TCONST].dropna())
    video = out.loc[5]  # \N start year, runtime and genres
    assert video[C.IMDB_TITLE_TYPE] == "video"
    assert pd.isna(video[C.IMDB_RUNTIME]) and pd.isna(video[C.IMDB_START_YEAR])
    assert video[C.IMDB_GENRES] == []
    missing = out.loc[7]  # linked, but in neither dump
    assert missing[C.IMDB_TCONST] == MISSING
    assert missing[C.IMDB_GENRES] is None and pd.isna(missing[C.IMDB_TITLE_TYPE])
    assert pd.isna(out.loc[8, C.IMDB_TCONST])  # no link at all
    assert pd.isna(out.loc[2, C.IMDB_RATING]) and out.loc[2, C.IMDB_RUNTIME] == 104  # basics only
    assert set(out[C.IMDB_TITLE_TYPE].dropna()) == {"movie", "tvMovie", "video", "tvSeries"}
    assert str(out[C.IMDB_RUNTIME].dtype) == "Int32" and str(out[C.IMDB_VOTES].dtype) == "Int64"


def test_tconst_is_derived_from_unpadded_imdb_ids(imdb_dir: Path, movies: pd.DataFrame) -> None:
    links = pd.DataFrame({C.ITEM: [1, 3], C.IMDB_ID: ["114709", "38650"]})
    out = enrich_items(movies, links, imdb_dir).set_index(C.ITEM)
    assert out.loc[1, C.IMDB_TCONST] == "tt0114709" and out.loc[1, C.IMDB_RUNTIME] == 81
    assert out.loc[3, C.IMDB_PRIMARY_TITLE] == "It's a Wonderful Life"


def test_malformed_lines_are_skipped_with_a_warning(
    tmp_path: Path, gzip_dumps: Callable[..., Path], movies: pd.DataFrame, links: pd.DataFrame
) -> None:
    text = (FIXTURES / "title.ratings.tsv").read_text("utf-8") + "tt0000002\t5.6\n"
    folder = gzip_dumps(tmp_path / "imdb", {RATINGS_FILE: text})
    with pytest.warns(DataQualityWarning, match=r"skipped 1 malformed line.*line 9"):
        out = enrich_items(movies, links, folder)
    assert out.set_index(C.ITEM).loc[1, C.IMDB_VOTES] == 1_100_000


def test_missing_dumps_say_where_to_get_them(tmp_path: Path, movies, links) -> None:
    with pytest.raises(DataNotFoundError) as err:
        enrich_items(movies, links, tmp_path / "nowhere")
    message = str(err.value)
    assert "https://datasets.imdbws.com/title.basics.tsv.gz" in message
    assert "https://datasets.imdbws.com/title.ratings.tsv.gz" in message
    assert str(tmp_path / "nowhere") in message and "\n" not in message


def test_join_report_counts(imdb_dir: Path, movies: pd.DataFrame, links: pd.DataFrame) -> None:
    out = enrich_items(movies, links, imdb_dir)
    report = imdb_join_report(out)
    linked = set(links[C.IMDB_TCONST])
    in_basics = linked & set(by_tconst(BASICS_FILE))
    in_ratings = linked & set(by_tconst(RATINGS_FILE))
    assert report["movies"] == len(movies)
    assert report["linked_movies"] == len(linked)
    assert report["joined_basics"] == len(in_basics)
    assert report["joined_ratings"] == len(in_ratings)
    assert report["basics_share"] == pytest.approx(len(in_basics) / len(linked))
    assert report["ratings_share"] == pytest.approx(len(in_ratings) / len(linked))
    assert report["linked_share"] == pytest.approx(len(linked) / len(movies))
    assert sum(report["title_types"].values()) == len(in_basics)


def test_parquet_round_trip_is_atomic(
    tmp_path: Path, imdb_dir: Path, movies: pd.DataFrame, links: pd.DataFrame
) -> None:
    out = enrich_items(movies, links, imdb_dir)
    target = tmp_path / "out" / "items.parquet"
    target.parent.mkdir()
    target.write_text("an older file")  # replaced whole, never half-written
    write_enriched_items(out, target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["items.parquet"]
    schema = pq.read_schema(target)
    assert str(schema.field(C.IMDB_GENRES).type) in {"list<element: string>", "list<item: string>"}
    pd.testing.assert_frame_equal(read_enriched_items(target), out)


# --- the real release and the CLI ----------------------------------------------------------------


def _count_csv_rows(path: Path) -> int:
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


@pytest.mark.realdata
def test_real_release_links_through_the_fixtures(ml_small, imdb_dir: Path) -> None:
    out = enrich_items(ml_small.movies, ml_small.links, imdb_dir)
    assert out[C.ITEM].is_unique and len(out) == len(ml_small.movies)
    report = imdb_join_report(out)
    assert report["linked_movies"] == len(ml_small.links)
    # Toy Story, Jumanji, It's a Wonderful Life, ... are in the fixtures; the unlinked ids are not.
    found = set(out.loc[out[C.IMDB_TITLE_TYPE].notna(), C.IMDB_TCONST])
    assert {"tt0114709", "tt0113497", "tt0038650"} <= found and UNLINKED not in found


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "movielens_lessons", "data", "imdb", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.realdata
def test_cli_writes_the_enriched_table(real_data_dir: Path, imdb_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from movielens_lessons.cli import app

    out = tmp_path / "items.parquet"
    args = ["data", "imdb", "--dataset", "ml-latest-small", "--data-dir", str(real_data_dir)]
    result = CliRunner().invoke(app, [*args, "--imdb-dir", str(imdb_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith(str(out))
    frame = read_enriched_items(out)
    assert len(frame) == _count_csv_rows(real_data_dir / "ml-latest-small" / "movies.csv")


def test_cli_error_is_one_line(tmp_path: Path) -> None:
    result = _cli("--dataset", "ml-1m", "--out", str(tmp_path / "x.parquet"))
    assert result.returncode != 0
    assert (
        result.stderr.startswith("error: ml-1m has no links.csv") and result.stderr.count("\n") == 1
    )


@pytest.mark.realdata
def test_cli_missing_dumps_names_the_urls(real_data_dir: Path, tmp_path: Path) -> None:
    result = _cli(
        "--dataset", "ml-latest-small", "--data-dir", str(real_data_dir),
        "--imdb-dir", str(tmp_path / "imdb"), "--out", str(tmp_path / "x.parquet"),
    )  # fmt: skip
    assert result.returncode != 0 and result.stderr.count("\n") == 1
    assert "https://datasets.imdbws.com/title.basics.tsv.gz" in result.stderr
    assert not (tmp_path / "x.parquet").exists()
