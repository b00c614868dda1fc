"""The CSR views of a Dataset: explicit ratings and the implicit weightings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset


def test_views_match_the_frame(tiny: Dataset, tiny_ratings: pd.DataFrame) -> None:
    dense = tiny.explicit().toarray()
    for row in tiny_ratings.itertuples(index=False):
        u = tiny.user_index([row.userId])[0]
        i = tiny.item_index([row.movieId])[0]
        assert dense[u, i] == pytest.approx(row.rating)
    assert tiny.implicit().nnz == len(tiny_ratings)
    assert set(np.unique(tiny.implicit().data)) == {1.0}
    assert tiny.implicit("rating").sum() == pytest.approx(tiny_ratings[C.RATING].sum())


def test_positive_threshold_filters_the_implicit_view_only(tiny: Dataset) -> None:
    pos = tiny.with_positive_threshold(4.0)
    assert pos.implicit().nnz == 5  # ratings 5, 4, 5, 4.5, 4
    assert pos.explicit().nnz == 9
    assert tiny.implicit().nnz == 9  # the original is untouched
