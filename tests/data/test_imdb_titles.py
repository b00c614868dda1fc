"""Reading IMDb titles from the dumps: literal quotes, one row per linked id, nulls for missing ones."""

from __future__ import annotations

from pathlib import Path

from movielens_lessons import columns as C
from movielens_lessons.data.imdb_dumps import BASICS_FILE
from movielens_lessons.data.imdb_titles import read_linked_titles

from .imdb_fixtures import MISSING, by_tconst


def test_quotes_are_read_literally_and_do_not_swallow_lines(imdb_dir: Path) -> None:
    expected = by_tconst(BASICS_FILE)
    linked = list(expected)  # every id in the file
    titles = read_linked_titles(imdb_dir, linked).set_index(C.IMDB_TCONST)
    assert len(titles) == len(expected)
    for tconst, row in expected.items():
        assert titles.loc[tconst, C.IMDB_PRIMARY_TITLE] == row["primaryTitle"], tconst
    assert titles.loc["tt0115963", C.IMDB_PRIMARY_TITLE].startswith('"Weird Al"')
    # The unclosed quote of tt0120363 must not join the following lines into one field.
    assert titles.loc["tt12345678", C.IMDB_TITLE_TYPE] == "tvSeries"


def test_unlinked_ids_are_filtered_out(imdb_dir: Path) -> None:
    titles = read_linked_titles(imdb_dir, ["tt0114709", MISSING, "tt0114709"])
    assert sorted(titles[C.IMDB_TCONST]) == ["tt0114709", MISSING]
