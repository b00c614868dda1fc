"""The one recommendations type read by metrics, the CLI, the benchmark, the service and the notebooks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.indexing import map_ids

PAD_ITEM = -1
#: An item outside the id map (e.g. never seen in training): a recommended slot, never a hit.
UNKNOWN_ITEM = -2


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

        Ranks are 1-based; rows with rank > ``k`` are dropped (``k`` defaults to the largest rank) and
        gaps in the ranks are padding. Items outside ``item_ids`` are kept as :data:`UNKNOWN_ITEM` (-2)
        so that they count as recommended slots but can never be a hit on a known item. Users outside
        ``user_ids``, ranks < 1 and two rows with the same (user, rank) raise
        :class:`~movielens_lessons.errors.DataValidationError`.
        """
        from movielens_lessons.errors import DataValidationError

        user_ids, item_ids = np.asarray(user_ids), np.asarray(item_ids)
        users_ext = frame[C.USER].to_numpy()
        ranks = frame[C.RANK].to_numpy().astype(np.int64)
        if len(ranks) and ranks.min() < 1:
            raise DataValidationError(f"rank {ranks.min()} is below 1", column=C.RANK)
        upos = map_ids(users_ext, user_ids)
        if (upos < 0).any():
            raise DataValidationError(
                f"userId {users_ext[np.flatnonzero(upos < 0)[0]]} is not in the id map", column=C.USER
            )
        # rows: the distinct users in id-map order (counting sort: O(n), no hashing of 10^7 ids)
        present = np.zeros(len(user_ids), dtype=bool)
        present[upos] = True
        row_of = np.cumsum(present) - 1
        row = row_of[upos]
        n_rows = int(present.sum())
        width = int(ranks.max(initial=0)) + 1
        slot_key = row.astype(np.int64) * width + ranks
        if n_rows * width <= 4 * len(slot_key) + 2**20:
            # occupancy, not counts: fewer distinct slots than rows means a repeated (user, rank)
            taken = np.zeros(n_rows * width, dtype=bool)
            taken[slot_key] = True
            dup_any = int(np.count_nonzero(taken)) != len(slot_key)
        else:
            dup_any = bool(pd.Series(slot_key).duplicated().any())
        if dup_any:
            j = int(np.flatnonzero(pd.Series(slot_key).duplicated().to_numpy())[0])
            raise DataValidationError(
                f"userId {users_ext[j]} has two items at rank {ranks[j]}", column=C.RANK
            )
        k = width - 1 if k is None else k
        items = np.full((n_rows, k), PAD_ITEM, dtype=np.int64)
        scores = np.full((n_rows, k), np.nan, dtype=np.float32)
        internal = map_ids(frame[C.ITEM].to_numpy(), item_ids)
        internal[internal < 0] = UNKNOWN_ITEM
        # one flat index into the (n_rows, k) arrays: much faster than a 2-D fancy assignment
        slot = row.astype(np.int64) * k + (ranks - 1)
        keep = None if width - 1 <= k else ranks <= k
        if keep is not None:
            slot, internal = slot[keep], internal[keep]
        items.reshape(-1)[slot] = internal
        if C.SCORE in frame.columns:
            score = frame[C.SCORE].to_numpy(np.float32)
            scores.reshape(-1)[slot] = score if keep is None else score[keep]
        upos = np.flatnonzero(present)
        return cls(upos.astype(np.int32), items, scores, user_ids, item_ids)
