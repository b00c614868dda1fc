"""Item features: values against hand-worked and independent computations, and no leakage past ``as_of``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.features import item_feature_matrix, item_features, window_mask

CUTOFF = 300  # seconds: the end of the training window in the hand-made data


def test_one_row_per_item_in_id_order(ds: Dataset) -> None:
    f = item_features(ds)
    assert len(f) == ds.n_items and f.index.tolist() == list(range(ds.n_items))
    assert f.index.name == "item"


def test_popularity_and_mean_count_only_the_window(ds: Dataset, ratings: pd.DataFrame) -> None:
    f = item_features(ds, as_of=CUTOFF)
    window = ratings[ratings[C.TIMESTAMP] <= CUTOFF]
    counts = window.groupby(C.ITEM)[C.RATING].agg(["size", "mean"])
    for movie_id in ds.item_ids:
        row = f.loc[ds.item_index([movie_id])[0]]
        if movie_id in counts.index:
            assert row["n_ratings"] == counts.loc[movie_id, "size"]
            assert row["mean_rating"] == pytest.approx(counts.loc[movie_id, "mean"])
        else:  # movies 4 and 5: no rating up to the cutoff
            assert row["n_ratings"] == 0 and np.isnan(row["mean_rating"])
    assert f["log_popularity"].to_numpy() == pytest.approx(np.log1p(f["n_ratings"].to_numpy()))
    # Damped mean of movie 1 (ratings 4 and 5; window mean 18/5 = 3.6): (9 + 5 * 3.6) / (2 + 5).
    assert f.loc[0, "mean_rating_damped"] == pytest.approx((9 + 5 * 3.6) / 7)
    assert f.loc[4, "mean_rating_damped"] == pytest.approx(3.6)  # unrated: the window mean
    # First rating of movie 1 at t=100, 200 s before the cutoff.
    assert f.loc[0, "days_since_first_rating"] == pytest.approx(200 / 86_400)


def test_top_tags_normalised_ranked_and_windowed(ds: Dataset) -> None:
    f = item_features(ds, as_of=CUTOFF, top_tags=3)
    # In the window: classic on 2 movies (one outside the id map), sci_fi on 2, pixar on 1 (twice),
    # heist on 1 (once); 'future' and the later 'heist' come after the cutoff.
    assert [c for c in f.columns if c.startswith("tag_")] == [
        "tag_classic",
        "tag_sci_fi",
        "tag_pixar",
    ]
    assert f["tag_classic"].tolist() == [0, 0, 1, 0, 0]
    assert f["tag_sci_fi"].tolist() == [0, 1, 1, 0, 0]
    assert f["tag_pixar"].tolist() == [1, 0, 0, 0, 0]
    later = item_features(ds, top_tags=10)  # default as_of: the last rating (t=1100)
    assert later["tag_future"].tolist() == [0, 0, 0, 1, 1]
    assert later["tag_heist"].tolist() == [0, 1, 0, 1, 0]
    assert not [c for c in item_features(ds, top_tags=0).columns if c.startswith("tag_")]


def test_feature_matrix_matches_the_frame(ds: Dataset) -> None:
    raw, names = item_feature_matrix(ds, as_of=CUTOFF, top_tags=3, normalize=False)
    assert raw.shape == (ds.n_items, len(names)) and raw.dtype == np.float32
    assert names[: ds.n_items].tolist() == [f"item:{i}" for i in ds.item_ids]
    dense = pd.DataFrame(raw.toarray(), columns=names)
    frame = item_features(ds, as_of=CUTOFF, top_tags=3)
    assert dense["genre:Sci-Fi"].tolist() == frame["genre_sci_fi"].tolist()
    assert dense["tag:classic"].tolist() == frame["tag_classic"].tolist()
    assert dense["decade:1990"].tolist() == [1, 1, 0, 0, 0]
    assert dense.iloc[3].sum() == 1  # no genre, no year, no tag: only its identity feature
    norm, _ = item_feature_matrix(ds, as_of=CUTOFF, top_tags=3)
    assert np.asarray(norm.sum(axis=1)).ravel() == pytest.approx(np.ones(ds.n_items))
    bare, bare_names = item_feature_matrix(ds, identity=False, top_tags=0)
    assert not any(n.startswith("item:") for n in bare_names) and bare.shape[0] == ds.n_items


def test_as_of_accepts_a_datetime(ds: Dataset) -> None:
    when = dt.datetime.fromtimestamp(CUTOFF, tz=dt.UTC)
    pd.testing.assert_frame_equal(item_features(ds, as_of=when), item_features(ds, as_of=CUTOFF))
    naive = dt.datetime(1970, 1, 1, 0, 5)  # naive datetimes are UTC: 300 s
    pd.testing.assert_frame_equal(item_features(ds, as_of=naive), item_features(ds, as_of=CUTOFF))


def test_as_of_without_timestamps_is_a_clear_error(ratings: pd.DataFrame) -> None:
    ds = Dataset.from_frame(ratings.drop(columns=[C.TIMESTAMP]))
    with pytest.raises(ConfigError, match="timestamps"):
        window_mask(ds, CUTOFF)
    assert item_features(ds)["n_ratings"].sum() == len(ratings)  # no window: everything


# --- leakage -------------------------------------------------------------------------------------


def _train_only(full: Dataset, end: int, *, same_id_maps: bool) -> Dataset:
    """The data as it was at ``end``: interactions and tags up to then, nothing later."""
    frame = full.to_frame()
    tags = full.tags[full.tags[C.TIMESTAMP] <= end] if full.tags is not None else None
    maps = {"user_ids": full.user_ids, "item_ids": full.item_ids} if same_id_maps else {}
    return Dataset.from_frame(
        frame[frame[C.TIMESTAMP] <= end], movies=full.movies, tags=tags, links=full.links, **maps
    )


def _assert_no_leak(full: Dataset, end: int, **kwargs: object) -> None:
    for same in (True, False):
        train = _train_only(full, end, same_id_maps=same)
        on_train = item_features(train, **kwargs)
        # The later data is there, but as_of = the end of the training window hides it.
        on_full = item_features(full, as_of=int(train.timestamps.max()), **kwargs)
        rows = full.item_index(train.item_ids)
        aligned = on_full.iloc[rows].set_axis(on_train.index)
        pd.testing.assert_frame_equal(on_train, aligned)
    # ... and the test can fail: without as_of, the later interactions and tags change the features.
    assert not item_features(full, **kwargs).equals(
        item_features(_train_only(full, end, same_id_maps=True), **kwargs)
    )


def test_no_leakage_on_hand_made_data(ds: Dataset) -> None:
    _assert_no_leak(ds, CUTOFF, top_tags=3)


@pytest.mark.realdata
def test_no_leakage_on_ml_latest_small(ml_small: Dataset) -> None:
    end = int(np.sort(ml_small.timestamps)[int(0.8 * ml_small.n_interactions)])
    _assert_no_leak(ml_small, end, top_tags=20)


@pytest.mark.realdata
def test_real_popularity_matches_pandas(ml_small: Dataset) -> None:
    f = item_features(ml_small)
    frame = ml_small.to_frame()
    stats = frame.groupby(C.ITEM)[C.RATING].agg(["size", "mean"]).reindex(ml_small.item_ids)
    assert f["n_ratings"].to_numpy() == pytest.approx(stats["size"].to_numpy())
    assert f["mean_rating"].to_numpy() == pytest.approx(stats["mean"].to_numpy(), rel=1e-5)
    assert (f.filter(like="genre_").sum(axis=1) == 0).sum() == sum(
        len(g) == 0 for g in ml_small.movies.set_index(C.ITEM).loc[ml_small.item_ids, C.GENRES]
    )
    assert len([c for c in f.columns if c.startswith("tag_")]) == 20
