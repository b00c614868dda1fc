"""Column names of the canonical schema, used everywhere (files, frames, CLI, service, reports)."""

from __future__ import annotations

USER = "userId"
ITEM = "movieId"
RATING = "rating"
TIMESTAMP = "timestamp"

TITLE = "title"
YEAR = "year"
GENRES = "genres"

TAG = "tag"

IMDB_ID = "imdbId"  # zero-padded digits as in links.csv, e.g. "0114709"
IMDB_TCONST = "tconst"  # IMDb's own key, e.g. "tt0114709"
TMDB_ID = "tmdbId"

GENDER = "gender"
AGE = "age"
OCCUPATION = "occupation"
ZIP_CODE = "zipCode"

RANK = "rank"
SCORE = "score"
PREDICTION = "prediction"
FALLBACK = "fallback"  # True where a row came from the popularity fallback (unknown user)

RATINGS_COLUMNS = (USER, ITEM, RATING, TIMESTAMP)

#: MovieLens' marker for a movie without genres; read as an empty genre list.
NO_GENRES = "(no genres listed)"
