"""Split masks: which rows go to test when timestamps tie."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_masks import temporal_mask, user_temporal_mask


def test_temporal_ties_at_the_cut_all_go_to_test() -> None:
    # 10 rows, 6 of them at t=500: a 0.2 cut lands inside the tie block, which goes wholly to test.
    frame = pd.DataFrame({C.USER: np.arange(10), C.ITEM: np.arange(10),
                          C.TIMESTAMP: [100, 200, 300, 400, 500, 500, 500, 500, 500, 500]})
    ds = Dataset.from_frame(frame)
    mask = temporal_mask(ds, test_size=0.2, at=None)
    np.testing.assert_array_equal(np.sort(ds.timestamps[mask]), [500] * 6)
    np.testing.assert_array_equal(np.sort(ds.timestamps[~mask]), [100, 200, 300, 400])


def test_user_temporal_breaks_timestamp_ties_by_item_id() -> None:
    frame = pd.DataFrame({C.USER: [1] * 5, C.ITEM: [50, 10, 40, 20, 30], C.TIMESTAMP: [7] * 5})
    ds = Dataset.from_frame(frame)
    mask = user_temporal_mask(ds, test_size=None, leave_last=2, min_train=1)
    assert sorted(ds.subset(mask).to_frame()[C.ITEM]) == [40, 50]
