"""Reading IMDb titles from the dumps: literal quotes, one row per linked id, nulls for missing ones."""

from __future__ import annotations

from pathlib import Path

from movielens_lessons import columns as C
from movielens_lessons.data.imdb_dumps import BASICS_FILE
from movielens_lessons.data.imdb_titles import read_linked_titles

FIXTURES = Path(__file__).parent / "fixtures" / "imdb"
MISSING = "tt7654321"  # linked, in neither dump


def _rows(name: str) -> list[list[str]]:
    """An independent parse of a plain-text fixture: IMDb's format has no quoting, so split on TAB."""
    lines = (FIXTURES / name.removesuffix(".gz")).read_text("utf-8").splitlines()
    return [line.split("\t") for line in lines]


def _by_tconst(name: str) -> dict[str, dict[str, str | None]]:
    header, *body = _rows(name)
    return {
        r[0]: {h: (None if v == "\\N" else v) for h, v in zip(header, r, strict=True)} for r in body
    }


def test_quotes_are_read_literally_and_do_not_swallow_lines(imdb_dir: Path) -> None:
    expected = _by_tconst(BASICS_FILE)
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
