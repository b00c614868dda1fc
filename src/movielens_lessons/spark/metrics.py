"""Distributed evaluation: the metrics of :mod:`movielens_lessons.evaluation`, computed by Spark.

Inputs are Spark DataFrames with external ids (:mod:`movielens_lessons.columns` names):

- ``recs``: ``userId, movieId, rank`` — one row per recommended slot, ``rank`` its 1-based position
  (``Recommendations.to_frame()`` as an Arrow table, or any Spark job's top-K);
- ``test``: ``userId, movieId`` (and ``rating`` for a ``relevance_threshold``);
- ``train``: ``userId, movieId`` (and ``rating`` for a ``train_positive_threshold``).

Every definition is the single-machine one (``docs/metrics.md``), so the two agree to rounding:

- Scored users: those with ≥ 1 relevant test item (any test interaction, or rating ≥
  ``relevance_threshold``). A scored user without recommendations scores 0; lists of users outside
  the scored set are ignored by every metric, catalogue-level ones included.
- precision@K = hits/K (short lists still divide by K); recall@K = hits/\\|rel\\|; hit_rate@K;
  nDCG@K with binary gains and IDCG over min(\\|rel\\|, K) items; AP@K divides by min(\\|rel\\|, K);
  RR@K = 1/rank of the first hit within K. Each is a mean over scored users.
- novelty@K = Σ −log2(max(n_i, 1)/N) / Σ slots over all scored users' top-K slots, where n_i is the
  number of training users with a (positive) interaction with item i and N the number of users with
  any training interaction; arp@K = Σ n_i / Σ slots.
- coverage@K and gini@K are over the training catalogue (items with n_i ≥ 1): the share of it in
  some top-K list, and the Gini index of top-K exposure counts over it (zero-exposure items
  included). personalization@K = 1 − Σ_i e_i(e_i − 1)/2 / (n(n − 1)/2 · K) over the n users with a
  non-empty top-K list. (Spark has no id map: an item id the single-machine id maps lack, which
  NumPy keeps as -2 and never shares, counts here as an ordinary item.)

Only the final scalars reach the driver; everything else is joins, windows and aggregations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from movielens_lessons import columns as C
from movielens_lessons.errors import ConfigError, DataValidationError, MissingColumnError
from movielens_lessons.evaluation.evaluate import EvaluationResult, summarize
from movielens_lessons.evaluation.ranking import RANKING_METRICS, check_ks
from movielens_lessons.spark.metric_names import SPARK_METRICS

_N_REL = "n_rel"
_HIT = "hit"
_POP = "n_train_users"  # training users who interacted with the item


def _require(df: DataFrame, what: str, *cols: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"{what} needs columns {list(cols)}; missing {missing}, found {df.columns}"
        )


def _ids(df: DataFrame, *extra: Column) -> DataFrame:
    """``userId, movieId`` as longs (Arrow tables may bring int32 or int64), plus ``extra``."""
    return df.select(F.col(C.USER).cast("long").alias(C.USER),
                     F.col(C.ITEM).cast("long").alias(C.ITEM), *extra)


def relevant_pairs(test: DataFrame, relevance_threshold: float | None = None) -> DataFrame:
    """Distinct ``userId, movieId`` of relevant test interactions: all of them, or rating ≥ t."""
    _require(test, "test", C.USER, C.ITEM)
    if relevance_threshold is None:
        return _ids(test).distinct()
    if C.RATING not in test.columns:
        raise DataValidationError(
            f"relevance threshold {relevance_threshold} needs ratings; the test data has none"
        )
    kept = test.where(F.col(C.RATING).cast("double") >= F.lit(float(relevance_threshold)))
    return _ids(kept).distinct()


def item_popularity(train: DataFrame, positive_threshold: float | None = None) -> DataFrame:
    """``movieId, n_train_users``: distinct training users per item (positive interactions only with
    ``positive_threshold``, as ``Dataset.implicit()``); its rows are the training catalogue."""
    _require(train, "train", C.USER, C.ITEM)
    if positive_threshold is not None:
        if C.RATING not in train.columns:
            raise DataValidationError("a positive threshold needs ratings; the train data has none")
        train = train.where(F.col(C.RATING).cast("double") >= F.lit(float(positive_threshold)))
    return _ids(train).distinct().groupBy(C.ITEM).agg(F.count(F.lit(1)).alias(_POP))


def _slots(recs: DataFrame, rel: DataFrame, pop: DataFrame, n_train: DataFrame,
           k_max: int) -> DataFrame:
    """Scored users' slots within ``k_max``: ``userId, movieId, rank, hit, cum_hits, info, pop``."""
    scored = rel.select(C.USER).distinct()
    slots = (_ids(recs, F.col(C.RANK).cast("long").alias(C.RANK))
             .where(F.col(C.RANK).between(1, k_max))
             .join(scored, C.USER, "left_semi"))
    slots = (slots.join(rel.withColumn(_HIT, F.lit(1)), [C.USER, C.ITEM], "left")
             .join(pop, C.ITEM, "left")
             .crossJoin(F.broadcast(n_train)))
    by_rank = (Window.partitionBy(C.USER).orderBy(C.RANK)
               .rowsBetween(Window.unboundedPreceding, Window.currentRow))
    hit = F.coalesce(F.col(_HIT), F.lit(0))
    count = F.coalesce(F.col(_POP), F.lit(0)).cast("double")
    n = F.greatest(F.col("n_users"), F.lit(1)).cast("double")
    return slots.select(
        C.USER, C.ITEM, C.RANK, hit.alias(_HIT),
        F.sum(hit).over(by_rank).alias("cum_hits"),
        # self-information −log2 p, p = share of training users; an unseen item counts as seen once
        (-F.log2(F.greatest(count, F.lit(1.0)) / n)).alias("info"),
        count.alias("pop"),
    )


