"""User features: activity, rating habits, genre taste, time — hand-worked, independent, leak-free."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.features import user_features

DAY = 86_400


@pytest.fixture
def movies() -> pd.DataFrame:
    return pd.DataFrame(
        {
            C.ITEM: np.array([1, 2, 3, 4], dtype=np.int32),
            C.TITLE: ["A", "B", "C", "D"],
            C.YEAR: pd.array([1995, 1995, 2000, 2001], dtype="Int16"),
            C.GENRES: [["Comedy"], ["Comedy", "Drama"], ["Drama"], []],
        }
    )


@pytest.fixture
def ds(movies: pd.DataFrame) -> Dataset:
    """User 1: 5, 4, 2 stars over two days; user 2: one rating; user 3 only rates after day 10."""
    rows = [(1, 1, 5.0, 0), (1, 2, 4.0, DAY), (1, 3, 2.0, 2 * DAY), (2, 3, 4.5, DAY // 2),
            (3, 1, 1.0, 11 * DAY), (3, 4, 3.0, 12 * DAY)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(C.RATINGS_COLUMNS))
    return Dataset.from_frame(frame, movies=movies)


def test_activity_and_rating_habits(ds: Dataset) -> None:
    f = user_features(ds, as_of=10 * DAY)
    assert f.index.tolist() == [0, 1, 2] and f.index.name == "user"
    assert f["n_ratings"].tolist() == [3, 1, 0]
    assert f["log_count"].to_numpy() == pytest.approx(np.log1p([3, 1, 0]))
    assert f.loc[0, "mean_rating"] == pytest.approx(11 / 3)
    assert f.loc[0, "rating_std"] == pytest.approx(np.std([5, 4, 2], ddof=1))
    assert np.isnan(f.loc[1, "rating_std"])  # one rating: no spread to measure
    assert f.loc[2, ["mean_rating", "rating_std", "positive_share", "recency_days"]].isna().all()
    assert f.loc[0, "positive_share"] == pytest.approx(2 / 3)  # 5 and 4 are ≥ 4.0


def test_genre_affinity_and_centred_rating(ds: Dataset) -> None:
    f = user_features(ds, as_of=10 * DAY)
    # User 1's positives: movie 1 (Comedy) and movie 2 (Comedy, Drama).
    assert f.loc[0, "affinity_comedy"] == pytest.approx(1.0)
    assert f.loc[0, "affinity_drama"] == pytest.approx(0.5)
    # Centred on the user's mean 11/3: comedy (5, 4) → +5/6; drama (4, 2) → -2/3.
    assert f.loc[0, "centred_comedy"] == pytest.approx((5 + 4) / 2 - 11 / 3)
    assert f.loc[0, "centred_drama"] == pytest.approx((4 + 2) / 2 - 11 / 3)
    assert f.loc[1, "affinity_drama"] == 1.0 and f.loc[1, "affinity_comedy"] == 0.0
    assert np.isnan(f.loc[1, "centred_comedy"]) and f.loc[1, "centred_drama"] == 0.0
    strict = user_features(ds, as_of=10 * DAY, positive_threshold=5.0)
    assert strict.loc[0, "affinity_drama"] == 0.0 and strict.loc[0, "positive_share"] == 1 / 3


def test_recency_and_tenure_in_days(ds: Dataset) -> None:
    f = user_features(ds, as_of=10 * DAY)
    assert f.loc[0, "recency_days"] == pytest.approx(8.0) and f.loc[0, "tenure_days"] == 2.0
    assert f.loc[1, "recency_days"] == pytest.approx(9.5) and f.loc[1, "tenure_days"] == 0.0
    latest = user_features(ds)  # as_of defaults to the last timestamp, day 12
    assert latest.loc[2, "recency_days"] == 0.0 and latest.loc[2, "tenure_days"] == 1.0
    assert latest.loc[0, "recency_days"] == pytest.approx(10.0)


def test_dataset_threshold_is_the_default(ds: Dataset) -> None:
    f = user_features(ds.with_positive_threshold(4.5), as_of=10 * DAY)
    assert f.loc[0, "positive_share"] == pytest.approx(1 / 3)


def test_implicit_data_counts_every_interaction_as_positive(ds: Dataset) -> None:
    frame = ds.to_frame().drop(columns=[C.RATING])
    implicit = Dataset.from_frame(frame, movies=ds.movies)
    f = user_features(implicit, as_of=10 * DAY)
    assert np.isnan(f.loc[0, "mean_rating"]) and f.loc[0, "positive_share"] == 1.0
    assert f.loc[0, "affinity_drama"] == pytest.approx(2 / 3)
    assert not [c for c in f.columns if c.startswith("centred_")]


def test_as_of_needs_timestamps(ds: Dataset) -> None:
    untimed = Dataset.from_frame(ds.to_frame().drop(columns=[C.TIMESTAMP]), movies=ds.movies)
    with pytest.raises(ConfigError, match="timestamps"):
        user_features(untimed, as_of=DAY)
    assert user_features(untimed)["recency_days"].isna().all()


# --- leakage -------------------------------------------------------------------------------------


def _assert_no_leak(full: Dataset, end: int) -> None:
    frame = full.to_frame()
    window = frame[frame[C.TIMESTAMP] <= end]
    for maps in ({"user_ids": full.user_ids, "item_ids": full.item_ids}, {}):
        train = Dataset.from_frame(window, movies=full.movies, **maps)
        on_train = user_features(train)
        on_full = user_features(full, as_of=int(train.timestamps.max()))
        aligned = on_full.iloc[full.user_index(train.user_ids)].set_axis(on_train.index)
        pd.testing.assert_frame_equal(on_train, aligned)
    # The comparison is sensitive: without as_of the later interactions do change the features.
    full_maps = Dataset.from_frame(window, movies=full.movies, user_ids=full.user_ids)
    assert not user_features(full).equals(user_features(full_maps))


def test_no_leakage_on_hand_made_data(ds: Dataset) -> None:
    _assert_no_leak(ds, 10 * DAY)


@pytest.mark.realdata
def test_no_leakage_on_ml_latest_small(ml_small: Dataset) -> None:
    end = int(np.sort(ml_small.timestamps)[int(0.8 * ml_small.n_interactions)])
    _assert_no_leak(ml_small, end)


@pytest.mark.realdata
def test_real_values_match_pandas(ml_small: Dataset) -> None:
    f = user_features(ml_small)
    frame = ml_small.to_frame()
    stats = frame.groupby(C.USER)[C.RATING].agg(["size", "mean", "std"]).reindex(ml_small.user_ids)
    assert f["n_ratings"].to_numpy() == pytest.approx(stats["size"].to_numpy())
    assert f["mean_rating"].to_numpy() == pytest.approx(stats["mean"].to_numpy(), rel=1e-5)
    assert f["rating_std"].to_numpy() == pytest.approx(stats["std"].to_numpy(), rel=1e-4)
    # Genre taste by explode/groupby: share of each user's ≥ 4 ratings that are dramas.
    genres = ml_small.movies.set_index(C.ITEM)[C.GENRES]
    pos = frame[frame[C.RATING] >= 4.0]
    is_drama = pos[C.ITEM].map(lambda m: "Drama" in genres[m])
    share = is_drama.groupby(pos[C.USER]).mean().reindex(ml_small.user_ids)
    assert f["affinity_drama"].to_numpy() == pytest.approx(share.to_numpy(), rel=1e-5, nan_ok=True)
    last = frame.groupby(C.USER)[C.TIMESTAMP].max().reindex(ml_small.user_ids)
    expected = (frame[C.TIMESTAMP].max() - last.to_numpy()) / DAY
    assert f["recency_days"].to_numpy() == pytest.approx(expected, rel=1e-5, abs=1e-3)
