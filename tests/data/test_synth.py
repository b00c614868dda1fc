"""Synthetic MovieLens-format data: shape, scale, realism, round trip, and that models can learn from it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.synth import GENRES, synthesize, write_movielens
from movielens_lessons.errors import ConfigError

START, END = "2001-01-01", "2015-06-30"
T0 = int(np.datetime64(START, "s").astype(np.int64))
T1 = int(np.datetime64(END, "s").astype(np.int64))
HALF_STARS = {k / 2 for k in range(1, 11)}


@pytest.fixture(scope="module")
def small():
    return synthesize(300, 400, 6000, seed=3, start=START, end=END)


@pytest.fixture(scope="module")
def sparse():
    """MovieLens-like sparsity (1 %): 2000 users, 3000 movies, 60k ratings."""
    return synthesize(2000, 3000, 60_000, seed=11)


def test_same_seed_same_data_other_seed_other_data(small):
    again = synthesize(300, 400, 6000, seed=3, start=START, end=END)
    for name in ("ratings", "movies", "tags", "links"):
        pd.testing.assert_frame_equal(getattr(small, name), getattr(again, name))
    other = synthesize(300, 400, 6000, seed=4, start=START, end=END)
    assert not other.ratings.equals(small.ratings)


def test_exact_count_dtypes_and_no_duplicate_pairs(small):
    r = small.ratings
    assert list(r.columns) == [C.USER, C.ITEM, C.RATING, C.TIMESTAMP]
    assert len(r) == 6000
    assert [str(t) for t in r.dtypes] == ["int32", "int32", "float32", "int64"]
    assert not r.duplicated([C.USER, C.ITEM]).any()
    # Every user 1..N rates at least once; MovieLens order: by user, then movie.
    assert np.array_equal(np.unique(r[C.USER]), np.arange(1, 301))
    assert (np.diff(r[C.USER].to_numpy().astype(np.int64) * 10**6 + r[C.ITEM]) > 0).all()
    assert len(small.movies) == 400 and small.movies[C.ITEM].is_unique
    assert set(r[C.ITEM]) <= set(small.movies[C.ITEM])


def test_users_are_heavy_tailed_and_most_have_five(sparse):
    per_user = sparse.ratings.groupby(C.USER).size()
    assert per_user.min() >= 1
    assert (per_user >= 5).mean() > 0.8
    assert per_user.max() > 8 * per_user.median()


def test_full_matrix_and_capped_users_are_exact():
    full = synthesize(5, 4, 20, seed=0).ratings
    assert len(full) == 20 and full.groupby(C.USER).size().eq(4).all()
    near = synthesize(50, 10, 450, seed=1).ratings  # most users at the cap of 10
    assert len(near) == 450 and not near.duplicated([C.USER, C.ITEM]).any()
    assert near.groupby(C.USER).size().max() == 10


def test_half_star_scale_with_mode_at_four(small):
    rating = small.ratings[C.RATING]
    assert set(rating.unique()) <= HALF_STARS
    share = rating.value_counts(normalize=True)
    assert share.idxmax() == 4.0
    halves = share[[k for k in share.index if k % 1]].sum()
    assert 0.1 < halves < 0.45
    assert 3.2 < rating.mean() < 3.8


def test_popularity_is_power_law_like(sparse):
    per_item = np.sort(sparse.ratings[C.ITEM].value_counts().to_numpy())[::-1]
    top = per_item[: len(sparse.movies) // 10].sum() / len(sparse.ratings)
    assert top > 0.4
    # The ratings of the most popular movie dwarf the median one.
    assert per_item[0] > 20 * np.median(per_item)


def test_genres_titles_and_years(small):
    m = small.movies
    assert m[C.GENRES].map(len).between(1, 3).all()
    assert all(set(g) <= set(GENRES) and list(g) == sorted(g) for g in m[C.GENRES])
    assert len({g for gs in m[C.GENRES] for g in gs}) >= 15
    pattern = re.compile(r"^Synthetic Movie (\d+) \((\d{4})\)$")
    parsed = m[C.TITLE].str.extract(pattern)
    assert parsed.notna().all().all()
    assert (parsed[0].astype(int) == m[C.ITEM]).all()
    assert (parsed[1].astype(int) == m[C.YEAR].astype(int)).all()


def test_timestamps_within_range_and_after_release(small):
    r = small.ratings.merge(small.movies[[C.ITEM, C.YEAR]], on=C.ITEM)
    assert r[C.TIMESTAMP].between(T0, T1).all()
    rated_year = pd.to_datetime(r[C.TIMESTAMP], unit="s").dt.year
    assert (rated_year >= r[C.YEAR].astype(int)).all()
    # Users rate over windows, not uniformly over the whole range.
    span = small.ratings.groupby(C.USER)[C.TIMESTAMP].agg(lambda t: t.max() - t.min())
    assert span.median() < 0.25 * (T1 - T0)


def test_tags_and_links(small):
    tags, r = small.tags, small.ratings
    assert len(tags) > 0 and tags[C.TAG].str.len().gt(0).all()
    assert tags[C.USER].nunique() < 0.3 * r[C.USER].nunique()
    rated = set(zip(r[C.USER], r[C.ITEM], strict=True))
    assert all(pair in rated for pair in zip(tags[C.USER], tags[C.ITEM], strict=True))
    assert tags[C.TIMESTAMP].between(T0, T1).all()
    links = small.links
    assert links[C.IMDB_ID].str.fullmatch(r"\d{7}").all() and links[C.IMDB_ID].is_unique
    assert (links[C.IMDB_TCONST] == "tt" + links[C.IMDB_ID]).all()
    assert links[C.TMDB_ID].notna().all() and links[C.TMDB_ID].is_unique


@pytest.mark.parametrize(
    ("args", "kwargs", "fragment"),
    [
        ((10, 5, 51), {}, "more than users × items"),
        ((0, 5, 10), {}, "users must be a positive integer"),
        ((10, 5, -1), {}, "ratings must be a positive integer"),
        ((10, 5, 9), {}, "fewer than users"),
        ((10, 5, 20), {"start": "2010-01-01", "end": "2009-01-01"}, "must be after start"),
        ((10, 5, 20), {"end": "soon"}, "not a date"),
    ],
)
def test_impossible_requests_are_config_errors(args, kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        synthesize(*args, **kwargs)


def test_written_files_round_trip_in_movielens_format(small, tmp_path):
    out = write_movielens(small, tmp_path / "synth")
    lines = {name: (out / f"{name}.csv").read_text().splitlines() for name in
             ("ratings", "movies", "tags", "links")}  # fmt: skip
    assert lines["ratings"][0] == "userId,movieId,rating,timestamp"
    assert lines["movies"][0] == "movieId,title,genres"
    assert lines["tags"][0] == "userId,movieId,tag,timestamp"
    assert lines["links"][0] == "movieId,imdbId,tmdbId"
    assert re.fullmatch(r"\d+,\d+,[0-5]\.[05],\d+", lines["ratings"][1])
    assert len(lines["ratings"]) == len(small.ratings) + 1

    ratings = pd.read_csv(out / "ratings.csv")
    pd.testing.assert_frame_equal(ratings, small.ratings, check_dtype=False)
    movies = pd.read_csv(out / "movies.csv")
    assert (movies[C.GENRES].str.split("|") == small.movies[C.GENRES].map(list)).all()
    assert (movies[C.TITLE] == small.movies[C.TITLE]).all()
    links = pd.read_csv(out / "links.csv", dtype={C.IMDB_ID: str})
    assert (links[C.IMDB_ID] == small.links[C.IMDB_ID]).all()
    tags = pd.read_csv(out / "tags.csv")
    pd.testing.assert_frame_equal(tags, small.tags, check_dtype=False)


def test_written_files_load_with_the_library_readers(small, tmp_path):
    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.readers import read_links_csv, read_movies_csv, read_tags_csv

    out = write_movielens(small, tmp_path)
    ds = load_dataset(out / "ratings.csv")
    assert ds.n_interactions == len(small.ratings) and ds.n_duplicates_dropped == 0
    assert ds.n_users == 300
    pd.testing.assert_frame_equal(
        ds.to_frame().sort_values([C.USER, C.ITEM], ignore_index=True),
        small.ratings,
        check_dtype=False,
    )
    pd.testing.assert_frame_equal(read_movies_csv(out / "movies.csv"), small.movies)
    pd.testing.assert_frame_equal(read_links_csv(out / "links.csv"), small.links)
    pd.testing.assert_frame_equal(read_tags_csv(out / "tags.csv"), small.tags, check_dtype=False)


def _hit_rate(scores: np.ndarray, seen: sp.csr_matrix, users: np.ndarray, held: np.ndarray) -> float:
    """Share of ``users`` whose held-out item is in the top 10 of ``scores`` (seen items excluded)."""
    s = np.array(scores[users], dtype=np.float64)
    s[seen[users].toarray() > 0] = -np.inf
    top = np.argpartition(-s, 10, axis=1)[:, :10]
    return float((top == held[:, None]).any(axis=1).mean())


def test_item_knn_learns_real_signal_that_popularity_misses(sparse):
    """Leave one random rating out per user: item-item cosine kNN must clearly beat most-popular."""
    r = sparse.ratings
    u = r[C.USER].to_numpy() - 1
    i = np.searchsorted(sparse.movies[C.ITEM].to_numpy(), r[C.ITEM].to_numpy())
    n_users, n_items = 2000, 3000
    rng = np.random.default_rng(0)
    first = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])  # rows are sorted by user
    count = np.bincount(u, minlength=n_users)
    held_rows = (first + rng.random(n_users) * count).astype(np.int64)[count >= 2]
    train = np.ones(len(u), dtype=bool)
    train[held_rows] = False
    x = sp.csr_matrix((np.ones(train.sum()), (u[train], i[train])), shape=(n_users, n_items))

    popularity = np.asarray(x.sum(axis=0)).ravel()
    norm = sp.diags(1.0 / np.sqrt(np.maximum(popularity, 1.0)))
    similarity = (norm @ (x.T @ x) @ norm).tolil()
    similarity.setdiag(0.0)
    knn_scores = (x @ similarity.tocsr()).toarray()
    pop_scores = np.broadcast_to(popularity, (n_users, n_items))

    users, held = u[held_rows], i[held_rows]
    knn = _hit_rate(knn_scores, x, users, held)
    pop = _hit_rate(pop_scores, x, users, held)
    assert knn > pop + 0.05, (knn, pop)
    assert knn > 1.4 * pop, (knn, pop)