def _idcg(m: Column) -> Column:
    """Σ_{i=1..m} 1/log2(i + 1), the ideal DCG of ``m`` relevant items (``m`` ≥ 1)."""
    return F.aggregate(F.sequence(F.lit(1), m.cast("int")), F.lit(0.0),
                       lambda acc, i: acc + F.lit(1.0) / F.log2(i.cast("double") + F.lit(1.0)))


def _per_user(slots: DataFrame, rel: DataFrame, ks: tuple[int, ...],
              metrics: Sequence[str]) -> DataFrame:
    """One row per scored user: ``userId``, each ranking metric's value (``"ndcg@10"`` …), the
    parts of the slot ratios (``info_K``, ``pop_K``, ``slots_K``), ``n_slots`` and the duplicate
    counts (``dup_items``, ``dup_ranks``: > 0 means an invalid list)."""
    rank, hit = F.col(C.RANK), F.col(_HIT) == 1
    aggs: list[Column] = [F.count(F.lit(1)).alias("n_slots"),
                          F.count_distinct(C.ITEM).alias("n_distinct_items"),
                          F.count_distinct(C.RANK).alias("n_distinct_ranks"),
                          F.min(F.when(hit, rank)).alias("first_hit")]
    for k in ks:
        within = rank <= k
        aggs += [
            F.sum(F.when(within & hit, 1).otherwise(0)).alias(f"hits_{k}"),
            F.sum(F.when(within & hit, F.lit(1.0) / F.log2(rank.cast("double") + 1.0))
                  .otherwise(0.0)).alias(f"dcg_{k}"),
            F.sum(F.when(within & hit, F.col("cum_hits").cast("double") / rank.cast("double"))
                  .otherwise(0.0)).alias(f"ap_{k}"),
            F.sum(F.when(within, F.col("info")).otherwise(0.0)).alias(f"info_{k}"),
            F.sum(F.when(within, F.col("pop")).otherwise(0.0)).alias(f"pop_{k}"),
            F.sum(F.when(within, 1).otherwise(0)).alias(f"slots_{k}"),
        ]
    per_user = slots.groupBy(C.USER).agg(*aggs)
    users = rel.groupBy(C.USER).agg(F.count(F.lit(1)).alias(_N_REL)).join(per_user, C.USER, "left")

    def z(name: str, zero: Any = 0) -> Column:
        return F.coalesce(F.col(name), F.lit(zero))

    out: list[Column] = [
        F.col(C.USER),
        z("n_slots").alias("n_slots"),
        (z("n_slots") - z("n_distinct_items")).alias("dup_items"),
        (z("n_slots") - z("n_distinct_ranks")).alias("dup_ranks"),
    ]
    out += [_metric(name, k, z).alias(f"{name}@{k}")
            for name in RANKING_METRICS if name in metrics for k in ks]
    for k in ks:
        out += [z(f"info_{k}", 0.0).alias(f"info_{k}"), z(f"pop_{k}", 0.0).alias(f"pop_{k}"),
                z(f"slots_{k}").cast("double").alias(f"slots_{k}")]
    return users.select(*out)


