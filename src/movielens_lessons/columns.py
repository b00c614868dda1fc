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

# IMDb dumps (title.basics / title.ratings) and the enriched items table built from them.
IMDB_TITLE_TYPE = "titleType"  # "movie", "tvMovie", "short", "video", ...
IMDB_PRIMARY_TITLE = "primaryTitle"
IMDB_IS_ADULT = "isAdult"
IMDB_START_YEAR = "startYear"
IMDB_RUNTIME = "runtimeMinutes"
IMDB_GENRES = "imdbGenres"  # list of str; IMDb's own genre vocabulary
IMDB_RATING = "averageRating"  # IMDb's weighted mean, 1-10
IMDB_VOTES = "numVotes"
