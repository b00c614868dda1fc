"""The CSV releases (ml-20m, ml-25m, ml-32m, ml-latest, ml-latest-small).

UTF-8 files with a header line and RFC-4180 quoting: titles and tags that contain commas or quotes are
quoted, ``"American President, The (1995)"``, with inner quotes doubled. ``imdbId`` in ``links.csv`` is
read as text, because it is zero-padded (``0114709``) and reading it as a number would lose the padding.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers.line_scan import LineLocator
from movielens_lessons.data.readers.textfile import check_file, read_delimited, read_header
from movielens_lessons.data.readers.titles import movies_frame, split_genres
from movielens_lessons.data.readers.validate import validate_ratings
from movielens_lessons.data.releases import Release
from movielens_lessons.errors import EmptyDataError, MissingColumnError

RATINGS_TYPES = {
    C.USER: pa.int32(),
    C.ITEM: pa.int32(),
    C.RATING: pa.float32(),
    C.TIMESTAMP: pa.int64(),
}


def _read(path: str | Path, types: dict[str, pa.DataType], *, text: bool = False) -> pa.Table:
    """A headed CSV's columns ``types`` (all required), read with those types."""
    p = check_file(path)
    names = read_header(p)
    for col in types:
        if col not in names:
            raise MissingColumnError(
                f"missing column {col!r}; found columns {names}", path=p, column=col
            )
    # Free text (titles, tags) may in principle hold a quoted line break; numbers never do.
    return read_delimited(p, names=names, types=types, newlines_in_values=text)


def read_ratings_csv(path: str | Path, *, scale: tuple[float, float] | None = None) -> pd.DataFrame:
    """``ratings.csv`` → canonical ratings frame (``userId, movieId, rating, timestamp``), validated."""
    p = check_file(path)
    table = _read(p, RATINGS_TYPES)
    locate = LineLocator(p, delimiter=",", quoted=True, header=True)
    return validate_ratings(
        table.to_pandas(split_blocks=True), source=p, scale=scale, line_of=locate
    )


def read_movies_csv(path: str | Path) -> pd.DataFrame:
    """``movies.csv`` → ``movieId, title, year, genres`` (genres as lists of str)."""
    p = Path(path)
    table = _read(p, {C.ITEM: pa.int32(), C.TITLE: pa.string(), C.GENRES: pa.string()}, text=True)
    if table.num_rows == 0:
        raise EmptyDataError("no data rows", path=p)
    return movies_frame(
        table[C.ITEM].to_numpy(),
        table[C.TITLE].to_pylist(),
        split_genres(table[C.GENRES].to_pylist()),
    )


def read_tags_csv(path: str | Path) -> pd.DataFrame:
    """``tags.csv`` → ``userId, movieId, tag, timestamp`` (a release may have no tag rows)."""
    types = {C.USER: pa.int32(), C.ITEM: pa.int32(), C.TAG: pa.string(), C.TIMESTAMP: pa.int64()}
    table = _read(path, types, text=True)
    return _frame(table, types)


def read_links_csv(path: str | Path) -> pd.DataFrame:
    """``links.csv`` → ``movieId`` int32, ``imdbId`` zero-padded str, ``tconst`` ``"tt…"``, ``tmdbId`` Int64."""
    table = _read(path, {C.ITEM: pa.int32(), C.IMDB_ID: pa.string(), C.TMDB_ID: pa.int64()})
    df = table.to_pandas()
    imdb = df[C.IMDB_ID].astype("str")
    return pd.DataFrame(
        {
            C.ITEM: df[C.ITEM].to_numpy("int32"),
            C.IMDB_ID: imdb,
            C.IMDB_TCONST: "tt" + imdb,
            # Some movies have no TMDB id: nullable, and exact (float64 holds these ids exactly).
            C.TMDB_ID: df[C.TMDB_ID].astype("Int64"),
        }
    )


def _frame(table: pa.Table, types: dict[str, pa.DataType]) -> pd.DataFrame:
    df = table.to_pandas()
    for col, kind in types.items():
        if pa.types.is_integer(kind) and df[col].hasnans:
            df[col] = df[col].astype(pd.Int64Dtype() if kind == pa.int64() else pd.Int32Dtype())
    return df


def read_csv_release(folder: Path, release: Release) -> MovieLensData:
    """Every file of a CSV release in ``folder``; ``tags.csv``/``links.csv`` are read when present."""
    tags = folder / "tags.csv"
    links = folder / "links.csv"
    return MovieLensData(
        name=release.name,
        path=folder,
        ratings=read_ratings_csv(folder / "ratings.csv", scale=release.rating_scale),
        movies=read_movies_csv(folder / "movies.csv"),
        tags=read_tags_csv(tags) if tags.is_file() else None,
        links=read_links_csv(links) if links.is_file() else None,
        rating_scale=release.rating_scale,
    )
