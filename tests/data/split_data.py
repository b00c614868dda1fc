"""Synthetic ratings for the split tests, and a comparison of two splits by their rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.splits import Split


def synthetic_frame(n_users: int = 300, n_items: int = 400, seed: int = 0) -> pd.DataFrame:
    """A few thousand ratings: skewed user activity (some users with 1-2 rows), coarse timestamps so
    that ties are common, ratings in half stars, distinct (user, item) pairs."""
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.geometric(1 / 12, size=n_users), n_items)
    sizes[:5] = [1, 1, 2, 2, 3]  # tiny users exercise the caps
    users, items = [], []
    for u, k in enumerate(sizes):
        users.append(np.full(k, 1000 + u))
        items.append(rng.choice(n_items, size=k, replace=False) * 3 + 7)  # sparse external ids
    n = int(sizes.sum())
    return pd.DataFrame(
        {
            C.USER: np.concatenate(users).astype(np.int32),
            C.ITEM: np.concatenate(items).astype(np.int32),
            C.RATING: rng.integers(1, 11, size=n).astype(np.float32) / 2,
            # 1-day resolution over ~3 years: many equal timestamps, within and across users
            C.TIMESTAMP: (1_400_000_000 + rng.integers(0, 1000, size=n) * 86_400).astype(np.int64),
        }
    )


def pair_keys(ds: Dataset) -> np.ndarray:
    """External (userId, movieId) of each row as one int64, so datasets can be compared by rows."""
    f = ds.to_frame()
    return f[C.USER].to_numpy(np.int64) * 10_000_000 + f[C.ITEM].to_numpy(np.int64)


def same_split(a: Split, b: Split) -> bool:
    return all(
        np.array_equal(np.sort(pair_keys(getattr(a, part))), np.sort(pair_keys(getattr(b, part))))
        for part in ("train", "test")
    )
