"""The movies a service describes and searches: title, year and genres by ``movieId``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons import columns as C


class Catalogue:
    """``movies``: ``movieId, title[, year][, genres]`` (genres as lists of str), as
    :func:`~movielens_lessons.data.readers.read_movies_csv` returns them."""

    def __init__(self, movies: pd.DataFrame) -> None:
        by_id = movies.drop_duplicates(C.ITEM).set_index(C.ITEM, drop=False)
        self._ids = by_id.index.to_numpy()
        self._folded = by_id[C.TITLE].fillna("").astype(str).str.casefold().to_numpy(str)
        # described once: a pandas row lookup costs ~0.5 ms, and a response describes 20 movies
        records = by_id.to_dict("records")
        self._described = {
            int(i): _describe(row) for i, row in zip(self._ids, records, strict=True)
        }

    @classmethod
    def from_csv(cls, path: str | Path) -> Catalogue:
        """A ``movies.csv`` in MovieLens' format (read and checked by the project's reader)."""
        from movielens_lessons.data.readers import read_movies_csv

        return cls(read_movies_csv(path))

    def __len__(self) -> int:
        return len(self._ids)

    def describe(self, movie_id: int) -> dict[str, Any]:
        """``title``, ``year`` and ``genres`` of ``movie_id`` (``None`` / ``[]`` when unknown)."""
        found = self._described.get(movie_id)
        if found is None:
            return {"title": None, "year": None, "genres": []}
        return {**found, "genres": list(found["genres"])}  # a copy: callers may change theirs

    def search(self, query: str, limit: int = 10) -> list[int]:
        """``movieId``s whose title contains every word of ``query`` (case-insensitive), best
        first: titles that start with the query, then those with a word that starts with it, then
        the rest; shorter titles first within each group."""
        words = query.casefold().split()
        if not words:
            return []
        hit = np.ones(len(self._folded), dtype=bool)
        for word in words:
            hit &= np.char.find(self._folded, word) >= 0
        phrase = " ".join(words)
        word_start = re.compile(r"\b" + re.escape(phrase))

        def rank(i: int) -> tuple[int, int, str]:
            title = str(self._folded[i])
            group = 0 if title.startswith(phrase) else 1 if word_start.search(title) else 2
            return group, len(title), title

        best = sorted(np.flatnonzero(hit).tolist(), key=rank)[:limit]
        return [int(self._ids[i]) for i in best]


def _describe(row: dict[str, Any]) -> dict[str, Any]:
    year = row.get(C.YEAR)
    genres = row.get(C.GENRES)
    return {
        "title": str(row[C.TITLE]),
        "year": None if year is None or pd.isna(year) else int(year),
        "genres": [str(g) for g in genres] if isinstance(genres, list | tuple | np.ndarray) else [],
    }


__all__ = ["Catalogue"]
