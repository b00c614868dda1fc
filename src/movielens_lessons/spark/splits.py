"""The protocol splits done by Spark, with the single-machine definitions
(:mod:`movielens_lessons.data.split_masks`): same shares, same rounding, same tie rules.

Input: a Spark DataFrame with the canonical columns (``userId``, ``movieId``, ``rating``,
``timestamp``); output: ``(train, test)`` DataFrames with the same columns.

- ``user-temporal``: each user's last ``share(test_size, n_u)`` rows in (timestamp, movieId) order,
  capped so ``min_train`` rows stay in train: **identical** to the single-machine split.
- ``temporal``: every row at or after the cut, the timestamp of the ``n - n_test``-th row in time
  order (ties go to test): **identical**.
- ``user-random``: each user gives exactly as many rows to test as the single-machine split, but
  *which* rows differs: the single-machine split draws NumPy's generator over the rows in stored
  order, which has no distributed equivalent, so Spark ranks each user's rows by a seeded hash of
  (seed, userId, movieId) instead. Same per-user counts, seeded and repeatable, independent of
  partitioning; not the same rows (tested: the counts match, the sets do not).

``share(f, n) = floor(f · n + 0.5)``, as :func:`~movielens_lessons.data.split_masks.share`.
"""

from __future__ import annotations

from typing import Any

from movielens_lessons import columns as C
from movielens_lessons.data.split_masks import check_count, check_fraction, check_seed
from movielens_lessons.errors import ConfigError

STRATEGIES = ("user-temporal", "temporal", "user-random")


def _share(fraction: float, n: Any) -> Any:
    from pyspark.sql import functions as F

    return F.floor(F.lit(float(fraction)) * n.cast("double") + F.lit(0.5)).cast("long")


def _per_user_cut(df: Any, order: list[Any], test_size: float, min_train: int) -> tuple[Any, Any]:
    """Rows whose position in ``order`` within their user is among the user's last ``n_test``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by_user = Window.partitionBy(C.USER)
    ranked = (
        df.withColumn("_pos", F.row_number().over(by_user.orderBy(*order)) - 1)
        .withColumn("_n", F.count(F.lit(1)).over(by_user))
        .withColumn("_n_test", F.least(_share(test_size, F.col("_n")),
                                       F.greatest(F.col("_n") - min_train, F.lit(0))))
    )  # fmt: skip
    is_test = F.col("_pos") >= F.col("_n") - F.col("_n_test")
    keep = df.columns
    return ranked.where(~is_test).select(*keep), ranked.where(is_test).select(*keep)


def user_temporal(df: Any, test_size: float = 0.2, min_train: int = 1) -> tuple[Any, Any]:
    """Each user's latest ``test_size`` share (equal timestamps ordered by movieId) as test."""
    from pyspark.sql import functions as F

    test_size = check_fraction("test_size", test_size)
    min_train = check_count("min_train", min_train, 0)
    return _per_user_cut(df, [F.col(C.TIMESTAMP), F.col(C.ITEM)], test_size, min_train)


def user_random(df: Any, test_size: float = 0.2, seed: int = 42, min_train: int = 1
                ) -> tuple[Any, Any]:
    """Each user's ``share(test_size, n_u)`` rows with the smallest seeded hash as test."""
    from pyspark.sql import functions as F

    test_size, seed = check_fraction("test_size", test_size), check_seed(seed)
    min_train = check_count("min_train", min_train, 0)
    # xxhash64 of (seed, user, item): a per-row random key that does not depend on partitioning
    key = F.xxhash64(F.lit(seed), F.col(C.USER), F.col(C.ITEM))
    return _per_user_cut(df, [key.desc(), F.col(C.ITEM)], test_size, min_train)


def temporal(df: Any, test_size: float = 0.2) -> tuple[Any, Any]:
    """Everything at or after the timestamp of the ``n - share(test_size, n)``-th row in time order.

    The exact order statistic without sorting every row in one partition: Spark's approximate
    quantiles bracket it (relative error 1e-3, so the bracket holds ~0.4 % of the rows), the rows
    below the bracket are counted, and only the bracket's timestamps are sorted on the driver."""
    from pyspark.sql import functions as F

    test_size = check_fraction("test_size", test_size)
    n = df.count()
    if n < 2:
        raise ConfigError(f"a temporal split needs at least 2 interactions, got {n}")
    n_test = min(max(int(test_size * n + 0.5), 1), n - 1)
    rank = n - n_test  # 0-based rank of the first test row in time order
    ts = F.col(C.TIMESTAMP)
    error = 1e-3
    p = rank / n
    lo, hi = df.approxQuantile(C.TIMESTAMP, [max(p - 2 * error, 0.0), min(p + 2 * error, 1.0)],
                               error)  # fmt: skip
    below = df.where(ts < lo).count()
    inside = sorted(r[0] for r in df.where((ts >= lo) & (ts <= hi)).select(ts).collect())
    if not below <= rank < below + len(inside):  # the bracket missed: sort everything (exact)
        cut = df.select(ts).orderBy(ts).limit(rank + 1).tail(1)[0][0]
    else:
        cut = inside[rank - below]
    test = df.where(ts >= cut)
    train = df.where(ts < cut)
    if train.limit(1).count() == 0:
        raise ConfigError("the temporal cut leaves the train set empty (every row shares the cut)")
    return train, test


def split(df: Any, strategy: str, **params: Any) -> tuple[Any, Any]:
    """``(train, test)`` of ``df`` by a protocol's strategy name and parameters."""
    functions = {"user-temporal": user_temporal, "temporal": temporal, "user-random": user_random}
    if strategy not in functions:
        raise ConfigError(f"Spark splits know {', '.join(STRATEGIES)}; got {strategy!r}")
    return functions[strategy](df, **params)
