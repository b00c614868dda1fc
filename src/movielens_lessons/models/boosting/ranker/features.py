"""Features for the two-stage ranker (:mod:`movielens_lessons.models.boosting.ranker.model`).

Stage one (:mod:`~movielens_lessons.models.boosting.ranker.candidates`) unites each retriever's top-``N``
unseen items per user. Stage two describes every (user, candidate) pair by one row of numbers:

- per retriever ``r``: ``<r>_score`` (its score, known for every item) and ``<r>_rank`` (1-based rank
  among the user's unseen items, ``N + 1`` when the item is outside its top-``N``), plus
  ``<r>_score_ratio`` (score / the user's best score from ``r``; scales differ between users);
- item: ``item_log_pop`` (all interactions up to ``as_of``), ``item_log_pop_recent`` (the last
  ``recent_days``), ``item_age_years`` (years from release to ``as_of``), ``item_mean_rating``
  (damped), ``item_days_since_first``, and IMDb's ``item_imdb_rating`` and ``item_imdb_log_votes``
  (log10) when the dataset's movies carry them (NaN otherwise; today's values, a mild leak for old
  splits that :mod:`movielens_lessons.features.items` discusses);
- user: ``user_log_count``, ``user_log_count_recent``, ``user_days_since_last`` (time since the user's last
  interaction), ``user_tenure_days``, ``user_mean_rating``, ``user_mean_item_log_pop`` (how mainstream
  the user's taste is);
- pair: ``genre_affinity`` (the user's genre shares · the item's genres) and its mean over the item's
  genres, ``pop_vs_user`` (item popularity − the user's usual);
- pair, in time: ``item_first_after_user_last_days`` (the item's first interaction minus the user's
  last one, days), ``item_log_pop_user_span`` (the item's interactions while the user was active,
  ± ``recent_days``), ``item_pop_lift_user_span`` (log of the item's share of that span's interactions
  over its share of all), ``item_log_pop_user_last`` (its interactions in the ``recent_days`` before the
  user's last one). Global "recent" popularity only fits users active at the end of the data; these
  ask what was popular *for this user's moment*, which lifted P2's NDCG@10 from 0.141 to 0.159.

User and item tables come from :func:`~movielens_lessons.features.user_features` and
:func:`~movielens_lessons.features.item_features` on the data the retrievers were fitted on, so nothing
from the label window (or the test period) reaches a feature.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.features.catalogue import attached_imdb, genre_matrix, genre_vocabulary
from movielens_lessons.features.items import SECONDS_PER_DAY, as_of_seconds, item_features, slug
from movielens_lessons.features.users import user_features
from movielens_lessons.models.boosting.ranker.candidates import Candidates

SECONDS_PER_YEAR = 365.25 * SECONDS_PER_DAY

USER_COLUMNS = (
    "user_log_count",
    "user_log_count_recent",
    "user_days_since_last",
    "user_tenure_days",
    "user_mean_rating",
    "user_mean_item_log_pop",
)
ITEM_COLUMNS = (
    "item_log_pop",
    "item_log_pop_recent",
    "item_age_years",
    "item_mean_rating",
    "item_days_since_first",
    "item_imdb_rating",
    "item_imdb_log_votes",
)
PAIR_COLUMNS = (
    "genre_affinity",
    "genre_affinity_mean",
    "pop_vs_user",
    "item_first_after_user_last_days",
    "item_log_pop_user_span",
    "item_pop_lift_user_span",
    "item_log_pop_user_last",
)


@dataclass(frozen=True)
class FeatureTables:
    """Per-user and per-item features at one moment, shapes ``(n_users, ·)`` / ``(n_items, ·)``."""

    user: np.ndarray  # float32 (n_users, len(USER_COLUMNS))
    item: np.ndarray  # float32 (n_items, len(ITEM_COLUMNS))
    user_genres: np.ndarray  # float32 (n_users, n_genres): share of the user's positives per genre
    item_genres: np.ndarray  # float32 (n_items, n_genres): multi-hot
    # when each item was consumed: int64 ``item * TIME_KEY + timestamp``, sorted (n_interactions,)
    item_time_keys: np.ndarray
    user_span: np.ndarray  # int64 (n_users, 2): first and last timestamp (seconds), 0 if none
    # interactions per UTC day, cumulated: daily_total[d] = interactions on days first_day .. first_day + d
    daily_total: np.ndarray  # int64 (n_days,)
    first_day: int  # days since the epoch of daily_total[0]
    window_seconds: int  # half-width of the windows around a user's span

    _ARRAYS = (
        "user", "item", "user_genres", "item_genres", "item_time_keys", "user_span", "daily_total"
    )

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}{k}": getattr(self, k) for k in self._ARRAYS}
        out[f"{prefix}window_seconds"] = np.array(self.window_seconds, dtype=np.int64)
        out[f"{prefix}first_day"] = np.array(self.first_day, dtype=np.int64)
        return out

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> FeatureTables:
        return cls(
            **{k: arrays[f"{prefix}{k}"] for k in cls._ARRAYS},
            window_seconds=int(arrays[f"{prefix}window_seconds"]),
            first_day=int(arrays[f"{prefix}first_day"]),
        )


def feature_tables(dataset: Dataset, recent_days: float = 90.0) -> FeatureTables:
    """User and item tables from ``dataset`` as of its last timestamp (nothing later exists in it)."""
    as_of = as_of_seconds(dataset)
    items = item_features(dataset, top_tags=0, imdb=attached_imdb(dataset))
    unknown = np.full(dataset.n_items, np.nan, np.float32)  # no IMDb attached: unknown to the trees
    users = user_features(dataset)
    n_items = dataset.n_items
    item_log_pop = items["log_popularity"].to_numpy(np.float32)
    recent_users = np.zeros(dataset.n_users, np.float32)
    recent_items = np.zeros(n_items, np.float32)
    age = np.full(n_items, np.nan, np.float32)
    if as_of is not None:
        # recent = everything minus what was there ``recent_days`` ago (the same window functions)
        before = as_of - int(recent_days * SECONDS_PER_DAY)
        old_items = item_features(dataset, top_tags=0, as_of=before)["n_ratings"].to_numpy()
        recent_items = np.log1p(items["n_ratings"].to_numpy() - old_items).astype(np.float32)
        old_users = user_features(dataset, as_of=before)["n_ratings"].to_numpy()
        recent_users = np.log1p(users["n_ratings"].to_numpy() - old_users).astype(np.float32)
        year_now = 1970 + as_of / SECONDS_PER_YEAR
        age = (year_now - items["year"].to_numpy(np.float64)).astype(np.float32)
    # the mean popularity of what each user consumed: mainstream vs niche taste
    counts = np.maximum(dataset.user_counts(), 1)
    user_pop = np.bincount(
        dataset.users, weights=item_log_pop[dataset.items], minlength=len(counts)
    )
    user = np.column_stack(
        [
            users["log_count"].to_numpy(np.float32),
            recent_users,
            users["recency_days"].to_numpy(np.float32),
            users["tenure_days"].to_numpy(np.float32),
            users["mean_rating"].to_numpy(np.float32),
            (user_pop / counts).astype(np.float32),
        ]
    ).astype(np.float32)
    item = np.column_stack(
        [
            item_log_pop,
            recent_items,
            age,
            items["mean_rating_damped"].to_numpy(np.float32),
            items["days_since_first_rating"].to_numpy(np.float32),
            items["imdb_rating"].to_numpy(np.float32) if "imdb_rating" in items else unknown,
            items["imdb_log_votes"].to_numpy(np.float32) if "imdb_log_votes" in items else unknown,
        ]
    ).astype(np.float32)
    genres = genre_vocabulary(dataset)
    affinity_cols = [f"affinity_{slug(g)}" for g in genres]
    user_genres = (
        np.nan_to_num(users[affinity_cols].to_numpy(np.float32))
        if genres
        else np.zeros((dataset.n_users, 0), np.float32)
    )
    item_genres = genre_matrix(dataset, genres).toarray().astype(np.float32)
    keys, span = _time_index(dataset)
    daily, first_day = _daily_totals(dataset)
    return FeatureTables(
        user,
        item,
        user_genres,
        item_genres,
        keys,
        span,
        daily,
        first_day,
        int(recent_days * SECONDS_PER_DAY),
    )


#: Multiplier that puts the item id above any timestamp in one sortable int64 key.
TIME_KEY = np.int64(1) << 34


def _time_index(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(sorted ``item * TIME_KEY + timestamp`` keys, per-user (first, last) timestamps)."""
    span = np.zeros((dataset.n_users, 2), np.int64)
    ts = dataset.timestamps
    if ts is None or not len(ts):
        return np.empty(0, np.int64), span
    ts = ts.astype(np.int64)
    keys = np.sort(dataset.items.astype(np.int64) * TIME_KEY + ts)
    first = np.full(dataset.n_users, np.iinfo(np.int64).max)
    last = np.full(dataset.n_users, np.iinfo(np.int64).min)
    np.minimum.at(first, dataset.users, ts)
    np.maximum.at(last, dataset.users, ts)
    has = dataset.user_counts() > 0
    span[has, 0], span[has, 1] = first[has], last[has]
    return keys, span


