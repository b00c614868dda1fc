"""Pure computations behind the EDA report: concentration (Gini, top shares), tails, sessions.

Every function takes plain arrays and returns numbers or arrays; nothing here reads files or draws. The
Lorenz curve, which both reports draw, is :func:`movielens_lessons.reporting.figures.lorenz_curve`.
"""

from __future__ import annotations

import math

import numpy as np


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative ``counts`` (shape ``(n,)``): 0 = all equal, → 1 = one holds all.

    ``G = Σ_i Σ_j |x_i − x_j| / (2 n² x̄)``, computed in O(n log n) from the sorted values as
    ``G = 2 Σ_i i·x_(i) / (n Σ x) − (n + 1) / n`` (``i`` = 1..n, ascending). ``nan`` when empty or all zero.
    """
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return math.nan
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(2.0 * np.dot(i, x) / (n * total) - (n + 1) / n)


def top_share(counts: np.ndarray, fraction: float) -> float:
    """Share of the total held by the ``⌈fraction · n⌉`` largest ``counts`` (at least one of them).

    E.g. ``top_share(ratings_per_movie, 0.01)``: the share of all ratings that go to the top 1 % of movies.
    """
    x = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    if len(x) == 0 or x.sum() <= 0:
        return math.nan
    k = max(1, math.ceil(fraction * len(x) - 1e-9))
    return float(x[:k].sum() / x.sum())


def ccdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Complementary CDF: distinct ``values`` ascending and ``P(X ≥ value)`` for each, both ``(m,)``."""
    v, c = np.unique(np.asarray(values), return_counts=True)
    at_least = np.cumsum(c[::-1])[::-1] / c.sum() if len(c) else np.array([], dtype=np.float64)
    return v, at_least


def counts_per(ids: np.ndarray) -> np.ndarray:
    """How many times each distinct id occurs (order of the sorted distinct ids), shape ``(n_distinct,)``."""
    return np.unique(np.asarray(ids), return_counts=True)[1]


def group_by_user_time(users: np.ndarray, timestamps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``users`` and ``timestamps`` sorted by (user, time): the order in which a user's history unfolds."""
    order = np.lexsort((timestamps, users))
    return np.asarray(users)[order], np.asarray(timestamps, dtype=np.int64)[order]


def session_sizes(users: np.ndarray, timestamps: np.ndarray, gap_seconds: int = 3600) -> np.ndarray:
    """Number of ratings in each rating session, shape ``(n_sessions,)``.

    A session is a run of one user's ratings (by time) with no gap longer than ``gap_seconds``.
    MovieLens timestamps record when a rating was *entered*, so a session is a burst of rating, often of
    films watched long before, not a viewing binge.
    """
    if len(users) == 0:
        return np.array([], dtype=np.int64)
    u, t = group_by_user_time(users, timestamps)
    new = np.ones(len(u), dtype=bool)
    new[1:] = (u[1:] != u[:-1]) | (np.diff(t) > gap_seconds)
    starts = np.flatnonzero(new)
    return np.diff(np.append(starts, len(u)))


def user_spans(
    users: np.ndarray, timestamps: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct user (sorted ids): first and last timestamp (s) and tenure in days, each ``(n_users,)``."""
    u, t = group_by_user_time(users, timestamps)
    starts = np.flatnonzero(np.r_[True, u[1:] != u[:-1]])
    ends = np.r_[starts[1:], len(u)] - 1
    first, last = t[starts], t[ends]
    return first, last, (last - first) / 86_400.0


def year_of(timestamps: np.ndarray) -> np.ndarray:
    """Calendar year (UTC) of Unix ``timestamps`` in seconds, int64 ``(n,)``."""
    return (
        np.asarray(timestamps, dtype="datetime64[s]").astype("datetime64[Y]").astype(np.int64)
        + 1970
    )


def cooccurrence(labels: list[list[str]], vocabulary: list[str]) -> np.ndarray:
    """``(k, k)`` counts of how often two labels of ``vocabulary`` appear on the same item (diagonal: alone
    or not, how many items carry the label)."""
    index = {g: i for i, g in enumerate(vocabulary)}
    m = np.zeros((len(labels), len(vocabulary)), dtype=np.int64)
    for row, items in enumerate(labels):
        for g in items:
            if g in index:
                m[row, index[g]] = 1
    return m.T @ m


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two ``(n,)`` arrays, ``nan`` with fewer than 3 pairs or no spread."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 3 or x.std() == 0 or y.std() == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation (Pearson of average ranks), ``nan`` as :func:`pearson`."""
    from scipy.stats import rankdata

    if len(x) < 3:
        return math.nan
    return pearson(rankdata(x), rankdata(y))
