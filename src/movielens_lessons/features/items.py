"""Item features for hybrid and tabular models (LightFM, XGBoost), computed from a training window only.

Two kinds of input go in. *Catalogue metadata* (MovieLens genres and year, IMDb runtime, rating and votes)
describes a movie, not anyone's behaviour, so it is used whole. *Behaviour* (how often and how well a movie
was rated, which tags users gave it) is counted only up to ``as_of``: a feature that peeks at the test
period makes offline metrics look better than anything a deployed model could do. IMDb's rating and votes
are today's values — a mild leak for old splits, which the lessons discuss; leave ``imdb`` out to avoid it.
The catalogue columns come from :mod:`movielens_lessons.features.catalogue`.
"""

from __future__ import annotations

import re
from datetime import datetime

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.features.catalogue import (
    genre_matrix,
    genre_vocabulary,
    imdb_features,
    movie_meta,
)

AsOf = int | float | datetime | pd.Timestamp | None

SECONDS_PER_DAY = 86_400
#: Pseudo-count of the damped mean: an item with ``n`` ratings is pulled ``DAMPING / (n + DAMPING)``
#: of the way to the window's global mean, so one 5-star rating does not make a masterpiece.
DAMPING = 5.0


# --- the training window -------------------------------------------------------------------------


def as_of_seconds(dataset: Dataset, as_of: AsOf = None) -> int | None:
    """``as_of`` in seconds since the epoch (UTC); by default the dataset's last timestamp.

    ``None`` when the dataset has no timestamps and no ``as_of`` was given.
    """
    if as_of is None:
        ts = dataset.timestamps
        return None if ts is None or not len(ts) else int(ts.max())
    if isinstance(as_of, datetime | pd.Timestamp):
        stamp = pd.Timestamp(as_of)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return int(stamp.timestamp())
    return int(as_of)


def window_mask(dataset: Dataset, as_of: AsOf = None) -> np.ndarray:
    """Which interactions are in the training window (timestamp ≤ ``as_of``), shape ``(n_interactions,)``."""
    if as_of is None:
        return np.ones(dataset.n_interactions, dtype=bool)
    if dataset.timestamps is None:
        raise ConfigError("as_of needs timestamps; this dataset has none")
    return dataset.timestamps <= as_of_seconds(dataset, as_of)


def slug(name: str) -> str:
    """A column-safe key: ``"Sci-Fi"`` → ``"sci_fi"``, ``"  Dark  comedy"`` → ``"dark_comedy"``."""
    return re.sub(r"\W+", "_", name.casefold()).strip("_")


# --- behaviour in the window ---------------------------------------------------------------------


def window_tags(dataset: Dataset, as_of: AsOf = None) -> pd.DataFrame:
    """Tags applied up to ``as_of``: ``item`` (internal id, -1 outside the id map), ``key`` (slug)."""
    tags = dataset.tags
    if tags is None or not len(tags):
        empty = {"item": np.empty(0, np.int32), C.ITEM: np.empty(0, np.int64)}
        return pd.DataFrame({**empty, "key": np.empty(0, object)})
    cutoff = as_of_seconds(dataset, as_of)
    if cutoff is not None and C.TIMESTAMP in tags.columns:
        tags = tags[tags[C.TIMESTAMP].to_numpy() <= cutoff]
    items = dataset.item_index(tags[C.ITEM].to_numpy())
    keys = np.array([slug(str(t)) for t in tags[C.TAG]], dtype=object)
    keep = keys != ""
    return pd.DataFrame(
        {"item": items[keep], C.ITEM: tags[C.ITEM].to_numpy()[keep], "key": keys[keep]}
    )


def top_tag_keys(tags: pd.DataFrame, n: int) -> list[str]:
    """The ``n`` tags on the most distinct movies (ties: more applications, then alphabetical).

    Ranked over every tag in the window, also on movies outside the id map, so that the choice does
    not depend on which movies happen to have interactions.
    """
    if n <= 0 or not len(tags):
        return []
    stats = tags.groupby("key").agg(items=(C.ITEM, "nunique"), uses=(C.ITEM, "size")).reset_index()
    stats = stats.sort_values(["items", "uses", "key"], ascending=[False, False, True])
    return stats["key"].head(n).tolist()


