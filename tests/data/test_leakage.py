"""The leakage report on hand-made train/test pairs whose answers can be counted by eye."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.leakage import LeakageReport, leakage_report


def rows(ds: Dataset, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Row mask of ``ds`` selecting the given external (userId, movieId) pairs."""
    f = ds.to_frame()
    wanted = set(pairs)
    return np.array([(u, i) in wanted for u, i in zip(f[C.USER], f[C.ITEM], strict=True)])


@pytest.fixture
def tiny_pair(tiny: Dataset) -> tuple[Dataset, Dataset]:
    """tiny (see conftest): train = user 1's items 10, 30 and all of user 2; test = the rest.

    Test: (1, 20, t=200), (3, 20, t=50), (3, 30, t=60), (3, 40, t=70), (3, 50, t=80).
    """
    test_mask = rows(tiny, [(1, 20), (3, 20), (3, 30), (3, 40), (3, 50)])
    return tiny.subset(~test_mask), tiny.subset(test_mask)


def test_counts_on_tiny(tiny_pair: tuple[Dataset, Dataset]) -> None:
    report = leakage_report(*tiny_pair)
    assert report.n_train == 4 and report.n_test == 5
    assert report.n_test_users == 2 and report.n_test_items == 4
    assert report.test_users_unseen == 1  # user 3 has nothing in train
    assert report.test_items_unseen == 2  # items 20 and 50; train has 10, 30, 40
    assert report.test_interactions_with_unseen_item == 3  # (1,20), (3,20), (3,50)
    assert report.test_older_than_train_cut == 5  # train's latest is t=300; every test row is older
    assert report.per_user_future_leak == 1  # (1,20) at t=200 precedes user 1's train row at t=300
    assert report.overlap == 0


def test_swapping_train_and_test_changes_the_answer(tiny_pair: tuple[Dataset, Dataset]) -> None:
    train, test = tiny_pair
    report = leakage_report(test, train)
    assert report.test_users_unseen == 1  # user 2
    assert report.test_items_unseen == 1  # item 10
    assert report.test_interactions_with_unseen_item == 2  # (1,10), (2,10)
    assert report.test_older_than_train_cut == 2  # train's latest is now t=200: (1,10), (2,10)
    assert report.per_user_future_leak == 1  # user 1's (1,10) at t=100 < their train t=200


def test_overlap_and_different_id_maps(tiny_ratings: pd.DataFrame) -> None:
    # Built separately, so the id maps differ; pairs are matched by external id.
    train = Dataset.from_frame(tiny_ratings.iloc[:5])
    extra = pd.DataFrame({C.USER: [9], C.ITEM: [99], C.RATING: [3.0], C.TIMESTAMP: [999]})
    test = Dataset.from_frame(pd.concat([tiny_ratings.iloc[3:], extra]))
    report = leakage_report(train, test)
    assert report.overlap == 2  # rows 3 and 4, (2,10) and (2,40), are on both sides
    assert report.test_users_unseen == 2  # user 3, and user 9 who is not even in train's map
    assert report.test_items_unseen == 2  # items 50 and 99


def test_no_timestamps_gives_none_and_says_so(tiny_ratings: pd.DataFrame) -> None:
    ds = Dataset.from_frame(tiny_ratings.drop(columns=[C.TIMESTAMP]))
    report = leakage_report(ds.subset(np.arange(4)), ds.subset(np.arange(4, len(ds))))
    assert report.test_older_than_train_cut is None
    assert report.per_user_future_leak is None
    assert any("not measurable" in line for line in report.lines())


def test_empty_train(tiny: Dataset) -> None:
    report = leakage_report(tiny.subset(np.zeros(len(tiny), dtype=bool)), tiny)
    assert report.n_train == 0
    assert report.test_users_unseen == 3 and report.test_items_unseen == 5
    assert report.test_older_than_train_cut is None


def test_to_dict_and_lines(tiny_pair: tuple[Dataset, Dataset]) -> None:
    report = leakage_report(*tiny_pair)
    as_dict = report.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert LeakageReport(**as_dict) == report
    text = "\n".join(report.lines())
    assert "1 of 2 (50.0%)" in text  # unseen users
    assert "pairs in both train and test: 0" in text
    assert str(report) == text
