"""The hand-made catalogue, ratings and tags of the item and catalogue feature tests.

``test_users.py`` builds its own ``movies`` and ``ds``, which override these there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset


@pytest.fixture
def movies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.ITEM: np.array([1, 2, 3, 4, 5], dtype=np.int32),
            C.TITLE: ["Toy Story (1995)", "Heat (1995)", "Old (1939)", "No Year", "Late (2010)"],
            C.YEAR: pd.array([1995, 1995, 1939, None, 2010], dtype="Int16"),
            C.GENRES: [
                ["Adventure", "Animation"],
                ["Action", "Crime"],
                ["Drama"],
                [],
                ["Sci-Fi", "Action"],
            ],
        }
    )


@pytest.fixture
def ratings() -> pd.DataFrame:
    """Movie 5 is only rated after the cutoff (``CUTOFF`` = 300 s in test_items.py); movie 4 never."""
    rows = [(1, 1, 4.0, 100), (1, 2, 3.0, 200), (2, 1, 5.0, 150), (2, 3, 2.0, 300),
            (3, 2, 4.0, 120), (3, 5, 5.0, 900), (1, 5, 1.0, 1000), (2, 2, 0.5, 1100)]  # fmt: skip
    return pd.DataFrame(rows, columns=list(C.RATINGS_COLUMNS)).astype(
        {C.USER: "int32", C.ITEM: "int32", C.RATING: "float32", C.TIMESTAMP: "int64"}
    )


@pytest.fixture
def tags() -> pd.DataFrame:
    """'Pixar'/'pixar ' and 'Sci-Fi'/'sci fi' are one tag each; movie 99 is not in the id map."""
    rows = [(1, 1, "Pixar", 110), (2, 1, "pixar ", 160), (3, 2, "Sci-Fi", 130), (1, 3, "sci fi", 140),
            (2, 2, "heist", 170), (1, 99, "classic", 50), (2, 3, "classic", 60),
            (3, 5, "future", 950), (3, 4, "future", 960), (1, 4, "heist", 970)]  # fmt: skip
    return pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.TAG, C.TIMESTAMP])


@pytest.fixture
def ds(ratings: pd.DataFrame, movies: pd.DataFrame, tags: pd.DataFrame) -> Dataset:
    return Dataset.from_frame(ratings, movies=movies, tags=tags, item_ids=movies[C.ITEM].to_numpy())