def _metric(name: str, k: int, z: Any) -> Column:
    """One user's ranking metric at ``k`` from the per-user sums (``z``: the column or a zero)."""
    hits = z(f"hits_{k}").cast("double")
    m = F.least(F.col(_N_REL), F.lit(k))
    if name == "precision":
        return hits / float(k)
    if name == "recall":
        return hits / F.col(_N_REL).cast("double")
    if name == "hit_rate":
        return F.when(hits > 0, 1.0).otherwise(0.0)
    if name == "ndcg":
        return z(f"dcg_{k}", 0.0) / _idcg(m)
    if name == "map":
        return z(f"ap_{k}", 0.0) / m.cast("double")
    if name == "mrr":
        return (F.when(F.col("first_hit") <= k, F.lit(1.0) / F.col("first_hit").cast("double"))
                .otherwise(0.0))
    raise ConfigError(f"unknown ranking metric {name!r}")


def _check_lists(n_users: int, dup_items: Any, dup_ranks: Any) -> None:
    if n_users == 0:
        raise DataValidationError("the test set has no relevant interactions to evaluate against")
    if dup_items:
        raise DataValidationError(
            "recommendations: some user is recommended the same item twice; each item may appear "
            "once per user")
    if dup_ranks:
        raise DataValidationError("recommendations: some user has two items at the same rank")


def _user_means(slots: DataFrame, rel: DataFrame, ks: tuple[int, ...],
                metrics: Sequence[str]) -> dict[str, float]:
    """Ranking metrics (means over scored users) and slot ratios (novelty, arp) in one job."""
    per_user = _per_user(slots, rel, ks, metrics)
    out: list[Column] = [F.count(F.lit(1)).alias("n_users"), F.max("dup_items").alias("dup_items"),
                         F.max("dup_ranks").alias("dup_ranks")]
    out += [F.avg(F.col(f"`{c}`")).alias(c) for c in per_user.columns if "@" in c]
    for k in ks:
        n_slots = F.sum(f"slots_{k}")
        for name, part in (("novelty", "info"), ("arp", "pop")):
            if name in metrics:
                out.append(F.when(n_slots > 0, F.sum(f"{part}_{k}") / n_slots)
                           .alias(f"{name}@{k}"))
    row = per_user.agg(*out).first()
    assert row is not None  # a global aggregation always returns one row
    _check_lists(row["n_users"], row["dup_items"], row["dup_ranks"])
    return {key: _float(row[key]) for key in row.asDict() if "@" in key}


