"""A :class:`~movielens_lessons.data.dataset.Dataset`'s interactions as a Spark DataFrame and back,
through Arrow (no pandas round trip: pyspark's pandas path warns under pandas 3)."""

from __future__ import annotations

from typing import Any

import numpy as np

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset


def from_dataset(spark: Any, dataset: Dataset) -> Any:
    """The interactions with the canonical columns and external ids: ``userId``, ``movieId`` (int32),
    ``rating`` (float32, when the data has ratings), ``timestamp`` (int64 seconds, when it has them)."""
    import pyarrow as pa

    columns: dict[str, np.ndarray] = {
        C.USER: np.asarray(dataset.user_ids)[dataset.users].astype(np.int32),
        C.ITEM: np.asarray(dataset.item_ids)[dataset.items].astype(np.int32),
    }
    if dataset.ratings is not None:
        columns[C.RATING] = np.asarray(dataset.ratings, dtype=np.float32)
    if dataset.timestamps is not None:
        columns[C.TIMESTAMP] = np.asarray(dataset.timestamps, dtype=np.int64)
    return spark.createDataFrame(pa.table(columns))


def to_numpy(df: Any) -> dict[str, np.ndarray]:
    """A Spark DataFrame's columns as NumPy arrays (collected to the driver through Arrow)."""
    table = df.toArrow()
    return {name: table.column(name).to_numpy() for name in table.column_names}


def fingerprint(df: Any) -> str:
    """An order-free fingerprint of a DataFrame's interactions, ``spark:`` + 16 hex digits: the
    row count and the sum (mod 2⁶⁴) of a 64-bit hash of each row. Equal data, however partitioned,
    give equal fingerprints; it differs from ``Dataset.fingerprint()``, which hashes the id maps."""
    from pyspark.sql import functions as F

    cols = [c for c in (C.USER, C.ITEM, C.RATING, C.TIMESTAMP) if c in df.columns]
    row = df.agg(F.count(F.lit(1)).alias("n"),
                 F.sum(F.xxhash64(*[F.col(c) for c in cols]).cast("decimal(38,0)")).alias("h")
                 ).first()
    n, h = int(row["n"]), int(row["h"] or 0)
    return f"spark:{(h + n * 0x9E3779B97F4A7C15) % 2**64:016x}"
