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
