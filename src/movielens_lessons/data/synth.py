"""Synthetic data in the MovieLens format, with a latent-factor structure that models can learn.

:func:`synthesize` draws users and items with factor vectors (``n_factors`` dimensions). Whether a user rates
an item and the rating given both depend on the dot product of the two vectors, on top of a Zipf-like item
popularity and a heavy-tailed number of ratings per user, so a matrix-factorisation or item-kNN model beats
most-popular on it. :func:`write_movielens` writes the four ``ml-latest-small`` CSV files.

This module decides the world (factors, popularity, ratings per user, release dates, activity windows)
and turns the chosen (user, movie) pairs into ratings, timestamps, genres and tags; which movies each user
rates (distinct, ∝ ``pop_i · exp(beta <p_u, q_i>)``) is drawn by
:func:`movielens_lessons.data.synth_sampling.sample_items`. 25 M ratings (162k users × 59k movies):
84 s to generate + 9 s to write, 1.6 GiB peak, on a busy 2-core machine (``benchmarks/bench_load.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers.titles import movies_frame
from movielens_lessons.data.synth_sampling import sample_items
from movielens_lessons.errors import ConfigError

#: The genres of MovieLens' ``movies.csv`` (alphabetical), without the ``(no genres listed)`` marker.
GENRES = (
    "Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)  # fmt: skip
# How often each genre appears in ml-latest-small: the base rate of the genre draw.
_GENRE_COUNTS = np.array(
    [1828, 1263, 611, 664, 3756, 1199, 440, 4361, 779, 87, 978, 158, 334, 573, 1596, 980, 1894, 382, 167],
    dtype=np.float64,
)
#: Share of each half star 0.5, 1.0, ..., 5.0 in ml-latest-small: mode at 4, half stars rarer.
RATING_SHARES = np.array([0.0136, 0.0279, 0.0178, 0.0749, 0.0550, 0.1988, 0.1303, 0.2660, 0.0848, 0.1310])
_GENRE_TAGS = (
    ("explosions", "car chase", "fight scenes"), ("epic", "journey", "treasure"),
    ("pixar", "hand-drawn", "anime"), ("family", "kids", "talking animals"),
    ("funny", "witty", "slapstick"), ("heist", "mafia", "police"), ("true story", "interviews", "nature"),
    ("tearjerker", "character study", "slow"), ("magic", "dragons", "fairy tale"),
    ("noir", "femme fatale", "black and white"), ("gore", "zombies", "jump scares"), ("imax", "3d", "spectacle"),
    ("songs", "broadway", "dance"), ("whodunit", "detective", "puzzle"), ("love story", "romcom", "wedding"),
    ("space", "aliens", "dystopia"), ("suspense", "twist ending", "tense"), ("wwii", "soldiers", "battle"),
    ("cowboys", "gunfight", "frontier"),
)  # fmt: skip
_GENERIC_TAGS = ("classic", "overrated", "atmospheric", "great soundtrack", "visually appealing", "quirky")

_ZIPF = 1.5  # item popularity ~ rank^-_ZIPF
_DAY = 86_400


def synthesize(
    n_users: int,
    n_items: int,
    n_ratings: int,
    *,
    seed: int = 0,
    n_factors: int = 8,
    start: str = "2000-01-01",
    end: str = "2020-01-01",
    progress: Callable[[int, int], None] | None = None,
) -> MovieLensData:
    """Synthetic MovieLens-format data with exactly ``n_ratings`` distinct (user, item) ratings.

    Every one of ``userId = 1 .. n_users`` rates at least one movie (so ``n_users <= n_ratings <=
    n_users * n_items``); ``movieId`` s are sparse like MovieLens' (``n_items`` distinct ids, some never
    rated). Ratings are half stars 0.5–5.0 with ml-latest-small's marginal distribution; timestamps are
    int64 seconds in ``[start, end]``, each user active over a window and rating a movie only after its
    release. Deterministic for a given ``seed``. ``progress(users_done, n_users)`` is called per chunk.
    """
    t0, t1 = check_config(n_users, n_items, n_ratings, n_factors, start, end)
    rng = np.random.default_rng(seed)
    scale = n_factors**-0.25  # so that <p, q> has unit variance
    p = (rng.standard_normal((n_users, n_factors)) * scale).astype(np.float32)
    q = (rng.standard_normal((n_items, n_factors)) * scale).astype(np.float32)
    rank = rng.permutation(n_items)  # popularity rank of each item, 0 = most popular
    log_pop = _zipf_log_weight(n_items)[rank]
    counts = _ratings_per_user(rng, n_users, n_items, n_ratings)

    movie_ids = np.sort(rng.choice(3 * n_items, size=n_items, replace=False)).astype(np.int32) + 1
    year_max = int(str(np.datetime64(t1, "s").astype("datetime64[Y]"))) - 1
    years = np.clip(year_max - rng.exponential(25.0, n_items).astype(np.int64), 1902, year_max)
    year_start = (np.array(years - 1970, dtype="datetime64[Y]").astype("datetime64[s]")).astype(np.int64)
    release = np.minimum(year_start + rng.integers(0, 364, n_items) * _DAY, t1 - _DAY)
    # Activity windows: most users rate over days or weeks, a few over years.
    length = np.maximum((t1 - t0) * rng.random(n_users) ** 6, 3600).astype(np.int64)
    win_start = t0 + ((t1 - t0 - length) * np.sqrt(rng.random(n_users))).astype(np.int64)
    win_end = win_start + length

    users, items, dots = sample_items(rng, p, q, log_pop, counts, release, win_end, progress)

    # Rating = biases + taste + noise, cut at the quantiles that give MovieLens' marginal distribution.
    user_bias = rng.normal(0.0, 0.5, n_users).astype(np.float32)
    item_bias = (rng.normal(0.0, 0.5, n_items) + 0.15 * (log_pop - log_pop.mean())).astype(np.float32)
    z = user_bias[users] + item_bias[items] + dots + rng.normal(0, 0.6, len(users)).astype(np.float32)
    del dots
    sample = z if len(z) <= 1_000_000 else z[rng.integers(0, len(z), 1_000_000)]
    cuts = np.quantile(sample, np.cumsum(RATING_SHARES)[:-1])
    stars = np.searchsorted(cuts, z).astype(np.float32)
    del z
    rating = (stars + 1.0) * np.float32(0.5)

    lo = np.maximum(win_start[users], release[items])
    hi = np.where(win_end[users] > lo, win_end[users], np.minimum(lo + 30 * _DAY, t1))
    ts = lo + ((hi - lo) * rng.random(len(users))).astype(np.int64)
    del lo, hi

    genre_sets = _genres(rng, q)
    ratings = pd.DataFrame(
        {C.USER: users + np.int32(1), C.ITEM: movie_ids[items], C.RATING: rating, C.TIMESTAMP: ts}
    )
    movies = movies_frame(
        movie_ids,
        [f"Synthetic Movie {m} ({y})" for m, y in zip(movie_ids.tolist(), years.tolist(), strict=True)],
        [[GENRES[g] for g in np.flatnonzero(row)] for row in genre_sets],
    )
    tags = _tags(rng, n_users, users, items, ts, genre_sets, movie_ids, t1)
    span = max(10_000_000, 2 * n_items)
    imdb = pd.Series(np.sort(rng.choice(span, n_items, replace=False)) + 1).astype(str).str.zfill(7)
    links = pd.DataFrame(
        {
            C.ITEM: movie_ids,
            C.IMDB_ID: imdb,
            C.IMDB_TCONST: "tt" + imdb,
            C.TMDB_ID: pd.array(rng.choice(span, n_items, replace=False) + 1, dtype="Int64"),
        }
    )
    return MovieLensData(
        name=f"synthetic-{seed}", path=None, ratings=ratings, movies=movies, tags=tags, links=links,
        users=None, rating_scale=(0.5, 5.0),
    )  # fmt: skip


def check_config(
    n_users: int, n_items: int, n_ratings: int, n_factors: int = 8, start: str = "2000-01-01",
    end: str = "2020-01-01",
) -> tuple[int, int]:
    """Raise :class:`ConfigError` for sizes or dates :func:`synthesize` cannot honour; return the
    ``(start, end)`` dates as epoch seconds."""
    for name, value in (("users", n_users), ("items", n_items), ("ratings", n_ratings),
                        ("factors", n_factors)):
        if int(value) != value or value <= 0:
            raise ConfigError(f"{name} must be a positive integer; got {value!r}")
    if n_ratings > n_users * n_items:
        raise ConfigError(
            f"ratings {n_ratings} is more than users × items = {n_users * n_items}; each user rates "
            "a movie at most once"
        )
    if n_ratings < n_users:
        raise ConfigError(
            f"ratings {n_ratings} is fewer than users {n_users}; every user rates at least once"
        )
    if n_users >= 2**31 - 1 or 3 * n_items >= 2**31 - 1:
        raise ConfigError("users and 3 × items must fit MovieLens' 32-bit ids")
    t0, t1 = _to_seconds(start, "start"), _to_seconds(end, "end")
    if t1 <= t0:
        raise ConfigError(f"end {end!r} must be after start {start!r}")
    return t0, t1


def _to_seconds(value: str, name: str) -> int:
    try:
        return int(np.datetime64(value, "s").astype(np.int64))
    except ValueError:
        raise ConfigError(f"{name} {value!r} is not a date; use YYYY-MM-DD") from None


def _ratings_per_user(rng: np.random.Generator, n_users: int, n_items: int, total: int) -> np.ndarray:
    """Heavy-tailed (log-normal) ratings per user, each in ``[1, n_items]``, summing to ``total``."""
    weight = rng.lognormal(0.0, 1.2, n_users)
    counts: np.ndarray = 1 + rng.multinomial(total - n_users, weight / weight.sum())
    # Users over the catalogue size give their excess to users with room, until none is left.
    for _ in range(100):
        excess = int(np.maximum(counts - n_items, 0).sum())
        if not excess:
            break
        counts = np.minimum(counts, n_items)
        room = (n_items - counts).astype(np.float64)
        counts = counts + rng.multinomial(excess, room / room.sum())
    else:  # pathological near-full matrices: fill the rest greedily
        excess = int(np.maximum(counts - n_items, 0).sum())
        counts = np.minimum(counts, n_items)
        room = n_items - counts
        before = np.cumsum(room) - room
        counts = counts + np.clip(excess - before, 0, room)
    return counts.astype(np.int64)


def _zipf_log_weight(n: int) -> np.ndarray:
    """Log popularity of ranks ``0 .. n-1``: the mass of density ``x^-_ZIPF`` on ``[k+1, k+2)``."""
    k = np.arange(1, n + 1, dtype=np.float64)
    if _ZIPF == 1.0:
        return np.log(np.log1p(1.0 / k))
    return np.log((k ** (1 - _ZIPF) - (k + 1) ** (1 - _ZIPF)) / (_ZIPF - 1))


def _genres(rng: np.random.Generator, q: np.ndarray) -> np.ndarray:
    """``(n_items, 19)`` bool: 1–3 genres per movie, driven by its factors and MovieLens' base rates."""
    n_items, d = q.shape
    genre_vec = rng.standard_normal((len(GENRES), d)) * d**-0.25
    logit = 2.0 * q @ genre_vec.T + np.log(_GENRE_COUNTS / _GENRE_COUNTS.sum())
    logit = logit + rng.gumbel(size=logit.shape)
    k = np.asarray(rng.choice(3, size=n_items, p=[0.4, 0.35, 0.25])) + 1
    rank = np.argsort(np.argsort(-logit, axis=1), axis=1)
    return rank < k[:, None]


