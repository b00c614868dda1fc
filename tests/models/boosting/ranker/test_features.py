"""Ranker features: the time-aware pair columns against a brute-force reference, table round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.boosting.ranker.candidates import Candidates
from movielens_lessons.models.boosting.ranker.features import (
    ITEM_COLUMNS,
    PAIR_COLUMNS,
    SECONDS_PER_DAY,
    FeatureTables,
    feature_names,
    feature_tables,
    pair_features,
)

DAY = int(SECONDS_PER_DAY)


@pytest.fixture(scope="module")
def timed() -> Dataset:
    """40 users × 30 items over ~3 years, users active in short bursts at different times."""
    rng = np.random.default_rng(5)
    rows = []
    for u in range(1, 41):
        start = int(rng.integers(0, 1000)) * DAY + 10**9
        for i in rng.choice(30, size=int(rng.integers(3, 15)), replace=False):
            rows.append((u, int(i) + 1, 4.0, start + int(rng.integers(0, 60 * DAY))))
    frame = pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.RATING, C.TIMESTAMP])
    return Dataset.from_frame(frame, name="timed")


def _brute_force(ds: Dataset, u: int, i: int, w: int) -> list[float]:
    ts = ds.timestamps.astype(np.int64)
    mine = ts[ds.users == u]
    first_u, last_u = mine.min(), mine.max()
    item_ts = ts[ds.items == i]
    in_span = ((item_ts >= first_u - w) & (item_ts <= last_u + w)).sum()
    days = ts // DAY
    total_span = ((days >= (first_u - w) // DAY) & (days <= (last_u + w) // DAY)).sum()
    lift = np.log((in_span + 1) / (total_span + 1)) - np.log((len(item_ts) + 1) / (len(ts) + 1))
    last = ((item_ts >= last_u - w) & (item_ts <= last_u)).sum()
    first_after = (item_ts.min() - last_u) / SECONDS_PER_DAY if len(item_ts) else np.nan
    return [first_after, np.log1p(in_span), lift, np.log1p(last)]


def _all_pairs(ds: Dataset) -> tuple[np.ndarray, Candidates]:
    users = np.arange(ds.n_users)
    rows, items = np.divmod(np.arange(ds.n_users * ds.n_items), ds.n_items)
    zeros = np.zeros((len(rows), 1), np.float32)
    best = np.ones((ds.n_users, 1), np.float32)
    return users, Candidates(rows, items, zeros, zeros + 1, best)


@pytest.mark.parametrize("recent_days", [10.0, 90.0])
def test_time_pair_features_match_brute_force(timed: Dataset, recent_days: float) -> None:
    tables = feature_tables(timed, recent_days)
    users, cand = _all_pairs(timed)
    x = pair_features(tables, users, cand)
    names = feature_names(["r"])
    cols = [names.index(n) for n in PAIR_COLUMNS[3:]]
    w = int(recent_days * SECONDS_PER_DAY)
    expected = np.array(
        [_brute_force(timed, u, i, w) for u, i in zip(users[cand.rows], cand.items, strict=True)]
    )
    np.testing.assert_allclose(x[:, cols], expected, rtol=1e-5, atol=1e-4)
    # the windows really differ between users: otherwise the check above would prove little
    assert len(np.unique(x[:, cols[1]])) >= 5 and len(np.unique(x[:, cols[2]])) > 50


def test_an_item_first_seen_after_the_user_left_is_positive(timed: Dataset) -> None:
    tables = feature_tables(timed)
    users, cand = _all_pairs(timed)
    x = pair_features(tables, users, cand)
    after = x[:, feature_names(["r"]).index("item_first_after_user_last_days")]
    assert (after > 0).any() and (after < 0).any()


def test_tables_round_trip_through_arrays(timed: Dataset) -> None:
    tables = feature_tables(timed, 30.0)
    back = FeatureTables.from_arrays(tables.arrays("t_"), "t_")
    users, cand = _all_pairs(timed)
    np.testing.assert_array_equal(
        pair_features(back, users, cand), pair_features(tables, users, cand)
    )
    assert back.window_seconds == 30 * DAY and back.first_day == tables.first_day


def test_no_timestamps_gives_unknown_time_features() -> None:
    frame = pd.DataFrame({C.USER: [1, 1, 2], C.ITEM: [1, 2, 2], C.RATING: [4.0, 3.0, 5.0]})
    ds = Dataset.from_frame(frame, name="untimed")
    users, cand = _all_pairs(ds)
    x = pair_features(feature_tables(ds), users, cand)
    cols = [feature_names(["r"]).index(n) for n in PAIR_COLUMNS[3:]]
    assert np.isnan(x[:, cols]).all()


def test_imdb_fields_are_features_when_the_movies_carry_them(timed: Dataset) -> None:
    items = timed.item_ids
    plain = pd.DataFrame({C.ITEM: items, C.TITLE: "x", C.GENRES: [["Drama"]] * len(items)})
    imdb = plain.assign(
        **{C.IMDB_RUNTIME: 100.0, C.IMDB_RATING: items / 10.0, C.IMDB_VOTES: items * 100.0}
    )
    imdb.loc[0, C.IMDB_RATING] = np.nan  # a movie IMDb does not know stays unknown
    cols = [ITEM_COLUMNS.index("item_imdb_rating"), ITEM_COLUMNS.index("item_imdb_log_votes")]
    with_imdb = feature_tables(Dataset.from_frame(timed.to_frame(), movies=imdb)).item[:, cols]
    np.testing.assert_allclose(with_imdb[1:, 0], items[1:] / 10.0, rtol=1e-6)
    assert np.isnan(with_imdb[0, 0])
    np.testing.assert_allclose(with_imdb[:, 1], np.log10(1 + items * 100.0), rtol=1e-6)
    without = feature_tables(Dataset.from_frame(timed.to_frame(), movies=plain)).item[:, cols]
    assert np.isnan(without).all()