def _catalogue(slots: DataFrame, pop: DataFrame, ks: tuple[int, ...],
               metrics: Sequence[str]) -> dict[str, float]:
    """coverage@K, gini@K (training catalogue) and personalization@K, one row per K."""
    exposure = slots.groupBy(C.ITEM).agg(
        *[F.sum(F.when(F.col(C.RANK) <= k, 1).otherwise(0)).alias(f"e_{k}") for k in ks])
    out: dict[str, float] = {}
    if "coverage" in metrics or "gini" in metrics:
        per_k = F.explode(F.array(*[
            F.struct(F.lit(k).alias("k"), F.coalesce(F.col(f"e_{k}"), F.lit(0)).cast("long")
                     .alias("x")) for k in ks]))
        values = (pop.select(C.ITEM).join(exposure, C.ITEM, "left")
                  .select(per_k.alias("kx")).select("kx.k", "kx.x")
                  .groupBy("k", "x").agg(F.count(F.lit(1)).alias("c")))
        # Gini over x sorted ascending, Σ_i (2i − n − 1) x_i / (n Σ x): the c items of value x hold
        # positions s+1 .. s+c (s items below), whose (2i − n − 1) sum to c (2s + c − n). In exact
        # integers, like NumPy's float64 sum of integer terms, so both divide the same two numbers.
        below = Window.partitionBy("k").orderBy("x").rowsBetween(
            Window.unboundedPreceding, -1)
        whole = Window.partitionBy("k")
        values = values.select(
            "k", "x", "c",
            F.coalesce(F.sum("c").over(below), F.lit(0)).alias("s"),
            F.sum("c").over(whole).alias("n"))
        rows = values.groupBy("k").agg(
            F.first("n").alias("n"),
            F.sum(F.when(F.col("x") > 0, F.col("c")).otherwise(0)).alias("covered"),
            F.sum(F.col("x") * F.col("c")).alias("total"),
            F.sum(F.col("x") * F.col("c") * (2 * F.col("s") + F.col("c") - F.col("n")))
            .alias("num"),
        ).collect()
        for r in rows:
            n, total = int(r["n"]), int(r["total"])
            if "coverage" in metrics:
                out[f"coverage@{r['k']}"] = int(r["covered"]) / max(n, 1)
            if "gini" in metrics:
                out[f"gini@{r['k']}"] = 0.0 if n == 0 or total == 0 else int(r["num"]) / (n * total)
        for k in ks:  # an empty catalogue: nothing covered, nothing unequal
            if "coverage" in metrics:
                out.setdefault(f"coverage@{k}", 0.0)
            if "gini" in metrics:
                out.setdefault(f"gini@{k}", 0.0)
    if "personalization" in metrics:
        first = slots.groupBy(C.USER).agg(F.min(C.RANK).alias("first"))
        shared = exposure.agg(*[
            F.sum(F.col(f"e_{k}") * (F.col(f"e_{k}") - 1) / 2).cast("long").alias(f"shared_{k}")
            for k in ks])
        lists = first.agg(*[F.sum(F.when(F.col("first") <= k, 1).otherwise(0)).alias(f"n_{k}")
                            for k in ks])
        row = shared.crossJoin(lists).first()
        assert row is not None
        for k in ks:
            n, sh = int(row[f"n_{k}"] or 0), int(row[f"shared_{k}"] or 0)
            out[f"personalization@{k}"] = (
                math.nan if n < 2 else 1.0 - sh / (n * (n - 1) / 2 * k))
    return out


def _check_request(recs: DataFrame, k: int | Sequence[int], metrics: Sequence[str] | None
                   ) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The checked cutoffs and metric names (default: every Spark metric); the lists' columns."""
    ks = check_ks(k)
    names = tuple(SPARK_METRICS if metrics is None else metrics)
    unknown = set(names) - set(SPARK_METRICS)
    if unknown:
        raise ConfigError(f"unknown metric(s) {sorted(unknown)}; known: {', '.join(SPARK_METRICS)}")
    _require(recs, "recommendations", C.USER, C.ITEM, C.RANK)
    return ks, names


def _n_train_users(train: DataFrame) -> DataFrame:
    """One row, ``n_users``: the distinct users with a training interaction."""
    return _ids(train).select(C.USER).distinct().agg(F.count(F.lit(1)).alias("n_users"))


