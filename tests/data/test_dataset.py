"""The Dataset core: id maps, immutability, derived datasets, fingerprint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import DataValidationError


def test_id_maps_are_sorted_external_ids(tiny: Dataset) -> None:
    assert tiny.user_ids.tolist() == [1, 2, 3]
    assert tiny.item_ids.tolist() == [10, 20, 30, 40, 50]
    assert (tiny.n_users, tiny.n_items, tiny.n_interactions) == (3, 5, 9)
    assert tiny.user_index([3, 1, 99]).tolist() == [2, 0, -1]
    assert tiny.item_index([50]).tolist() == [4]
    with pytest.raises(DataValidationError, match="unknown id 99"):
        tiny.user_index([99], unknown="raise")


def test_interactions_sorted_by_user_then_time(tiny: Dataset) -> None:
    frame = tiny.to_frame()
    assert frame[C.USER].is_monotonic_increasing
    for _, g in frame.groupby(C.USER):
        assert g[C.TIMESTAMP].is_monotonic_increasing


def test_immutable(tiny: Dataset) -> None:
    with pytest.raises(AttributeError, match="immutable"):
        tiny.name = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        tiny.users[0] = 2
    with pytest.raises(ValueError):
        tiny.implicit().data[0] = 7.0


def test_with_movies_swaps_only_the_movies(tiny: Dataset) -> None:
    movies = pd.DataFrame({C.ITEM: tiny.item_ids, C.TITLE: "x", "averageRating": 7.5})
    other = tiny.with_movies(movies)
    assert other.movies is movies and tiny.movies is not movies
    for attr in ("users", "items", "ratings", "timestamps", "user_ids", "item_ids"):
        np.testing.assert_array_equal(getattr(other, attr), getattr(tiny, attr))
    assert other.n_duplicates_dropped == tiny.n_duplicates_dropped and other.name == tiny.name


def test_with_items_extends_the_id_map_and_keeps_every_row(tiny: Dataset) -> None:
    wider = tiny.with_items(np.array([5, 25, 30, 60]))
    assert wider.item_ids.tolist() == [5, 10, 20, 25, 30, 40, 50, 60]
    pd.testing.assert_frame_equal(wider.to_frame(), tiny.to_frame())  # same external rows, same order
    np.testing.assert_array_equal(wider.user_ids, tiny.user_ids)
    counts = np.bincount(wider.items, minlength=wider.n_items)
    assert counts[wider.item_index([5, 25, 60])].tolist() == [0, 0, 0]
    assert wider.implicit().shape == (3, 8)
    assert tiny.with_items(np.array([10, 50])) is tiny  # nothing new
    with pytest.raises(DataValidationError, match="must be integers"):
        tiny.with_items(np.array(["a"]))


def test_subset_shares_id_maps(tiny: Dataset) -> None:
    part = tiny.subset(tiny.users == 0)
    assert part.n_interactions == 3
    assert part.n_users == tiny.n_users and part.n_items == tiny.n_items
    assert part.implicit().shape == tiny.implicit().shape
    assert part.active_users.tolist() == [0]


def test_fingerprint_tracks_content(tiny: Dataset, tiny_ratings: pd.DataFrame) -> None:
    again = Dataset.from_frame(tiny_ratings.sample(frac=1.0, random_state=3))
    assert again.fingerprint() == tiny.fingerprint()  # row order of the source does not matter
    changed = tiny_ratings.copy()
    changed.loc[0, C.RATING] = 1.0
    assert Dataset.from_frame(changed).fingerprint() != tiny.fingerprint()


def test_implicit_only_data() -> None:
    ds = Dataset.from_frame(pd.DataFrame({C.USER: [1, 2], C.ITEM: [3, 3]}))
    assert ds.ratings is None and ds.timestamps is None
    assert ds.implicit().nnz == 2
    with pytest.raises(DataValidationError, match="no ratings"):
        ds.explicit()
    with pytest.raises(DataValidationError, match="needs ratings"):
        ds.with_positive_threshold(4.0)
