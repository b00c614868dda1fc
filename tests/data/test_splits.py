"""Splits: determinism, disjointness, per-user shares, temporal order, held-out users, k-fold partition."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import STRATEGIES, split, split_all
from movielens_lessons.data.splits import (
    random_split,
    strong_generalization_split,
    temporal_split,
    user_kfold,
    user_random_split,
    user_temporal_split,
)
from movielens_lessons.errors import ConfigError

from .split_data import pair_keys, same_split, synthetic_frame

# --- synthetic data -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth() -> Dataset:
    return Dataset.from_frame(synthetic_frame(), name="synth")


def assert_partition(whole: Dataset, *parts: Dataset | None) -> None:
    """The parts are disjoint in (user, item) pairs and together hold exactly ``whole``'s rows."""
    keys = [pair_keys(p) for p in parts if p is not None]
    joined = np.concatenate(keys)
    assert len(np.unique(joined)) == len(joined), "a (user, item) pair is in two parts"
    np.testing.assert_array_equal(np.sort(joined), np.sort(pair_keys(whole)))
    # Ratings and timestamps travel with their rows.
    merged = pd.concat([p.to_frame() for p in parts if p is not None]).sort_values([C.USER, C.ITEM])
    expected = whole.to_frame().sort_values([C.USER, C.ITEM])
    pd.testing.assert_frame_equal(merged.reset_index(drop=True), expected.reset_index(drop=True))


def per_user(ds: Dataset) -> np.ndarray:
    return ds.user_counts()


# --- every strategy -------------------------------------------------------------------------------

SEEDED = ["random", "user-random", "strong-generalization"]


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_parts_partition_the_data_and_share_id_maps(synth: Dataset, strategy: str) -> None:
    for result in split_all(synth, strategy):
        assert_partition(synth, result.train, result.test, result.validation, result.fold_in)
        for part in result.parts().values():
            assert part.user_ids is synth.user_ids and part.item_ids is synth.item_ids
        assert result.leakage.overlap == 0
        assert result.leakage.n_train == len(result.train)
        assert result.leakage.n_test == len(result.test) > 0
        assert result.strategy == strategy


@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_same_parameters_give_the_same_split(synth: Dataset, strategy: str) -> None:
    first, again = split_all(synth, strategy), split_all(synth, strategy)
    assert len(first) == len(again)
    assert all(same_split(a, b) for a, b in zip(first, again, strict=True))


@pytest.mark.parametrize("strategy", [*SEEDED, "user-kfold"])
def test_a_different_seed_gives_a_different_split(synth: Dataset, strategy: str) -> None:
    a = split(synth, strategy, seed=1)
    b = split(synth, strategy, seed=2)
    assert not same_split(a, b)


@pytest.mark.parametrize("strategy", ["random", "user-random", "temporal", "user-temporal"])
@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.2, "0.2", True])
def test_test_size_outside_zero_one_is_a_config_error(synth, strategy, bad) -> None:
    with pytest.raises(ConfigError, match="test_size"):
        split(synth, strategy, test_size=bad)


def test_params_record_every_parameter(synth: Dataset) -> None:
    result = split(synth, "user-random", test_size=0.3)
    assert result.params == {"test_size": 0.3, "seed": 42, "min_train": 1, "validation_size": None}
    # Redoing the split from its params gives the same split.
    assert same_split(split(synth, result.strategy, **result.params), result)


def test_too_little_data_is_a_config_error(tiny: Dataset) -> None:
    with pytest.raises(ConfigError, match="at least 2"):
        random_split(tiny.subset(np.array([0])))


# --- random ---------------------------------------------------------------------------------------


def test_random_split_test_share(synth: Dataset) -> None:
    result = random_split(synth, test_size=0.25, seed=3)
    assert len(result.test) == int(np.floor(0.25 * len(synth) + 0.5))


def test_random_validation_comes_out_of_train_only(synth: Dataset) -> None:
    plain = random_split(synth, test_size=0.2, seed=5)
    with_val = random_split(synth, test_size=0.2, seed=5, validation_size=0.25)
    # Same test set; validation is carved out of the same training rows.
    np.testing.assert_array_equal(pair_keys(plain.test), pair_keys(with_val.test))
    assert_partition(plain.train, with_val.train, with_val.validation)
    assert len(with_val.validation) == int(np.floor(0.25 * len(plain.train) + 0.5))


# --- per-user random ------------------------------------------------------------------------------


@pytest.mark.parametrize("min_train", [0, 1, 3])
def test_user_random_shares_per_user(synth: Dataset, min_train: int) -> None:
    result = user_random_split(synth, test_size=0.3, seed=7, min_train=min_train)
    n_u, t_u = per_user(synth), per_user(result.test)
    train_u = per_user(result.train)
    capped = n_u - t_u == min_train
    assert (train_u >= np.minimum(n_u, min_train)).all()
    assert (t_u[n_u <= min_train] == 0).all()
    # Every user not held back by min_train gets round(0.3 × n_u) test rows.
    free = ~capped & (n_u > min_train)
    assert (np.abs(t_u[free] - 0.3 * n_u[free]) <= 0.5).all()
    assert (t_u[capped] <= np.floor(0.3 * n_u[capped] + 0.5)).all()
    if min_train >= 1:
        assert result.leakage.test_users_unseen == 0