def _catalogue_if_asked(slots: DataFrame, pop: DataFrame, ks: tuple[int, ...],
                        metrics: Sequence[str]) -> dict[str, float]:
    """:func:`_catalogue` when a catalogue metric is asked for (it costs Spark jobs), else ``{}``."""
    if {"coverage", "gini", "personalization"} & set(metrics):
        return _catalogue(slots, pop, ks, metrics)
    return {}


def evaluate_spark(
    recs: DataFrame,
    test: DataFrame,
    train: DataFrame,
    *,
    k: int | Sequence[int] = (10,),
    metrics: Sequence[str] | None = None,
    relevance_threshold: float | None = None,
    train_positive_threshold: float | None = None,
) -> dict[str, float]:
    """Metric values keyed ``"ndcg@10"`` (as ``EvaluationResult.to_dict()`` without intervals).

    ``metrics``: names from :data:`SPARK_METRICS` (default: all). ``relevance_threshold``: which test
    interactions count as relevant (rating ≥ t; default all). ``train_positive_threshold``: the
    training ``Dataset``'s ``positive_threshold``, which decides item popularity and the catalogue.
    """
    ks, metrics = _check_request(recs, k, metrics)
    rel = relevant_pairs(test, relevance_threshold)
    pop = item_popularity(train, train_positive_threshold)
    n_train = _n_train_users(train)
    slots = _slots(recs, rel, pop, n_train, ks[-1]).persist()
    try:
        out = _user_means(slots, rel, ks, metrics)
        out.update(_catalogue_if_asked(slots, pop, ks, metrics))
    finally:
        slots.unpersist()
    order = {m: i for i, m in enumerate(SPARK_METRICS)}
    return dict(sorted(out.items(),
                       key=lambda kv: (int(kv[0].split("@")[1]), order[kv[0].split("@")[0]])))