def _tags(rng, n_users, users, items, ts, genre_sets, movie_ids, t1) -> pd.DataFrame:
    """Free-text tags by ~10 % of users on ~a quarter of their rated movies, words from the genres."""
    tagger = rng.random(n_users) < 0.1
    rows = np.flatnonzero(tagger[users] & (rng.random(len(users)) < 0.25))
    if not len(rows) and len(users):
        rows = np.array([0])
    it = items[rows]
    # A random genre of the movie: the argmax of noise restricted to its genres.
    genre = np.argmax(genre_sets[it] * rng.random((len(rows), len(GENRES))), axis=1)
    vocab = np.array(_GENRE_TAGS, dtype=object)
    words = vocab[genre, rng.integers(0, 3, len(rows))]
    generic = rng.random(len(rows)) < 0.4
    words[generic] = np.array(_GENERIC_TAGS, dtype=object)[rng.integers(0, 6, int(generic.sum()))]
    return pd.DataFrame(
        {
            C.USER: users[rows] + np.int32(1),
            C.ITEM: movie_ids[it],
            C.TAG: words.astype(str),
            C.TIMESTAMP: np.minimum(ts[rows] + rng.integers(0, 600, len(rows)), t1),
        }
    )


def write_movielens(
    data: MovieLensData, out_dir: str | Path, *, progress: Callable[[int, int], None] | None = None
) -> Path:
    """Write ``ratings.csv``, ``movies.csv``, ``tags.csv``, ``links.csv`` as in ml-latest-small.

    The ratings file (the big one) is written by pyarrow in batches; ``progress(rows_done, n_rows)`` is
    called after each. Returns ``out_dir``.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    r = data.ratings
    half = np.rint(r[C.RATING].to_numpy(np.float64) * 2).astype(np.int64)
    if len(half) and (half.min() < 1 or half.max() > 10):
        raise ConfigError("ratings must be half stars in 0.5..5.0 to be written in MovieLens format")
    # Ratings as a dictionary of their MovieLens spelling ("4.0", not "4"), written unquoted.
    labels = pa.array([f"{k / 2:.1f}" for k in range(1, 11)])
    table = pa.table(
        {
            C.USER: pa.array(r[C.USER].to_numpy(np.int64)),
            C.ITEM: pa.array(r[C.ITEM].to_numpy(np.int64)),
            C.RATING: pa.DictionaryArray.from_arrays(pa.array((half - 1).astype(np.int8)), labels),
            C.TIMESTAMP: pa.array(r[C.TIMESTAMP].to_numpy(np.int64)),
        }
    )
    options = pcsv.WriteOptions(include_header=False, quoting_style="none")
    with open(out / "ratings.csv", "wb") as fh:
        fh.write((",".join(C.RATINGS_COLUMNS) + "\n").encode())
        with pcsv.CSVWriter(fh, table.schema, write_options=options) as writer:
            step = 1_000_000
            for s in range(0, max(len(table), 1), step):
                writer.write_table(table.slice(s, step))
                if progress is not None:
                    progress(min(s + step, len(table)), len(table))
    _write_small(data.movies, (C.ITEM, C.TITLE, C.GENRES), out / "movies.csv")
    _write_small(data.tags, (C.USER, C.ITEM, C.TAG, C.TIMESTAMP), out / "tags.csv")
    _write_small(data.links, (C.ITEM, C.IMDB_ID, C.TMDB_ID), out / "links.csv")
    return out


def _write_small(frame: pd.DataFrame | None, cols: tuple[str, ...], path: Path) -> None:
    """A small file with pandas: RFC-4180 minimal quoting, ``\n`` line ends, genres pipe-joined."""
    frame = pd.DataFrame(columns=list(cols)) if frame is None else frame[list(cols)].copy()
    if C.GENRES in frame.columns:
        frame[C.GENRES] = [
            g if isinstance(g, str) else ("|".join(g) if len(g) else C.NO_GENRES)
            for g in frame[C.GENRES]
        ]
    frame.to_csv(path, index=False, lineterminator="\n")