def test_user_random_picks_rows_at_random_within_users(synth: Dataset) -> None:
    a = user_random_split(synth, seed=1)
    b = user_random_split(synth, seed=2)
    # Same per-user counts, different rows.
    np.testing.assert_array_equal(per_user(a.test), per_user(b.test))
    assert not same_split(a, b)
    # Not simply the last rows by time: some test rows are older than the user's newest train row.
    assert a.leakage.per_user_future_leak > 0


def test_user_random_validation_is_per_user_from_train(synth: Dataset) -> None:
    result = user_random_split(synth, test_size=0.2, validation_size=0.25, seed=4)
    assert_partition(synth, result.train, result.test, result.validation)
    train_before = per_user(result.train) + per_user(result.validation)
    v_u = per_user(result.validation)
    assert (np.abs(v_u - 0.25 * train_before) <= 0.5)[train_before - v_u > 1].all()
    assert (per_user(result.train)[train_before > 0] >= 1).all()


# --- global temporal -------------------------------------------------------------------------------


def test_temporal_train_strictly_precedes_test(synth: Dataset) -> None:
    result = temporal_split(synth, test_size=0.2)
    assert result.train.timestamps.max() < result.test.timestamps.min()
    assert result.leakage.test_older_than_train_cut == 0
    assert result.leakage.per_user_future_leak == 0
    # Ties at the cut go to test, so test holds at least the asked share.
    assert len(result.test) >= int(np.floor(0.2 * len(synth) + 0.5))


def test_temporal_ties_at_the_cut_all_go_to_test() -> None:
    # 10 rows, 6 of them at t=500: a 0.2 cut lands inside the tie block, which goes wholly to test.
    frame = pd.DataFrame({C.USER: np.arange(10), C.ITEM: np.arange(10),
                          C.TIMESTAMP: [100, 200, 300, 400, 500, 500, 500, 500, 500, 500]})
    result = temporal_split(Dataset.from_frame(frame), test_size=0.2)
    np.testing.assert_array_equal(np.sort(result.test.timestamps), [500] * 6)
    np.testing.assert_array_equal(np.sort(result.train.timestamps), [100, 200, 300, 400])


def test_temporal_at_date_and_seconds_agree(synth: Dataset) -> None:
    date = "2015-06-01"
    seconds = int(pd.Timestamp(date, tz="UTC").timestamp())
    by_date, by_seconds = temporal_split(synth, at=date), temporal_split(synth, at=seconds)
    assert same_split(by_date, by_seconds)
    assert by_date.params["at"] == seconds
    assert (by_date.test.timestamps >= seconds).all() and (by_date.train.timestamps < seconds).all()


@pytest.mark.parametrize("kwargs", [{"at": "1990-01-01"}, {"at": "2100-01-01"}, {"at": "not a date"},
                                    {"at": 1_500_000_000, "test_size": 0.2}])
