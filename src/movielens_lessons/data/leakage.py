"""How much of the test set a training set already "knows": the leakage report of a split.

A split is only as honest as what the model could not have seen. :func:`leakage_report` counts, for a
train/test pair, the test users and items absent from training (cold start), the test interactions that
happened *before* training data did (the future leaking into training), and the (user, item) pairs present
on both sides (which must be 0). It works on any two :class:`~movielens_lessons.data.dataset.Dataset`
objects; splits made with ``Dataset.subset`` share id maps, others are matched by external id.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from movielens_lessons.data.dataset import Dataset


@dataclass(frozen=True)
class LeakageReport:
    """Counts that say how much a test set overlaps, in users, items and time, with its training set.

    Time-based counts are ``None`` when either side has no timestamps (or the training set is empty).
    """

    n_train: int
    n_test: int
    n_test_users: int
    n_test_items: int
    #: Test users with no training interaction at all (cold-start users).
    test_users_unseen: int
    #: Distinct test items that never occur in training (cold-start items).
    test_items_unseen: int
    #: Test interactions whose item never occurs in training.
    test_interactions_with_unseen_item: int
    #: Test interactions older than the latest training interaction (0 for a global temporal split).
    test_older_than_train_cut: int | None
    #: Test interactions older than the *same user's* latest training interaction.
    per_user_future_leak: int | None
    #: (user, item) pairs present in both train and test; anything but 0 is a bug.
    overlap: int

    def to_dict(self) -> dict[str, int | None]:
        """Plain ``{field: count}`` dict, JSON-serialisable."""
        return asdict(self)

    def lines(self) -> list[str]:
        """The report as short sentences for people, one per line."""
        def share(count: int, total: int) -> str:
            return f"{count:,} of {total:,} ({100 * count / total:.1f}%)" if total else f"{count:,}"

        out = [
            f"train: {self.n_train:,} interactions; test: {self.n_test:,} interactions, "
            f"{self.n_test_users:,} users, {self.n_test_items:,} items",
            f"test users unseen in train: {share(self.test_users_unseen, self.n_test_users)}",
            f"test items unseen in train: {share(self.test_items_unseen, self.n_test_items)}; "
            f"test interactions on them: "
            f"{share(self.test_interactions_with_unseen_item, self.n_test)}",
        ]
        if self.test_older_than_train_cut is None:
            out.append("time leakage: not measurable (no timestamps)")
        else:
            out.append(
                "test interactions older than the latest train interaction: "
                f"{share(self.test_older_than_train_cut, self.n_test)}"
            )
            out.append(
                "test interactions older than the same user's latest train interaction: "
                f"{share(self.per_user_future_leak or 0, self.n_test)}"
            )
        out.append(f"(user, item) pairs in both train and test: {self.overlap:,}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _test_ids_in_train_space(train: Dataset, test: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Test users/items as internal ids of ``train``'s maps (-1 where ``train``'s maps lack them)."""
    if np.array_equal(train.user_ids, test.user_ids):
        users = test.users
    else:
        users = train.user_index(test.user_ids[test.users])
    if np.array_equal(train.item_ids, test.item_ids):
        items = test.items
    else:
        items = train.item_index(test.item_ids[test.items])
    return users, items


def leakage_report(train: Dataset, test: Dataset) -> LeakageReport:
    """Measure what ``train`` reveals about ``test``; vectorised (one sort of the train pairs)."""
    t_users, t_items = _test_ids_in_train_space(train, test)
    n_users, n_items = train.n_users, train.n_items

    user_seen = np.zeros(n_users + 1, dtype=bool)  # the extra last slot stands for "-1: not in map"
    user_seen[train.users] = True
    item_seen = np.zeros(n_items + 1, dtype=bool)
    item_seen[train.items] = True

    # Distinct counts by bincount, not np.unique: ids are small dense ints (and it is ~50x faster).
    test_user_rows = np.bincount(test.users, minlength=test.n_users)
    test_item_rows = np.bincount(test.items, minlength=test.n_items)
    user_unseen = ~user_seen[t_users]  # -1 (outside train's map) indexes the False last slot
    row_item_unseen = ~item_seen[t_items]
    users_unseen = int(np.count_nonzero(np.bincount(test.users[user_unseen], minlength=test.n_users)))
    items_unseen = int(np.count_nonzero(np.bincount(test.items[row_item_unseen], minlength=test.n_items)))

    overlap = 0
    if len(train) and len(test):
        train_keys = np.sort(train.users.astype(np.int64) * n_items + train.items)
        valid = (t_users >= 0) & (t_items >= 0)
        test_keys = t_users[valid].astype(np.int64) * n_items + t_items[valid]
        pos = np.minimum(np.searchsorted(train_keys, test_keys), len(train_keys) - 1)
        overlap = int(np.count_nonzero(train_keys[pos] == test_keys))

    older_than_cut: int | None = None
    per_user_leak: int | None = None
    if train.timestamps is not None and test.timestamps is not None and len(train):
        older_than_cut = int((test.timestamps < train.timestamps.max()).sum())
        # Latest train timestamp per user; users without training data never count as leaking.
        latest = np.full(n_users + 1, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(latest, train.users, train.timestamps)
        per_user_leak = int((test.timestamps < latest[t_users]).sum())

    return LeakageReport(
        n_train=len(train),
        n_test=len(test),
        n_test_users=int(np.count_nonzero(test_user_rows)),
        n_test_items=int(np.count_nonzero(test_item_rows)),
        test_users_unseen=users_unseen,
        test_items_unseen=items_unseen,
        test_interactions_with_unseen_item=int(row_item_unseen.sum()),
        test_older_than_train_cut=older_than_cut,
        per_user_future_leak=per_user_leak,
        overlap=overlap,
    )
