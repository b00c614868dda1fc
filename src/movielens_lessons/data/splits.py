"""Train/test splits that do not leak: one function per strategy, each returning a :class:`Split`.

Every split is a pair of boolean row masks over a :class:`~movielens_lessons.data.dataset.Dataset`, turned
into Datasets with ``Dataset.subset`` so that train, test, validation and fold-in share the parent's id maps
(the same internal ids everywhere). Randomness comes only from ``numpy.random.default_rng(seed)``; the same
data and seed always give the same split. The masks and parameter checks live in
:mod:`movielens_lessons.data.split_masks` (vectorised, no loop over users); the strategies by name, for the
CLI and configs, in :mod:`movielens_lessons.data.split_registry`.

Rounding: a share ``f`` of ``n`` rows is ``floor(f * n + 0.5)`` rows (half rounds up).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.leakage import LeakageReport, leakage_report
from movielens_lessons.data.split_masks import (
    check_count,
    check_fraction,
    check_seed,
    parse_at,
    position_in_user,
    random_mask,
    random_rank_in_user,
    share,
    temporal_mask,
    user_random_mask,
    user_temporal_mask,
)
from movielens_lessons.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class Split:
    """The parts of one split; ``params`` holds every parameter (defaults included) to redo it."""

    train: Dataset
    test: Dataset
    validation: Dataset | None = None
    fold_in: Dataset | None = None
    strategy: str
    params: dict
    leakage: LeakageReport

    def parts(self) -> dict[str, Dataset]:
        """The non-empty parts by file stem: ``train``, ``test`` and ``validation`` / ``fold_in``."""
        named = {"train": self.train, "test": self.test, "validation": self.validation,
                 "fold_in": self.fold_in}
        return {k: v for k, v in named.items() if v is not None}


# --- assembling a Split ---------------------------------------------------------------------------


def _assemble(
    ds: Dataset,
    test_mask: np.ndarray,
    strategy: str,
    params: dict,
    validation_mask: Callable[[Dataset], np.ndarray] | None = None,
) -> Split:
    """Subset ``ds`` by ``test_mask``; optionally carve validation out of the training part only."""
    train = ds.subset(~test_mask, name=_name(ds, "train"))
    test = ds.subset(test_mask, name=_name(ds, "test"))
    validation = None
    if validation_mask is not None:
        _at_least_two(train)
        v = validation_mask(train)
        validation = train.subset(v, name=_name(ds, "validation"))
        train = train.subset(~v, name=_name(ds, "train"))
    return Split(train=train, test=test, validation=validation, strategy=strategy, params=params,
                 leakage=leakage_report(train, test))


def _at_least_two(ds: Dataset) -> None:
    if len(ds) < 2:
        raise ConfigError(f"cannot split {len(ds)} interaction(s); need at least 2")


def _name(ds: Dataset, part: str) -> str:
    return f"{ds.name}:{part}" if ds.name else part


def _validation_rng(seed: int) -> np.random.Generator:
    # A stream independent of the test split's, yet fixed by the same seed.
    return np.random.default_rng([seed, 1])


# --- public strategies ----------------------------------------------------------------------------


def random_split(
    ds: Dataset, test_size: float = 0.2, seed: int = 42, validation_size: float | None = None
) -> Split:
    """Global random split of interactions: ``round(test_size × n)`` rows go to test.

    Leaks time (tests contain old interactions) and gives cold-start users; the report says how much.
    ``validation_size`` is a fraction of the *training* part, drawn the same way.
    """
    test_size, seed = check_fraction("test_size", test_size), check_seed(seed)
    _at_least_two(ds)
    val = None
    if validation_size is not None:
        vs = check_fraction("validation_size", validation_size)
        def val(tr: Dataset) -> np.ndarray:
            return random_mask(tr, vs, _validation_rng(seed))
    params = {"test_size": test_size, "seed": seed, "validation_size": validation_size}
    return _assemble(ds, random_mask(ds, test_size, np.random.default_rng(seed)), "random",
                     params, val)


def user_random_split(
    ds: Dataset,
    test_size: float = 0.2,
    seed: int = 42,
    min_train: int = 1,
    validation_size: float | None = None,
) -> Split:
    """Per-user stratified random split: each user gives ``round(test_size × n_u)`` rows to test.

    The count is capped so that each user keeps ≥ ``min_train`` training rows; users with
    ``n_u ≤ min_train`` stay entirely in train. No user is cold in test (when ``min_train ≥ 1``).
    """
    test_size, seed = check_fraction("test_size", test_size), check_seed(seed)
    min_train = check_count("min_train", min_train, 0)
    _at_least_two(ds)
    val = None
    if validation_size is not None:
        vs = check_fraction("validation_size", validation_size)
        def val(tr: Dataset) -> np.ndarray:
            return user_random_mask(tr, vs, min_train, _validation_rng(seed))
    params = {"test_size": test_size, "seed": seed, "min_train": min_train,
              "validation_size": validation_size}
    mask = user_random_mask(ds, test_size, min_train, np.random.default_rng(seed))
    return _assemble(ds, mask, "user-random", params, val)


def temporal_split(
    ds: Dataset,
    test_size: float | None = None,
    at: int | str | None = None,
    validation_size: float | None = None,
) -> Split:
    """Global temporal split: everything at or after a cut time is test (the honest, "deployed" split).

    The cut is ``at`` (epoch seconds, or an ISO date/time read as UTC) or else the timestamp at the
    ``1 - test_size`` quantile (``test_size`` defaults to 0.2). **Ties at the cut go to test**, so every
    train interaction is strictly older than every test interaction and the test share may slightly
    exceed ``test_size``. ``validation_size`` cuts the training part again the same way.
    """
    if test_size is not None and at is not None:
        raise ConfigError("give either test_size or at for a temporal split, not both")
    cut = None if at is None else parse_at(at)
    if cut is None:
        test_size = 0.2 if test_size is None else check_fraction("test_size", test_size)
    _at_least_two(ds)
    val = None
    if validation_size is not None:
        vs = check_fraction("validation_size", validation_size)
        def val(tr: Dataset) -> np.ndarray:
            return temporal_mask(tr, vs, None)
    params = {"test_size": test_size, "at": cut, "validation_size": validation_size}
    return _assemble(ds, temporal_mask(ds, test_size, cut), "temporal", params, val)


def user_temporal_split(
    ds: Dataset,
    test_size: float | None = None,
    leave_last: int | None = None,
    min_train: int = 1,
    validation_size: float | None = None,
) -> Split:
    """Per-user temporal split: each user's last ``leave_last`` rows, or last ``test_size`` share.

    ``test_size`` defaults to 0.2 when neither is given. Counts are capped so each user keeps
    ≥ ``min_train`` training rows. Equal timestamps are ordered by item id (the stored order), so the
    result is deterministic. Users' test rows are never older than their own train rows, but test rows
    of one user can be older than train rows of another: the report's ``test_older_than_train_cut``.
    """
    if test_size is not None and leave_last is not None:
        raise ConfigError("give either test_size or leave_last for a user-temporal split, not both")
    if leave_last is None:
        test_size = 0.2 if test_size is None else check_fraction("test_size", test_size)
    else:
        leave_last = check_count("leave_last", leave_last, 1)
    min_train = check_count("min_train", min_train, 0)
    _at_least_two(ds)
    val = None
    if validation_size is not None:
        vs = check_fraction("validation_size", validation_size)
        def val(tr: Dataset) -> np.ndarray:
            return user_temporal_mask(tr, vs, None, min_train)
    params = {"test_size": test_size, "leave_last": leave_last, "min_train": min_train,
              "validation_size": validation_size}
    mask = user_temporal_mask(ds, test_size, leave_last, min_train)
    return _assemble(ds, mask, "user-temporal", params, val)


def strong_generalization_split(
    ds: Dataset, test_users: float = 0.1, fold_in: float = 0.8, seed: int = 42
) -> Split:
    """Hold out whole users: train has the other users; each held-out user's data is cut in two.

    ``round(test_users × active users)`` users are drawn at random. Of each one's ``n_u`` rows the
    first ``round(fold_in × n_u)`` (by time; at random if there are no timestamps) form ``fold_in``,
    the history a model may use at prediction time, and the rest form ``test``. Each held-out user
    keeps ≥ 1 test row and, when ``n_u ≥ 2``, ≥ 1 fold-in row. Leakage is measured against ``train``,
    so every test user is reported unseen: that is the point of this split.
    """
    test_users = check_fraction("test_users", test_users)
    fold_in = check_fraction("fold_in", fold_in)
    seed = check_seed(seed)
    _at_least_two(ds)
    rng = np.random.default_rng(seed)
    active = ds.active_users
    if len(active) < 2:
        raise ConfigError(f"strong generalization needs at least 2 users; this data has {len(active)}")
    n_held = int(np.clip(share(test_users, len(active)), 1, len(active) - 1))
    held = np.zeros(ds.n_users, dtype=bool)
    held[rng.permutation(active)[:n_held]] = True
    row_held = held[ds.users]

    pos, n_u = position_in_user(ds)
    if ds.timestamps is None:
        pos = random_rank_in_user(ds, rng)
    n_fold = np.clip(share(fold_in, n_u), np.minimum(1, n_u - 1), n_u - 1)
    fold_mask = row_held & (pos < n_fold)
    test_mask = row_held & ~fold_mask

    train = ds.subset(~row_held, name=_name(ds, "train"))
    test = ds.subset(test_mask, name=_name(ds, "test"))
    return Split(
        train=train,
        test=test,
        fold_in=ds.subset(fold_mask, name=_name(ds, "fold_in")),
        strategy="strong-generalization",
        params={"test_users": test_users, "fold_in": fold_in, "seed": seed},
        leakage=leakage_report(train, test),
    )


def user_kfold(ds: Dataset, n_splits: int = 5, seed: int = 42) -> Iterator[Split]:
    """``n_splits`` splits whose test sets partition the data, each ~1/n of every user's rows.

    Each user's rows are shuffled and dealt to folds round-robin, starting at a random fold per user
    (so users with fewer rows than folds do not all land in the first folds). A user with a single
    row is cold in the one fold that holds it; the leakage report counts such users.
    """
    # Checked here, not inside the generator, so bad values fail at the call, not at first use.
    n_splits, seed = check_count("n_splits", n_splits, 2), check_seed(seed)
    _at_least_two(ds)
    return _kfold_splits(ds, n_splits, seed)


def _kfold_splits(ds: Dataset, n_splits: int, seed: int) -> Iterator[Split]:
    rng = np.random.default_rng(seed)
    rank = random_rank_in_user(ds, rng)
    offset = rng.integers(0, n_splits, size=ds.n_users)
    fold_of_row = (rank + offset[ds.users]) % n_splits
    for k in range(n_splits):
        params = {"n_splits": n_splits, "seed": seed, "fold": k}
        yield _assemble(ds, fold_of_row == k, "user-kfold", params)