def test_temporal_bad_cut_is_a_config_error(synth: Dataset, kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        temporal_split(synth, **kwargs)


def test_temporal_needs_timestamps(tiny_ratings: pd.DataFrame) -> None:
    ds = Dataset.from_frame(tiny_ratings.drop(columns=[C.TIMESTAMP]))
    for strategy in ("temporal", "user-temporal"):
        with pytest.raises(ConfigError, match="timestamps"):
            split(ds, strategy)


def test_temporal_validation_is_the_latest_part_of_train(synth: Dataset) -> None:
    result = temporal_split(synth, test_size=0.2, validation_size=0.2)
    assert result.train.timestamps.max() < result.validation.timestamps.min()
    assert result.validation.timestamps.max() < result.test.timestamps.min()


# --- per-user temporal -------------------------------------------------------------------------------


def test_user_temporal_leave_last_one_on_tiny(tiny: Dataset) -> None:
    result = user_temporal_split(tiny, leave_last=1)
    got = sorted(zip(result.test.to_frame()[C.USER], result.test.to_frame()[C.ITEM], strict=True))
    # tiny: user 1's latest is item 30 (t=300), user 2's item 40 (t=250), user 3's item 50 (t=80).
    assert got == [(1, 30), (2, 40), (3, 50)]


def test_user_temporal_each_users_test_is_no_older_than_their_train(synth: Dataset) -> None:
    result = user_temporal_split(synth, test_size=0.25)
    train, test = result.train.to_frame(), result.test.to_frame()
    latest_train = train.groupby(C.USER)[C.TIMESTAMP].max()
    earliest_test = test.groupby(C.USER)[C.TIMESTAMP].min()
    both = earliest_test.index.intersection(latest_train.index)
    assert (earliest_test[both] >= latest_train[both]).all()
    assert result.leakage.per_user_future_leak == 0
    assert result.leakage.test_users_unseen == 0


def test_user_temporal_shares_per_user(synth: Dataset) -> None:
    n_u = per_user(synth)
    t_u = per_user(user_temporal_split(synth, test_size=0.25).test)
    assert (t_u[n_u == 1] == 0).all()  # min_train=1: a single row stays in train
    assert (np.abs(t_u - 0.25 * n_u)[n_u >= 2] <= 0.5).all()
    t_last = per_user(user_temporal_split(synth, leave_last=2).test)
    np.testing.assert_array_equal(t_last, np.clip(n_u - 1, 0, 2))


def test_user_temporal_breaks_timestamp_ties_by_item_id() -> None:
    frame = pd.DataFrame({C.USER: [1] * 5, C.ITEM: [50, 10, 40, 20, 30], C.TIMESTAMP: [7] * 5})
    result = user_temporal_split(Dataset.from_frame(frame), leave_last=2)
    assert sorted(result.test.to_frame()[C.ITEM]) == [40, 50]


def test_user_temporal_bad_leave_last(synth: Dataset) -> None:
    with pytest.raises(ConfigError, match="leave_last"):
        user_temporal_split(synth, leave_last=0)
    with pytest.raises(ConfigError, match="not both"):
        user_temporal_split(synth, leave_last=1, test_size=0.2)


# --- strong generalization ---------------------------------------------------------------------------


def test_strong_generalization_users_are_disjoint(synth: Dataset) -> None:
    result = strong_generalization_split(synth, test_users=0.2, fold_in=0.5, seed=3)
    train_users = set(result.train.active_users)
    held = set(result.test.active_users) | set(result.fold_in.active_users)
    assert not train_users & held
    assert len(held) == int(np.floor(0.2 * len(synth.active_users) + 0.5))
    assert set(result.test.active_users) == held  # every held-out user has something to predict
    assert result.leakage.test_users_unseen == len(held)


def test_strong_generalization_fold_in_precedes_test(synth: Dataset) -> None:
    result = strong_generalization_split(synth, test_users=0.2, fold_in=0.6, seed=3)
    fold, test = result.fold_in.to_frame(), result.test.to_frame()
    latest_fold = fold.groupby(C.USER)[C.TIMESTAMP].max()
    earliest_test = test.groupby(C.USER)[C.TIMESTAMP].min()
    both = latest_fold.index.intersection(earliest_test.index)
    assert (earliest_test[both] >= latest_fold[both]).all()
    n_u = per_user(result.fold_in) + per_user(result.test)
    f_u = per_user(result.fold_in)
    big = n_u >= 3
    assert (np.abs(f_u - 0.6 * n_u)[big] <= 0.5).all()


def test_strong_generalization_without_timestamps(tiny_ratings: pd.DataFrame) -> None:
    ds = Dataset.from_frame(tiny_ratings.drop(columns=[C.TIMESTAMP]))
    result = strong_generalization_split(ds, test_users=0.4, seed=0)
    assert_partition(ds, result.train, result.test, result.fold_in)
    assert result.leakage.test_older_than_train_cut is None


# --- k-fold ------------------------------------------------------------------------------------------


def test_user_kfold_tests_partition_the_data(synth: Dataset) -> None:
    folds = list(user_kfold(synth, n_splits=4, seed=9))
    assert len(folds) == 4
    assert_partition(synth, *(f.test for f in folds))
    counts = np.stack([per_user(f.test) for f in folds])
    n_u = per_user(synth)
    # Round-robin: each user's rows are spread as evenly as possible over the folds.
    assert (counts.max(axis=0) - counts.min(axis=0) <= 1).all()
    np.testing.assert_array_equal(counts.sum(axis=0), n_u)
    assert [f.params["fold"] for f in folds] == [0, 1, 2, 3]


def test_user_kfold_bad_n_splits_fails_at_the_call(synth: Dataset) -> None:
    with pytest.raises(ConfigError, match="n_splits"):
        user_kfold(synth, n_splits=1)


# --- the real ml-latest-small ------------------------------------------------------------------------


@pytest.mark.realdata
def test_user_temporal_80_20_on_ml_latest_small(ml_small: Dataset) -> None:
    result = user_temporal_split(ml_small, test_size=0.2)
    frame = ml_small.to_frame()
    n_u = frame.groupby(C.USER).size()
    expected = np.minimum(np.floor(0.2 * n_u + 0.5), n_u - 1).astype(int)  # every user has ≥ 20 rows
    got = result.test.to_frame().groupby(C.USER).size().reindex(n_u.index, fill_value=0)
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert len(result.train) + len(result.test) == len(ml_small)

    report = result.leakage
    assert report.overlap == 0
    assert report.per_user_future_leak == 0
    assert report.test_users_unseen == 0
    assert report.n_test_users == ml_small.n_users
    # Per-user temporal is not global temporal: other users' later ratings sit in training.
    assert 0 < report.test_older_than_train_cut <= report.n_test
    # Items first rated late exist only in test; some such items must appear in 20k test rows.
    assert 0 < report.test_items_unseen <= report.n_test_items