def evaluate_spark_result(
    recs: DataFrame,
    test: DataFrame,
    train: DataFrame,
    *,
    k: int | Sequence[int] = (10,),
    metrics: Sequence[str] | None = None,
    relevance_threshold: float | None = None,
    train_positive_threshold: float | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> EvaluationResult:
    """:func:`evaluate_spark` with per-user values and bootstrap intervals: the
    :class:`~movielens_lessons.evaluation.evaluate.EvaluationResult` that
    :func:`~movielens_lessons.evaluation.evaluate` returns for the same lists, built by the same
    :func:`~movielens_lessons.evaluation.evaluate.summarize` (so the same resamples of the same
    users give the same intervals). Spark computes one row of values per scored user; those rows
    (users × metrics, not the data) are collected to the driver."""
    ks, metrics = _check_request(recs, k, metrics)
    rel = relevant_pairs(test, relevance_threshold).persist()
    pop = item_popularity(train, train_positive_threshold)
    n_train = _n_train_users(train)
    slots = _slots(recs, rel, pop, n_train, ks[-1]).persist()
    try:
        table = _per_user(slots, rel, ks, metrics).toArrow()
        catalogue_values = _catalogue_if_asked(slots, pop, ks, metrics)
        scored = rel.select(C.USER).distinct()
        n_extra = _ids(recs).select(C.USER).distinct().join(scored, C.USER, "left_anti").count()
        first = n_train.first()
        assert first is not None  # a global aggregation always returns one row
        n_train_users = int(first[0])
        n_catalogue = pop.count()
    finally:
        slots.unpersist()
        rel.unpersist()
    cols = {name: table.column(name).to_numpy() for name in table.column_names}
    order = np.argsort(cols[C.USER], kind="stable")
    cols = {name: np.asarray(v)[order] for name, v in cols.items()}
    _check_lists(len(order), cols["dup_items"].max(initial=0), cols["dup_ranks"].max(initial=0))
    # the keys in evaluate()'s order: ranking metrics (each at every K), then novelty, arp
    per_user: dict[tuple[str, int | None], np.ndarray] = {}
    ratio_parts: dict[tuple[str, int | None], tuple[np.ndarray, np.ndarray]] = {}
    for name in RANKING_METRICS:
        if name in metrics:
            for kk in ks:
                per_user[(name, kk)] = cols[f"{name}@{kk}"].astype(np.float64)
    for name, part in (("novelty", "info"), ("arp", "pop")):
        if name in metrics:
            for kk in ks:
                total, n_slots = cols[f"{part}_{kk}"], cols[f"slots_{kk}"]
                with np.errstate(invalid="ignore", divide="ignore"):
                    per_user[(name, kk)] = np.where(n_slots > 0, total / n_slots, np.nan)
                ratio_parts[(name, kk)] = (total, n_slots)
    catalogue = {(key.split("@")[0], int(key.split("@")[1])): value
                 for key, value in catalogue_values.items()}
    return summarize(
        cols[C.USER], per_user, ratio_parts, catalogue, ks, n_bootstrap=n_bootstrap, seed=seed,
        n_users_without_recs=int((cols["n_slots"] == 0).sum()),
        n_recommended_users_not_in_test=int(n_extra),
        info={"n_train_users": n_train_users, "n_catalogue_items": int(n_catalogue),
              "relevance_threshold": relevance_threshold},
    )


def rating_errors(predictions: DataFrame, test: DataFrame) -> dict[str, float]:
    """RMSE and MAE over the test pairs with a finite prediction, as ``evaluate_predictions``.

    ``predictions``: ``userId, movieId, prediction``; ``test``: ``userId, movieId, rating``.
    Predictions for pairs outside the test set are ignored (``n_ignored``); a duplicated pair is an
    error. Returns ``{"rmse", "mae", "coverage", "n_test", "n_predicted", "n_ignored"}``.
    """
    _require(predictions, "predictions", C.USER, C.ITEM, C.PREDICTION)
    _require(test, "test", C.USER, C.ITEM)
    if C.RATING not in test.columns:
        raise DataValidationError("rating metrics need test ratings; the test data has none")
    pred = _ids(predictions, F.col(C.PREDICTION).cast("double").alias(C.PREDICTION))
    dup = pred.groupBy(C.USER, C.ITEM).count().where(F.col("count") > 1).first()
    if dup is not None:
        raise DataValidationError(
            f"duplicate prediction for userId {dup[C.USER]} movieId {dup[C.ITEM]}; one per pair")
    truth = _ids(test, F.col(C.RATING).cast("double").alias(C.RATING))
    p = F.col(C.PREDICTION)
    finite = p.isNotNull() & (F.abs(p) < F.lit(math.inf))  # Spark orders NaN above +inf
    d = p - F.col(C.RATING)
    stats = truth.join(pred, [C.USER, C.ITEM], "left").agg(
        F.count(F.lit(1)).alias("n_test"),
        F.sum(F.when(p.isNotNull() & ~F.isnan(p), 1).otherwise(0)).alias("n_matched"),
        F.sum(F.when(finite, 1).otherwise(0)).alias("n_ok"),
        F.sum(F.when(finite, d * d)).alias("sse"),
        F.sum(F.when(finite, F.abs(d))).alias("sae"),
    ).crossJoin(pred.agg(F.count(F.lit(1)).alias("n_pred")))
    row = stats.first()
    assert row is not None
    n_test, n_ok = int(row["n_test"]), int(row["n_ok"] or 0)
    return {
        "rmse": math.sqrt(row["sse"] / n_ok) if n_ok else math.nan,
        "mae": row["sae"] / n_ok if n_ok else math.nan,
        "coverage": n_ok / n_test if n_test else math.nan,
        "n_test": n_test,
        "n_predicted": n_ok,
        "n_ignored": int(row["n_pred"]) - int(row["n_matched"] or 0),
    }


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)