def _popularity(dataset: Dataset, mask: np.ndarray, as_of: int | None) -> dict[str, np.ndarray]:
    n = dataset.n_items
    items = dataset.items[mask]
    count = np.bincount(items, minlength=n)
    out: dict[str, np.ndarray] = {
        "n_ratings": count.astype(np.int32),
        "log_popularity": np.log1p(count).astype(np.float32),
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        if dataset.ratings is not None:
            ratings = dataset.ratings[mask].astype(np.float64)
            total = np.bincount(items, weights=ratings, minlength=n)
            glob = ratings.mean() if len(ratings) else np.nan
            out["mean_rating"] = np.where(count > 0, total / count, np.nan).astype(np.float32)
            damped = (total + DAMPING * glob) / (count + DAMPING)
            out["mean_rating_damped"] = damped.astype(np.float32)
        else:
            out["mean_rating"] = out["mean_rating_damped"] = np.full(n, np.nan, np.float32)
        first = np.full(n, np.nan)
        if dataset.timestamps is not None and as_of is not None and len(items):
            ts = dataset.timestamps[mask]
            earliest = np.full(n, np.iinfo(np.int64).max)
            np.minimum.at(earliest, items, ts)
            first = np.where(count > 0, (as_of - earliest) / SECONDS_PER_DAY, np.nan)
        out["days_since_first_rating"] = first.astype(np.float32)
    return out


# --- public API ----------------------------------------------------------------------------------


def item_features(
    dataset: Dataset,
    *,
    imdb: pd.DataFrame | None = None,
    top_tags: int = 20,
    as_of: AsOf = None,
) -> pd.DataFrame:
    """One row per internal item id (``0 .. n_items-1``), features known at ``as_of``.

    Columns: ``genre_<slug>`` (0/1 per catalogue genre), ``year``, ``decade`` (float, NaN if unknown),
    ``n_ratings``, ``log_popularity`` (``log(1 + n)``), ``mean_rating`` (NaN without ratings),
    ``mean_rating_damped`` (toward the window mean, :data:`DAMPING`), ``days_since_first_rating``;
    with ``imdb`` (an ``enrich_items`` frame) ``imdb_runtime`` (minutes), ``imdb_rating``,
    ``imdb_rating_bucket``, ``imdb_log_votes`` (log10), ``imdb_votes_bucket``; then ``tag_<slug>`` (0/1)
    for the ``top_tags`` tags applied to the most items up to ``as_of``. ``as_of`` (seconds, or a datetime
    taken as UTC) defaults to the dataset's last timestamp; later interactions and tags are ignored.
    """
    cutoff = as_of_seconds(dataset, as_of)
    mask = window_mask(dataset, as_of)
    meta = movie_meta(dataset)
    cols: dict[str, np.ndarray] = {}
    genres = genre_vocabulary(dataset)
    dense = genre_matrix(dataset, genres).toarray().astype(np.uint8)
    for j, g in enumerate(genres):
        cols[f"genre_{slug(g)}"] = dense[:, j]
    if C.YEAR in meta.columns:
        year = pd.to_numeric(meta[C.YEAR], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    else:
        year = np.full(dataset.n_items, np.nan)
    cols["year"] = year.astype(np.float32)
    cols["decade"] = (np.floor(year / 10) * 10).astype(np.float32)
    cols.update(_popularity(dataset, mask, cutoff))
    if imdb is not None:
        cols.update(imdb_features(dataset, imdb))
    tags = window_tags(dataset, as_of)
    for key in top_tag_keys(tags, top_tags):
        hot = np.zeros(dataset.n_items, dtype=np.uint8)
        tagged = tags.loc[tags["key"] == key, "item"].to_numpy()
        hot[tagged[tagged >= 0]] = 1
        cols[f"tag_{key}"] = hot
    frame = pd.DataFrame(cols, index=pd.RangeIndex(dataset.n_items, name="item"))
    return frame


def item_feature_matrix(
    dataset: Dataset,
    *,
    imdb: pd.DataFrame | None = None,
    top_tags: int = 20,
    as_of: AsOf = None,
    identity: bool = True,
    normalize: bool = True,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """``(F, names)`` for LightFM: item × feature CSR (float32, ``(n_items, n_features)``) and names.

    Columns: ``item:<movieId>`` (if ``identity``), ``genre:<name>``, ``decade:<1990>``, ``tag:<slug>``,
    and with ``imdb`` ``imdb_rating:<bucket>`` and ``imdb_votes:<bucket>`` — the categorical columns of
    :func:`item_features` one-hot encoded (same names as ``models.lightfm_model``). ``normalize`` scales
    each row to sum 1, as ``lightfm.data.Dataset`` does.
    """
    feats = item_features(dataset, imdb=imdb, top_tags=top_tags, as_of=as_of)
    n = dataset.n_items
    blocks: list[sp.csr_matrix] = []
    names: list[str] = []
    if identity:
        blocks.append(sp.identity(n, dtype=np.float32, format="csr"))
        names += [f"item:{i}" for i in dataset.item_ids.tolist()]
    genres = genre_vocabulary(dataset)
    blocks.append(genre_matrix(dataset, genres))
    names += [f"genre:{g}" for g in genres]
    for column, prefix in (
        ("decade", "decade"),
        ("imdb_rating_bucket", "imdb_rating"),
        ("imdb_votes_bucket", "imdb_votes"),
    ):
        if column in feats.columns:
            block, labels = _one_hot(feats[column].to_numpy())
            blocks.append(block)
            names += [f"{prefix}:{label}" for label in labels]
    tag_cols = [c for c in feats.columns if c.startswith("tag_")]
    blocks.append(sp.csr_matrix(feats[tag_cols].to_numpy(np.float32)))
    names += [f"tag:{c.removeprefix('tag_')}" for c in tag_cols]
    f = sp.hstack(blocks, format="csr", dtype=np.float32)
    if normalize:
        sums = np.asarray(f.sum(axis=1)).ravel()
        f = (sp.diags(np.where(sums > 0, 1.0 / np.maximum(sums, 1e-12), 0.0)) @ f).tocsr()
    f = f.astype(np.float32)
    f.sort_indices()
    return f, np.array(names)


def _one_hot(values: np.ndarray) -> tuple[sp.csr_matrix, list[int]]:
    """One-hot CSR of a float column (NaN → no column set) and the integer label of each column."""
    finite = np.isfinite(values)
    labels = sorted({int(v) for v in values[finite]})
    col = {v: j for j, v in enumerate(labels)}
    rows = np.flatnonzero(finite)
    cols = np.array([col[int(v)] for v in values[finite]], dtype=np.int64)
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(values), len(labels))), labels
