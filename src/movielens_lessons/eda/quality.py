"""The data-quality section: duplicates, awkward titles, ids that do not join, the imdbId padding pitfall."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.eda.section import Section


def _missing_from(ids: np.ndarray, known: np.ndarray) -> int:
    """How many distinct ``ids`` are not among ``known``."""
    return int((~np.isin(np.unique(ids), known)).sum())


def quality(data: MovieLensData) -> Section:
    """Checks whose results are counts (0 = clean); ``data["checks"]`` is a table of them."""
    r = data.ratings
    pairs = r[C.USER].to_numpy(np.int64) << 32 | r[C.ITEM].to_numpy(np.int64)
    rows: list[tuple[str, str, int | None, str]] = []
    numbers: dict[str, Any] = {"duplicate_pairs": int(len(pairs) - len(np.unique(pairs)))}
    rows.append(
        (
            "ratings",
            "duplicate (user, movie) rows",
            numbers["duplicate_pairs"],
            "Dataset keeps the latest rating of a pair",
        )
    )
    movies = data.movies
    if movies is not None:
        titles = movies[C.TITLE].astype("string")
        numbers["several_parentheses"] = int((titles.str.count(r"\(") >= 2).sum())
        numbers["no_year"] = int(movies[C.YEAR].isna().sum())
        numbers["duplicate_titles"] = int(titles.duplicated(keep=False).sum())
        numbers["trailing_space_titles"] = int((titles != titles.str.rstrip()).sum())
        known = movies[C.ITEM].to_numpy()
        numbers["rated_not_in_movies"] = _missing_from(r[C.ITEM].to_numpy(), known)
        rows += [
            (
                "movies",
                "titles with several '(...)' groups",
                numbers["several_parentheses"],
                "alternative titles: take the year from the last group only",
            ),
            ("movies", "titles without a release year", numbers["no_year"], "year is missing (NA)"),
            (
                "movies",
                "titles shared by several movieIds",
                numbers["duplicate_titles"],
                "join on movieId, never on title",
            ),
            (
                "movies",
                "titles with trailing spaces",
                numbers["trailing_space_titles"],
                "strip before matching text",
            ),
            (
                "ratings",
                "rated movieIds missing from the movies file",
                numbers["rated_not_in_movies"],
                "no title or genres for them",
            ),
        ]
    if data.tags is not None and len(data.tags):
        raters = np.unique(r[C.USER].to_numpy())
        numbers["tag_users_without_ratings"] = _missing_from(data.tags[C.USER].to_numpy(), raters)
        rows.append(
            (
                "tags",
                "tagging users with no ratings",
                numbers["tag_users_without_ratings"],
                "tags and ratings are separate samples",
            )
        )
        if movies is not None:
            numbers["tagged_not_in_movies"] = _missing_from(
                data.tags[C.ITEM].to_numpy(), movies[C.ITEM].to_numpy()
            )
            rows.append(
                (
                    "tags",
                    "tagged movieIds missing from the movies file",
                    numbers["tagged_not_in_movies"],
                    "",
                )
            )
    if data.links is not None and movies is not None:
        links = data.links
        numbers["movies_without_link"] = _missing_from(
            movies[C.ITEM].to_numpy(), links[C.ITEM].to_numpy()
        )
        numbers["movies_without_tmdb"] = int(links[C.TMDB_ID].isna().sum())
        imdb = links[C.IMDB_ID].astype("string")
        numbers["imdb_leading_zero"] = int(imdb.str.startswith("0").sum())
        numbers["imdb_leading_zero_share"] = float(imdb.str.startswith("0").mean())
        # What a naive reader gets: imdbId parsed as a number and glued to "tt" again.
        naive = "tt" + pd.to_numeric(imdb, errors="coerce").astype("Int64").astype("string")
        numbers["imdb_naive_mismatch"] = int((naive != links[C.IMDB_TCONST]).sum())
        numbers["imdb_id_lengths"] = imdb.str.len().value_counts().sort_index().to_dict()
        rows += [
            ("links", "movies without a links row", numbers["movies_without_link"], ""),
            ("links", "links without a TMDB id", numbers["movies_without_tmdb"], ""),
            (
                "links",
                "imdbIds with a leading zero",
                numbers["imdb_leading_zero"],
                "read imdbId as text: as a number 'tt' + id stops matching IMDb's tconst",
            ),
        ]
    table = pd.DataFrame(rows, columns=["file", "check", "count", "what to do"])
    return Section("quality", "Data quality", numbers=numbers, data={"checks": table})
