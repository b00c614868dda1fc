"""Reading a ratings frame into a Dataset: id maps, the duplicate policy, missing columns."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import DataQualityWarning, DataValidationError, MissingColumnError


def test_duplicates_keep_the_latest_and_are_reported() -> None:
    frame = pd.DataFrame(
        {
            C.USER: [1, 1, 1, 2],
            C.ITEM: [5, 5, 6, 5],
            C.RATING: [1.0, 4.0, 3.0, 2.0],
            C.TIMESTAMP: [10, 30, 20, 10],
        }
    )
    with pytest.warns(DataQualityWarning, match="1 duplicate"):
        ds = Dataset.from_frame(frame)
    assert ds.n_duplicates_dropped == 1
    kept = ds.to_frame().set_index([C.USER, C.ITEM])[C.RATING]
    assert kept.loc[(1, 5)] == 4.0  # timestamp 30 beats timestamp 10


def test_duplicates_with_equal_timestamps_keep_the_last_row() -> None:
    frame = pd.DataFrame(
        {C.USER: [1, 1], C.ITEM: [5, 5], C.RATING: [1.0, 4.5], C.TIMESTAMP: [7, 7]}
    )
    with pytest.warns(DataQualityWarning):
        ds = Dataset.from_frame(frame)
    assert ds.ratings.tolist() == [4.5]


def test_no_warning_without_duplicates(tiny_ratings: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dataset.from_frame(tiny_ratings)


def test_missing_column_is_named() -> None:
    with pytest.raises(MissingColumnError, match="movieId"):
        Dataset.from_frame(pd.DataFrame({C.USER: [1]}), source="mine.csv")


def test_given_id_maps_are_used_and_checked(tiny_ratings: pd.DataFrame) -> None:
    ds = Dataset.from_frame(
        tiny_ratings, user_ids=np.array([1, 2, 3, 4]), item_ids=np.array([10, 20, 30, 40, 50, 60])
    )
    assert ds.implicit().shape == (4, 6)
    assert ds.user_counts().tolist() == [3, 2, 4, 0]
    with pytest.raises(DataValidationError, match="not in the id map"):
        Dataset.from_frame(tiny_ratings, user_ids=np.array([1, 2]))


def test_duplicate_warning_points_at_the_caller_of_from_frame() -> None:
    frame = pd.DataFrame({C.USER: [1, 1], C.ITEM: [5, 5], C.TIMESTAMP: [1, 2]})
    with pytest.warns(DataQualityWarning) as record:
        Dataset.from_frame(frame)
    assert record[0].filename == __file__
