"""ml-100k: ``u.data`` (TAB-separated ratings), ``u.item`` (movies), ``u.user`` (demographics).

All Latin-1, no header. ``u.item`` is ``|``-separated: ``movie id | movie title | release date | video
release date | IMDb URL`` then 19 genre flags (0/1) in the order of ``u.genre``. Movie 267 is the
placeholder ``unknown`` with no date and only the ``unknown`` genre. ``u.user`` is
``user id | age | gender | occupation | zip code``. The same reader serves the split files
(``u1.base``, ``ua.test``, ...), which share ``u.data``'s layout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers.csv_release import RATINGS_TYPES
from movielens_lessons.data.readers.dat_release import users_frame
from movielens_lessons.data.readers.line_scan import LineLocator
from movielens_lessons.data.readers.textfile import (
    check_file,
    field_int,
    read_delimited,
    text_lines,
)
from movielens_lessons.data.readers.titles import movies_frame
from movielens_lessons.data.readers.validate import validate_ratings
from movielens_lessons.data.releases import Release
from movielens_lessons.errors import DataValidationError, EmptyDataError

#: The 19 genres of ``u.item``'s flags, in order (as in ``u.genre``, used when that file is absent).
ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
ENCODING = "latin-1"
_ITEM_FIELDS = 5  # id, title, release date, video release date, IMDb URL; then the genre flags


def read_u_data(
    path: str | Path, *, scale: tuple[float, float] | None = (1.0, 5.0)
) -> pd.DataFrame:
    """``u.data`` (or ``u1.base``, ...) → canonical ratings frame, validated against ``scale``."""
    p = check_file(path)
    table = read_delimited(
        p,
        names=list(C.RATINGS_COLUMNS),
        types=RATINGS_TYPES,
        delimiter="\t",
        quoted=False,
        header=False,
        encoding=ENCODING,
    )
    locate = LineLocator(p, delimiter="\t", quoted=False, header=False, encoding=ENCODING)
    return validate_ratings(
        table.to_pandas(split_blocks=True), source=p, scale=scale, line_of=locate
    )


def read_u_genre(path: str | Path) -> list[str]:
    """``u.genre`` (``name|index`` lines) → genre names ordered by index."""
    p = check_file(path)
    pairs = []
    for line, text in text_lines(p, ENCODING):
        name, _, index = text.rpartition("|")
        if not name or not index.strip().isdigit():
            raise DataValidationError("expected 'genre|index'", path=p, line=line, value=text)
        pairs.append((int(index), name))
    return [name for _, name in sorted(pairs)]


def read_u_item(
    path: str | Path, *, genres: list[str] | tuple[str, ...] = ML100K_GENRES
) -> pd.DataFrame:
    """``u.item`` → ``movieId, title, year, genres``; genre names from ``genres`` by flag position."""
    p = check_file(path)
    width = _ITEM_FIELDS + len(genres)
    ids, titles, genre_lists = [], [], []
    for line, text in text_lines(p, ENCODING):
        parts = text.split("|")
        if len(parts) != width:
            raise DataValidationError(
                f"expected {width} '|'-separated fields (5 + {len(genres)} genre flags), "
                f"found {len(parts)}",
                path=p,
                line=line,
                value=text,
            )
        ids.append(field_int(parts[0], p, line, C.ITEM))
        flags = parts[_ITEM_FIELDS:]
        bad = [f for f in flags if f not in ("0", "1")]
        if bad:
            raise DataValidationError(
                f"genre flag {bad[0]!r} is not 0 or 1",
                path=p,
                line=line,
                column=C.GENRES,
                value=bad[0],
            )
        titles.append(parts[1])
        genre_lists.append([g for g, f in zip(genres, flags, strict=True) if f == "1"])
    if not ids:
        raise EmptyDataError("no data rows", path=p)
    return movies_frame(ids, titles, genre_lists)


def read_u_user(path: str | Path) -> pd.DataFrame:
    """``u.user`` → ``userId, gender, age, occupation, zipCode`` (age in years)."""
    p = check_file(path)
    rows = []
    for line, text in text_lines(p, ENCODING):
        parts = text.split("|")
        if len(parts) != 5:
            raise DataValidationError(
                f"expected 'user id|age|gender|occupation|zip code', found {len(parts)} fields",
                path=p,
                line=line,
                value=text,
            )
        try:
            user, age = int(parts[0]), int(parts[1])
        except ValueError:
            raise DataValidationError(
                "user id and age must be integers", path=p, line=line, value=text
            ) from None
        rows.append((user, parts[2], age, parts[3], parts[4]))
    return users_frame(rows)


def read_ml100k(folder: Path, release: Release) -> MovieLensData:
    """ml-100k from ``folder``; genre names come from ``u.genre`` when it is there."""
    genre_file = folder / "u.genre"
    genres = read_u_genre(genre_file) if genre_file.is_file() else ML100K_GENRES
    return MovieLensData(
        name=release.name,
        path=folder,
        ratings=read_u_data(folder / "u.data", scale=release.rating_scale),
        movies=read_u_item(folder / "u.item", genres=genres),
        users=read_u_user(folder / "u.user"),
        rating_scale=release.rating_scale,
    )
