"""The raw contents of one MovieLens release (or of a user's own ratings file), as read from disk."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class MovieLensData:
    """Frames in the canonical schema (see :mod:`movielens_lessons.columns`), before id mapping.

    ``ratings``: ``userId`` int32, ``movieId`` int32, ``rating`` float32, ``timestamp`` int64 (seconds,
    UTC); ``rating``/``timestamp`` may be absent for implicit data. ``movies``: ``movieId, title, year
    (Int16), genres (list of str)``. ``tags``: ``userId, movieId, tag, timestamp``. ``links``: ``movieId,
    imdbId (zero-padded str), tconst, tmdbId (Int64)``. ``users``: ``userId, gender, age, occupation,
    zipCode``. ``rating_scale`` is the release's ``(min, max)``; ``path`` the folder or file read.
    """

    name: str
    path: Path | None
    ratings: pd.DataFrame
    movies: pd.DataFrame | None = None
    tags: pd.DataFrame | None = None
    links: pd.DataFrame | None = None
    users: pd.DataFrame | None = None
    rating_scale: tuple[float, float] | None = None
