"""The one recommendations type read by metrics, the CLI, the benchmark, the service and the notebooks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movielens_lessons import columns as C

PAD_ITEM = -1


@dataclass(frozen=True)
class Recommendations:
    """Top-k lists for a set of users, in internal ids.

    ``users``: shape ``(n_users,)`` internal user ids. ``items``: ``(n_users, k)`` internal item ids, best
    first, padded with -1 where fewer than ``k`` items could be recommended. ``scores``: ``(n_users, k)``
    float32, NaN where padded. ``user_ids`` / ``item_ids`` are the dataset's id maps (external ids), used by
    :meth:`to_frame`. ``external_users`` (optional) is the external id of each row, needed for users unknown
    to the model (internal id -1); ``fallback`` (optional, bool per row) flags rows that got the popularity
    fallback instead of personal recommendations.
    """

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    external_users: np.ndarray | None = None
    fallback: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.items.ndim != 2 or self.items.shape != self.scores.shape:
            raise ValueError("items and scores must both have shape (n_users, k)")
        if len(self.users) != self.items.shape[0]:
            raise ValueError("users must have one entry per row of items")
        for extra in (self.external_users, self.fallback):
            if extra is not None and len(extra) != len(self.users):
                raise ValueError("external_users and fallback must have one entry per row")

    @property
    def row_user_ids(self) -> np.ndarray:
        """External user id of each row."""
        if self.external_users is not None:
            return np.asarray(self.external_users)
        return self.user_ids[self.users]

    @property
    def k(self) -> int:
        return int(self.items.shape[1])

    def __len__(self) -> int:
        return len(self.users)

    def to_frame(self) -> pd.DataFrame:
        """Long format ``userId, movieId, rank, score`` (rank 1 = best); padding rows are dropped."""
        valid = self.items >= 0
        rows, cols = np.nonzero(valid)
        frame = pd.DataFrame(
            {
                C.USER: self.row_user_ids[rows],
                C.ITEM: self.item_ids[self.items[rows, cols]],
                C.RANK: (cols + 1).astype(np.int32),
                C.SCORE: self.scores[rows, cols],
            }
        )
        if self.fallback is not None:
            frame[C.FALLBACK] = np.asarray(self.fallback, dtype=bool)[rows]
        return frame

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray, k: int | None = None
    ) -> Recommendations:
        """Rebuild from ``userId, movieId, rank[, score]`` against the given id maps.

        Items outside ``item_ids`` (never seen in training) are kept as -2 so that they count as
        recommended but can never be a hit on a known item; users outside ``user_ids`` are an error for
        the caller to handle before this point.
        """
        users_ext = frame[C.USER].to_numpy()
        uniq_users, row = np.unique(users_ext, return_inverse=True)
        ranks = frame[C.RANK].to_numpy().astype(np.int64)
        k = int(ranks.max()) if k is None else k
        keep = ranks <= k
        items = np.full((len(uniq_users), k), PAD_ITEM, dtype=np.int64)
        scores = np.full((len(uniq_users), k), np.nan, dtype=np.float32)
        pos = np.searchsorted(item_ids, frame[C.ITEM].to_numpy())
        pos_c = np.minimum(pos, len(item_ids) - 1)
        known = item_ids[pos_c] == frame[C.ITEM].to_numpy()
        internal = np.where(known, pos_c, -2)
        items[row[keep], ranks[keep] - 1] = internal[keep]
        if C.SCORE in frame.columns:
            scores[row[keep], ranks[keep] - 1] = frame[C.SCORE].to_numpy(np.float32)[keep]
        upos = np.searchsorted(user_ids, uniq_users)
        return cls(upos.astype(np.int32), items, scores, user_ids, item_ids)
