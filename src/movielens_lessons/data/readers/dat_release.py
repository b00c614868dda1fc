"""The ``::``-separated releases: ml-1m (Latin-1) and ml-10m (folder ``ml-10M100K``, UTF-8).

No header, no quoting. ``ratings.dat`` is ``UserID::MovieID::Rating::Timestamp``; ``movies.dat``
``MovieID::Title::Genres`` (genres ``|``-separated); ``users.dat`` (ml-1m)
``UserID::Gender::Age::Occupation::Zip-code``; ``tags.dat`` (ml-10m) ``UserID::MovieID::Tag::Timestamp``.
Ratings go through the fast pyarrow path; the small text files are split line by line, taking the first
and last fields by position so that a title or tag is whatever lies between them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers.csv_release import RATINGS_TYPES
from movielens_lessons.data.readers.line_scan import LineLocator
from movielens_lessons.data.readers.textfile import (
    check_file,
    field_int,
    read_delimited,
    text_lines,
)
from movielens_lessons.data.readers.titles import movies_frame, split_genres
from movielens_lessons.data.readers.validate import validate_ratings
from movielens_lessons.data.releases import Release
from movielens_lessons.errors import DataValidationError, EmptyDataError

SEP = "::"

#: ml-1m ``users.dat`` occupation codes, as listed in its README.
ML1M_OCCUPATIONS = (
    "other",
    "academic/educator",
    "artist",
    "clerical/admin",
    "college/grad student",
    "customer service",
    "doctor/health care",
    "executive/managerial",
    "farmer",
    "homemaker",
    "K-12 student",
    "lawyer",
    "programmer",
    "retired",
    "sales/marketing",
    "scientist",
    "self-employed",
    "technician/engineer",
    "tradesman/craftsman",
    "unemployed",
    "writer",
)


def read_ratings_dat(path: str | Path, *, scale: tuple[float, float] | None = None) -> pd.DataFrame:
    """``ratings.dat`` → canonical ratings frame, validated against ``scale``."""
    p = check_file(path)
    table = read_delimited(
        p,
        names=list(C.RATINGS_COLUMNS),
        types=RATINGS_TYPES,
        delimiter=SEP,
        quoted=False,
        header=False,
    )
    locate = LineLocator(p, delimiter=SEP, quoted=False, header=False)
    return validate_ratings(
        table.to_pandas(split_blocks=True), source=p, scale=scale, line_of=locate
    )


def _fields(path: Path, line: int, text: str, at_least: int, layout: str) -> list[str]:
    parts = text.split(SEP)
    if len(parts) < at_least:
        raise DataValidationError(
            f"expected {layout}, found {len(parts)} fields", path=path, line=line, value=text
        )
    return parts


def read_movies_dat(path: str | Path, *, encoding: str = "utf-8") -> pd.DataFrame:
    """``movies.dat`` → ``movieId, title, year, genres``."""
    p = check_file(path)
    ids, titles, genres = [], [], []
    for line, text in text_lines(p, encoding):
        parts = _fields(p, line, text, 3, "MovieID::Title::Genres")
        ids.append(field_int(parts[0], p, line, C.ITEM))
        titles.append(SEP.join(parts[1:-1]))
        genres.append(parts[-1])
    if not ids:
        raise EmptyDataError("no data rows", path=p)
    return movies_frame(ids, titles, split_genres(genres))


def read_tags_dat(path: str | Path, *, encoding: str = "utf-8") -> pd.DataFrame:
    """``tags.dat`` → ``userId, movieId, tag, timestamp``."""
    p = check_file(path)
    users, items, tags, stamps = [], [], [], []
    for line, text in text_lines(p, encoding):
        parts = _fields(p, line, text, 4, "UserID::MovieID::Tag::Timestamp")
        users.append(field_int(parts[0], p, line, C.USER))
        items.append(field_int(parts[1], p, line, C.ITEM))
        tags.append(SEP.join(parts[2:-1]))
        stamps.append(field_int(parts[-1], p, line, C.TIMESTAMP))
    return pd.DataFrame(
        {
            C.USER: np.asarray(users, dtype=np.int32),
            C.ITEM: np.asarray(items, dtype=np.int32),
            C.TAG: pd.Series(tags, dtype="str"),
            C.TIMESTAMP: np.asarray(stamps, dtype=np.int64),
        }
    )


def read_users_dat(path: str | Path, *, encoding: str = "latin-1") -> pd.DataFrame:
    """ml-1m ``users.dat`` → ``userId, gender, age, occupation, zipCode``.

    ``age`` is the lower bound of the README's age group (1 = under 18, 18 = 18-24, ..., 56 = 56+);
    ``occupation`` the README's name for the numeric code.
    """
    p = check_file(path)
    rows = []
    for line, text in text_lines(p, encoding):
        parts = _fields(p, line, text, 5, "UserID::Gender::Age::Occupation::Zip-code")
        code = field_int(parts[3], p, line, C.OCCUPATION)
        if not 0 <= code < len(ML1M_OCCUPATIONS):
            raise DataValidationError(
                f"occupation code {code} is not one of 0..{len(ML1M_OCCUPATIONS) - 1}",
                path=p,
                line=line,
                column=C.OCCUPATION,
                value=code,
            )
        rows.append(
            (
                field_int(parts[0], p, line, C.USER),
                parts[1],
                field_int(parts[2], p, line, C.AGE),
                ML1M_OCCUPATIONS[code],
                parts[4],
            )
        )
    return users_frame(rows)


def users_frame(rows: list[tuple[int, str, int, str, str]]) -> pd.DataFrame:
    """The canonical users frame from ``(userId, gender, age, occupation, zipCode)`` tuples."""
    users, gender, age, occupation, zipcode = zip(*rows, strict=True) if rows else ((),) * 5
    return pd.DataFrame(
        {
            C.USER: np.asarray(users, dtype=np.int32),
            C.GENDER: pd.Series(gender, dtype="str"),
            C.AGE: np.asarray(age, dtype=np.int16),
            C.OCCUPATION: pd.Series(occupation, dtype="str"),
            C.ZIP_CODE: pd.Series(zipcode, dtype="str"),  # text: some are "T8H1N" or "98107-2117"
        }
    )


def read_dat_release(folder: Path, release: Release) -> MovieLensData:
    """ml-1m or ml-10m from ``folder``; ``users.dat`` / ``tags.dat`` are read when present."""
    users = folder / "users.dat"
    tags = folder / "tags.dat"
    return MovieLensData(
        name=release.name,
        path=folder,
        ratings=read_ratings_dat(folder / "ratings.dat", scale=release.rating_scale),
        movies=read_movies_dat(folder / "movies.dat", encoding=release.encoding),
        tags=read_tags_dat(tags, encoding=release.encoding) if tags.is_file() else None,
        users=read_users_dat(users, encoding=release.encoding) if users.is_file() else None,
        rating_scale=release.rating_scale,
    )
