"""``evaluate``: every metric for a set of top-K lists against a test set, with bootstrap intervals.

Who is scored: every user with at least one relevant test interaction (any test interaction by default;
rating ≥ ``relevance_threshold`` otherwise). A scored user without recommendations gets an empty list
(0 on every accuracy metric). Recommendations for users outside the test set are ignored (counted in
``n_recommended_users_not_in_test``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.evaluation import beyond_accuracy as ba
from movielens_lessons.evaluation.bootstrap import bootstrap_ratio
from movielens_lessons.evaluation.ranking import RANKING_METRICS, auc, check_ks, ranking_metrics
from movielens_lessons.evaluation.relevance import check_unique_rows, hit_matrix, relevant_rows
from movielens_lessons.recommendations import PAD_ITEM, Recommendations

#: Mean of a per-user value (every scored user counts).
USER_MEAN_METRICS = (*RANKING_METRICS, "serendipity")
#: Ratio over all recommended slots (users weighted by their number of slots).
SLOT_METRICS = ("novelty", "arp")
#: Mean over users whose list has ≥ 2 items.
LIST_METRICS = ("ild",)
#: Properties of the whole set of lists; no per-user value, no bootstrap interval.
CATALOGUE_METRICS = ("coverage", "gini", "personalization")
ALL_METRICS = (*USER_MEAN_METRICS, *SLOT_METRICS, *LIST_METRICS, *CATALOGUE_METRICS, "auc")
DEFAULT_METRICS = tuple(m for m in ALL_METRICS if m != "auc")

Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class EvaluationResult:
    """Per-user values and a summary with 95 % percentile-bootstrap intervals.

    ``per_user``: tidy ``userId, metric, k, value`` (``k`` is <NA> for AUC). ``summary``: ``metric, k,
    mean, ci_low, ci_high`` (intervals are NaN for catalogue-level metrics: resampling users with
    replacement duplicates lists and biases coverage downward, so a percentile bootstrap is not valid).
    """

    per_user: pd.DataFrame
    summary: pd.DataFrame
    ks: tuple[int, ...]
    n_users: int
    n_users_without_recs: int = 0
    n_recommended_users_not_in_test: int = 0
    n_bootstrap: int = 0
    info: dict = field(default_factory=dict)

    def value(self, metric: str, k: int | None = None) -> float:
        """The summary value of ``metric`` at cutoff ``k`` (default: the only or the first cutoff)."""
        rows = self.summary[self.summary["metric"] == metric]
        if rows.empty:
            raise KeyError(f"metric {metric!r} was not computed")
        if rows["k"].isna().all():
            return float(rows["mean"].iloc[0])
        k = self.ks[0] if k is None else k
        return float(rows.loc[rows["k"] == k, "mean"].iloc[0])

    def to_dict(self) -> dict[str, float]:
        """Flat ``{"ndcg@10": mean, "ndcg@10_ci_low": ..., "ndcg@10_ci_high": ..., "auc": ...}``."""
        out: dict[str, float] = {}
        row: Any  # metric str, k Int64 (<NA> for AUC), mean/ci_low/ci_high float; untyped in the stubs
        for row in self.summary.itertuples(index=False):
            key = row.metric if pd.isna(row.k) else f"{row.metric}@{int(row.k)}"
            out[key] = float(row.mean)
            out[f"{key}_ci_low"] = float(row.ci_low)
            out[f"{key}_ci_high"] = float(row.ci_high)
        return out


def _check_same_maps(recs: Recommendations, test: Dataset, train: Dataset) -> None:
    for what, a, b in (
        ("train/test user", train.user_ids, test.user_ids),
        ("train/test item", train.item_ids, test.item_ids),
        ("recommendations/train item", recs.item_ids, train.item_ids),
        ("recommendations/train user", recs.user_ids, train.user_ids),
    ):
        if not (a is b or np.array_equal(a, b)):
            raise DataValidationError(
                f"{what} id maps differ; build train, test and recommendations over the same "
                "user_ids/item_ids (Dataset.from_frame(..., user_ids=, item_ids=))"
            )


def align_recommendations(recs: Recommendations, users: np.ndarray, k_max: int):
    """Rec-item rows for ``users`` (internal ids, ascending), ``(len(users), k_max)`` padded with -1.

    Returns ``(rec_items, has_recs, n_extra)``: ``n_extra`` = recommended users not in ``users``.
    """
    r_users = np.asarray(recs.users, dtype=np.int64)
    known = r_users[r_users >= 0]  # -1: a user unknown to the model's id map (never a test user)
    if len(np.unique(known)) != len(known):
        raise DataValidationError("recommendations hold more than one row for some user")
    items = np.full((len(users), k_max), PAD_ITEM, dtype=np.int64)
    pos = np.searchsorted(users, r_users)
    pos_c = np.minimum(pos, max(len(users) - 1, 0))
    found = (users[pos_c] == r_users) if len(users) else np.zeros(len(r_users), dtype=bool)
    width = min(k_max, recs.k)
    items[pos_c[found], :width] = recs.items[found, :width]
    has = np.zeros(len(users), dtype=bool)
    has[pos_c[found]] = (recs.items[found, :width] != PAD_ITEM).any(axis=1)
    return items, has, int((~found).sum())


def item_feature_masks(item_features, train: Dataset) -> np.ndarray | None:
    """uint64 genre bit mask per internal item, from ``item_features`` or ``train.movies``; or None.

    ``item_features``: a frame with ``movieId`` and ``genres`` (list or ``"A|B"`` strings), a Series of
    genres indexed by ``movieId``, or a mapping ``movieId -> genres``.
    """
    src = item_features
    if src is None:
        src = train.movies
        if src is None or C.GENRES not in getattr(src, "columns", ()):
            return None
    if isinstance(src, pd.DataFrame):
        if C.ITEM not in src.columns or C.GENRES not in src.columns:
            raise ConfigError(f"item_features needs columns {C.ITEM!r} and {C.GENRES!r}")
        src = pd.Series(src[C.GENRES].to_numpy(), index=src[C.ITEM].to_numpy())
    elif isinstance(src, Mapping):
        src = pd.Series(list(src.values()), index=list(src.keys()), dtype=object)

    def as_set(g) -> frozenset:
        if isinstance(g, str):
            return frozenset(x for x in g.split("|") if x and x != C.NO_GENRES)
        if g is None or (isinstance(g, float) and np.isnan(g)):
            return frozenset()
        return frozenset(x for x in g if x != C.NO_GENRES)

    src = src[~src.index.duplicated(keep="last")]
    feats = src.reindex(train.item_ids)
    return ba.feature_masks([as_set(g) for g in feats.to_numpy()])


def evaluate(
    recs: Recommendations,
    test: Dataset,
    train: Dataset,
    *,
    k: int | Sequence[int] = (10,),
    metrics: Sequence[str] | None = None,
    relevance_threshold: float | None = None,
    item_features=None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    scorer: Scorer | None = None,
) -> EvaluationResult:
    """Score top-K lists against ``test`` (relevance) and ``train`` (popularity, catalogue, seen items).

    ``metrics``: names from :data:`ALL_METRICS` (default: all but ``auc``; ILD only when genres are
    available). ``scorer(users) -> (len(users), n_items)`` full score matrix enables ``auc``.
    """
    ks = check_ks(k)
    k_max = ks[-1]
    explicit = metrics is not None
    metrics = tuple(DEFAULT_METRICS if metrics is None else metrics)
    unknown = set(metrics) - set(ALL_METRICS)
    if unknown:
        raise ConfigError(f"unknown metric(s) {sorted(unknown)}; known: {', '.join(ALL_METRICS)}")
    if "auc" in metrics and scorer is None:
        raise ConfigError("auc needs scorer=: a function from internal user ids to full score rows")
    _check_same_maps(recs, test, train)

    users, relevant = relevant_rows(test, relevance_threshold)
    if len(users) == 0:
        raise DataValidationError("the test set has no relevant interactions to evaluate against")
    rec_items, has_recs, n_extra = align_recommendations(recs, users, k_max)
    check_unique_rows(rec_items)
    hits = hit_matrix(rec_items, relevant)
    item_counts = train.implicit().getnnz(axis=0) if train.n_interactions else np.zeros(
        train.n_items, dtype=np.int64)
    n_train_users = int((train.user_counts() > 0).sum())

    per_user: dict[tuple[str, int | None], np.ndarray] = {}
    ratio_parts: dict[tuple[str, int | None], tuple[np.ndarray, np.ndarray]] = {}
    catalogue: dict[tuple[str, int], float] = {}

    wanted_rank = [m for m in RANKING_METRICS if m in metrics]
    if wanted_rank:
        for name, vals in ranking_metrics(rec_items, relevant, ks, wanted_rank, hits=hits).items():
            for j, kk in enumerate(ks):
                per_user[(name, kk)] = vals[:, j]
    if "serendipity" in metrics:
        vals = ba.serendipity(rec_items, relevant, users, train.implicit(), item_counts, ks, hits)
        for j, kk in enumerate(ks):
            per_user[("serendipity", kk)] = vals[:, j]
    for name, parts in (("novelty", ba.novelty_parts), ("arp", ba.arp_parts)):
        if name in metrics:
            args = (rec_items, item_counts, n_train_users, ks) if name == "novelty" else (
                rec_items, item_counts, ks)
            s, n = parts(*args)
            for j, kk in enumerate(ks):
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_user[(name, kk)] = np.where(n[:, j] > 0, s[:, j] / n[:, j], np.nan)
                ratio_parts[(name, kk)] = (s[:, j], n[:, j])
    if "ild" in metrics:
        masks = item_feature_masks(item_features, train)
        if masks is None:
            if explicit:  # asked for by name: say why it is missing; by default: skip quietly
                raise ConfigError("ild needs item genres: pass item_features or train.movies")
        else:
            vals = ba.ild(rec_items, masks, ks)
            for j, kk in enumerate(ks):
                per_user[("ild", kk)] = vals[:, j]
    if "auc" in metrics:
        assert scorer is not None  # checked at the top: auc needs a scorer
        per_user[("auc", None)] = auc(scorer, users, relevant, train.implicit()[users])
    for kk in ks:
        if "coverage" in metrics:
            catalogue[("coverage", kk)] = float(ba.coverage(rec_items, item_counts, kk)[0])
        if "gini" in metrics:
            catalogue[("gini", kk)] = float(ba.gini(rec_items, item_counts, kk)[0])
        if "personalization" in metrics:
            catalogue[("personalization", kk)] = float(ba.personalization(rec_items, kk)[0])

    return summarize(
        test.user_ids[users], per_user, ratio_parts, catalogue, ks,
        n_bootstrap=n_bootstrap, seed=seed,
        n_users_without_recs=int((~has_recs).sum()),
        n_recommended_users_not_in_test=n_extra,
        info={"n_train_users": n_train_users, "n_catalogue_items": int((item_counts > 0).sum()),
              "relevance_threshold": relevance_threshold},
    )


def summarize(
    users: np.ndarray,
    per_user: Mapping[tuple[str, int | None], np.ndarray],
    ratio_parts: Mapping[tuple[str, int | None], tuple[np.ndarray, np.ndarray]],
    catalogue: Mapping[tuple[str, int], float],
    ks: tuple[int, ...],
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    n_users_without_recs: int = 0,
    n_recommended_users_not_in_test: int = 0,
    info: dict | None = None,
) -> EvaluationResult:
    """The :class:`EvaluationResult` of per-user values, however they were computed (NumPy here,
    Spark in :mod:`movielens_lessons.spark.metrics`).

    ``users``: the scored users' external ids ``(n,)`` in the order of every array (ascending, so
    that the bootstrap resamples the same users whoever computed the values); ``per_user``:
    ``(metric, k) → (n,)`` values; ``ratio_parts``: for slot metrics, ``(metric, k) → (Σ, slots)``
    per user, whose ratio of sums is the mean; ``catalogue``: ``(metric, k) → value`` (no interval).
    """
    # summary: Σ num / Σ den for each per-user statistic, bootstrapped with shared resamples
    keys = list(per_user)
    n = len(users)
    num = np.empty((n, len(keys)))
    den = np.empty((n, len(keys)))
    for c, key in enumerate(keys):
        if key in ratio_parts:
            num[:, c], den[:, c] = ratio_parts[key]
        else:
            v = per_user[key]
            num[:, c] = v
            den[:, c] = np.where(np.isnan(v), np.nan, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nansum(num, axis=0) / np.nansum(np.where(np.isnan(num), np.nan, den), axis=0)
        low, high = bootstrap_ratio(num, den, n_bootstrap, seed=seed)

    rows = [
        (m, kk, float(means[c]), float(low[c]), float(high[c])) for c, (m, kk) in enumerate(keys)
    ]
    rows += [(m, kk, v, np.nan, np.nan) for (m, kk), v in catalogue.items()]
    order = {m: i for i, m in enumerate(ALL_METRICS)}
    summary = pd.DataFrame(rows, columns=["metric", "k", "mean", "ci_low", "ci_high"])
    summary["k"] = summary["k"].astype("Int64")
    summary = summary.sort_values(["k", "metric"], key=lambda s: s.map(order) if s.name ==
                                  "metric" else s, na_position="last").reset_index(drop=True)

    per_user_frame = pd.DataFrame(
        {
            C.USER: np.tile(users, len(keys)),
            "metric": pd.Categorical.from_codes(
                np.repeat([ALL_METRICS.index(m) for m, _ in keys], n).astype(np.int8),
                categories=pd.Index(list(ALL_METRICS))),
            "k": pd.array(np.repeat([kk for _, kk in keys], n), dtype="Int64"),
            "value": np.concatenate([per_user[key] for key in keys]) if keys else np.empty(0),
        }
    )
    return EvaluationResult(
        per_user=per_user_frame,
        summary=summary,
        ks=ks,
        n_users=n,
        n_users_without_recs=n_users_without_recs,
        n_recommended_users_not_in_test=n_recommended_users_not_in_test,
        n_bootstrap=n_bootstrap,
        info=dict(info or {}),
    )