def _daily_totals(dataset: Dataset) -> tuple[np.ndarray, int]:
    """(cumulated interactions per UTC day from the first day, that first day since the epoch)."""
    ts = dataset.timestamps
    if ts is None or not len(ts):
        return np.zeros(0, np.int64), 0
    days = ts.astype(np.int64) // int(SECONDS_PER_DAY)
    first = int(days.min())
    return np.cumsum(np.bincount(days - first)).astype(np.int64), first


def _total_between(tables: FeatureTables, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Interactions of any item from the UTC day of ``start`` to the day of ``end`` (inclusive)."""
    cum = tables.daily_total
    day = int(SECONDS_PER_DAY)
    hi = np.clip(end // day - tables.first_day, -1, len(cum) - 1)
    lo = np.clip(start // day - tables.first_day, 0, len(cum)) - 1
    upto = np.where(hi >= 0, cum[np.maximum(hi, 0)], 0)
    before = np.where(lo >= 0, cum[np.clip(lo, 0, len(cum) - 1)], 0)
    return np.maximum(upto - before, 0).astype(np.float64)


def _item_counts_between(
    keys: np.ndarray, items: np.ndarray, start: np.ndarray, end: np.ndarray
) -> np.ndarray:
    """How many interactions each item in ``items`` had with ``start <= timestamp <= end``."""
    base = items.astype(np.int64) * TIME_KEY
    lo = np.searchsorted(keys, base + np.maximum(start, 0), side="left")
    hi = np.searchsorted(keys, base + np.minimum(end, TIME_KEY - 1), side="right")
    return (hi - lo).astype(np.float64)


def _time_pair_features(tables: FeatureTables, u: np.ndarray, i: np.ndarray) -> np.ndarray:
    """The four time-aware pair columns: when the item lived relative to when the user was active.

    A per-user random holdout takes test items from the user's own active period, so an item nobody
    had seen before the user's last visit is almost never among them, and what was popular *then*
    matters more than what is popular now; for a temporal holdout, what was popular just before the
    user's last visit is the freshest taste signal available.
    """
    out = np.full((len(u), 4), np.nan, np.float32)
    keys = tables.item_time_keys
    if not len(keys) or not len(u):
        return out
    first_u, last_u = tables.user_span[u, 0], tables.user_span[u, 1]
    w = tables.window_seconds
    pos = np.searchsorted(keys, i.astype(np.int64) * TIME_KEY, side="left")
    pos_ok = pos < len(keys)
    first_i = np.where(pos_ok, keys[np.minimum(pos, len(keys) - 1)] % TIME_KEY, 0)
    seen_item = pos_ok & (keys[np.minimum(pos, len(keys) - 1)] // TIME_KEY == i)
    out[:, 0] = np.where(seen_item, (first_i - last_u) / SECONDS_PER_DAY, np.nan)
    in_span = _item_counts_between(keys, i, first_u - w, last_u + w)
    # every interaction in the same span (to the day), whatever the item: the lift divides out
    # busy periods, so it says "this item was unusually popular then", not "the site was busy"
    total_span = _total_between(tables, first_u - w, last_u + w)
    n_all = _item_counts_between(keys, i, np.zeros_like(u, np.int64), np.full(len(u), TIME_KEY - 1))
    out[:, 1] = np.log1p(in_span)
    out[:, 2] = np.log((in_span + 1) / (total_span + 1)) - np.log((n_all + 1) / (len(keys) + 1))
    out[:, 3] = np.log1p(_item_counts_between(keys, i, last_u - w, last_u))
    return out


def feature_names(retriever_names: list[str]) -> list[str]:
    """Column names of :func:`pair_features`, in order."""
    per = [f"{r}_{kind}" for r in retriever_names for kind in ("score", "rank", "score_ratio")]
    return per + list(USER_COLUMNS) + list(ITEM_COLUMNS) + list(PAIR_COLUMNS)


def score_ratios(cand: Candidates) -> np.ndarray:
    """``(n_pairs, n_retrievers)``: each retriever's score / the user's best score from it (NaN where
    the retriever has no score or the best is 0): comparable across users, unlike raw scores."""
    with np.errstate(invalid="ignore", divide="ignore"):
        best = cand.best[cand.rows]
        return np.where(np.abs(best) > 0, cand.scores / np.abs(best), np.nan)


def pair_features(tables: FeatureTables, users: np.ndarray, cand: Candidates) -> np.ndarray:
    """Feature matrix float32 ``(n_pairs, len(feature_names))`` for ``cand`` of internal ``users``."""
    u = users[cand.rows]
    i = cand.items
    # an explicit width: a user who has seen every movie has no candidates, and -1 cannot be inferred
    per = np.stack([cand.scores, cand.ranks, score_ratios(cand)], axis=2).reshape(
        len(i), 3 * cand.scores.shape[1]
    )
    item_genres = tables.item_genres[i]
    affinity = np.einsum("ij,ij->i", tables.user_genres[u], item_genres)
    n_genres = item_genres.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        affinity_mean = np.where(n_genres > 0, affinity / n_genres, np.nan)
    user = tables.user[u]
    item = tables.item[i]
    pop_vs_user = (
        item[:, ITEM_COLUMNS.index("item_log_pop")]
        - user[:, USER_COLUMNS.index("user_mean_item_log_pop")]
    )
    pair = np.column_stack([affinity, affinity_mean, pop_vs_user, _time_pair_features(tables, u, i)])
    x = np.hstack([per, user, item, pair]).astype(np.float32)
    x[~np.isfinite(x)] = np.nan  # a pruned item's -inf score is "unknown" to the trees
    return x
