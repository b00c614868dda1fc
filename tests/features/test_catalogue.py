"""Catalogue features: genres, year and decade from MovieLens, and the IMDb columns and buckets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.features import item_features


def test_genres_year_decade_from_the_catalogue(ds: Dataset, movies: pd.DataFrame) -> None:
    f = item_features(ds)
    genres = sorted({g for gs in movies[C.GENRES] for g in gs})
    assert [c for c in f.columns if c.startswith("genre_")] == [
        "genre_action", "genre_adventure", "genre_animation", "genre_crime", "genre_drama",
        "genre_sci_fi",
    ]  # fmt: skip
    for movie_id, gs in zip(movies[C.ITEM], movies[C.GENRES], strict=True):
        row = f.loc[ds.item_index([movie_id])[0]]
        for g in genres:
            assert row[f"genre_{g.lower().replace('-', '_')}"] == (g in gs)
    assert f["year"].tolist()[:3] == [1995, 1995, 1939] and np.isnan(f["year"].iloc[3])
    assert f["decade"].tolist()[:3] == [1990, 1990, 1930] and np.isnan(f["decade"].iloc[3])
    assert f.loc[4, "decade"] == 2010


def test_imdb_columns_and_buckets(ds: Dataset) -> None:
    imdb = pd.DataFrame(
        {
            C.ITEM: [1, 2, 3, 5],
            C.IMDB_RUNTIME: pd.array([81, None, 130, 95], dtype="Int32"),
            C.IMDB_RATING: [8.3, 10.0, np.nan, 1.2],
            C.IMDB_VOTES: pd.array([1_100_000, 9, None, 45], dtype="Int64"),
        }
    )
    f = item_features(ds, imdb=imdb)
    assert f["imdb_runtime"].tolist()[0] == 81 and np.isnan(f.loc[1, "imdb_runtime"])
    assert f.loc[0, "imdb_rating_bucket"] == 8 and f.loc[1, "imdb_rating_bucket"] == 9
    assert f.loc[4, "imdb_rating_bucket"] == 1 and np.isnan(f.loc[2, "imdb_rating_bucket"])
    assert f["imdb_votes_bucket"].tolist()[:2] == [6, 0] and f.loc[4, "imdb_votes_bucket"] == 1
    assert f.loc[0, "imdb_log_votes"] == pytest.approx(np.log10(1_100_001))
    assert f.loc[3, ["imdb_runtime", "imdb_rating", "imdb_votes_bucket"]].isna().all()  # movie 4
