"""Any fitted model recommending and predicting inside Spark, from the arrays it saves.

The driver broadcasts the model's saved contents (``model.json``'s fields and ``arrays.npz``'s
arrays, without the seen-item matrix: :func:`~movielens_lessons.models.artifacts.model_contents`),
and each Python worker rebuilds the model once and runs the model's own ``recommend`` / ``predict``
over its partitions of users or pairs (``mapInArrow``). The items each user has seen arrive with the
user's row, gathered from a DataFrame of training interactions, so nothing that grows with the data
is broadcast but the model itself. The lists are therefore the NumPy path's, slot for slot: the same
scores, the same exclusion of seen items, the same tie rule (lower item id first) and the same
popularity fallback for users the model does not know.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.topk import check_k
from movielens_lessons.spark.session import quiet_pandas_check

_SEEN = "_seen"
#: Output schema of :func:`recommend_in_spark` (external ids; ``rank`` 1-based).
RECOMMENDATION_SCHEMA = f"{C.USER} long, {C.ITEM} long, {C.RANK} int, {C.SCORE} float"

_WORKER_MODELS: dict[str, BaseRecommender] = {}  # per Python worker: token → rebuilt model


def _broadcast_model(spark: Any, model: BaseRecommender) -> tuple[str, Any]:
    """A token naming this broadcast, and the broadcast of the model's saved contents."""
    import uuid

    from movielens_lessons.models.artifacts import model_contents

    meta, arrays = model_contents(model)
    arrays = {k: v for k, v in arrays.items() if k not in ("seen_indptr_", "seen_indices_")}
    return uuid.uuid4().hex, spark.sparkContext.broadcast((meta, arrays))


def _worker_model(shared: tuple[str, Any]) -> BaseRecommender:
    """The model rebuilt from the broadcast contents, once per Python worker and broadcast."""
    token, broadcast = shared
    model = _WORKER_MODELS.get(token)
    if model is None:
        from movielens_lessons.models.artifacts import restore_model

        meta, arrays = broadcast.value
        n_users = len(arrays["user_ids_"])
        arrays = {**arrays, "seen_indptr_": np.zeros(n_users + 1, dtype=np.int32),
                  "seen_indices_": np.zeros(0, dtype=np.int32)}
        model = restore_model(BaseRecommender, meta, arrays)
        _WORKER_MODELS.clear()  # a worker serves one model at a time
        _WORKER_MODELS[token] = model
    return model


def _seen_rows(model: BaseRecommender, users: np.ndarray, seen: Any) -> sp.csr_matrix:
    """An ``(n_users, n_items)`` seen matrix holding only ``users``' rows (external ids), from
    their lists of seen external item ids (``seen``: an Arrow list array aligned with ``users``)."""
    internal = np.searchsorted(model.user_ids_, users)
    internal = np.minimum(internal, max(model.n_users - 1, 0))
    known = model.user_ids_[internal] == users if model.n_users else np.zeros(len(users), bool)
    lengths = np.asarray(seen.value_lengths().fill_null(0), dtype=np.int64)
    flat = np.asarray(seen.flatten(), dtype=np.int64)
    row_of = np.repeat(internal, lengths)
    keep = np.repeat(known, lengths)
    cols = np.searchsorted(model.item_ids_, flat)
    cols = np.minimum(cols, max(model.n_items - 1, 0))
    keep &= model.item_ids_[cols] == flat if model.n_items else False  # an unknown item: not masked
    return sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.float32), (row_of[keep], cols[keep])),
        shape=(model.n_users, model.n_items),
    )


def recommend_in_spark(model: BaseRecommender, users: Any, k: int = 10, seen: Any = None) -> Any:
    """Top-``k`` lists for the ``userId``s of the DataFrame ``users``, computed by Spark workers:
    a DataFrame ``userId, movieId, rank, score`` (one row per filled slot).

    ``seen``: a DataFrame with ``userId, movieId`` of the interactions to exclude (the training
    data); ``None`` excludes nothing. A user the model does not know gets the popularity fallback."""
    from pyspark.sql import functions as F

    k = check_k(k)
    model._check_fitted()
    spark = users.sparkSession
    frame = users.select(F.col(C.USER).cast("long")).distinct()
    if seen is not None:
        lists = seen.groupBy(F.col(C.USER).cast("long").alias(C.USER)).agg(
            F.collect_list(F.col(C.ITEM).cast("long")).alias(_SEEN))
        frame = frame.join(lists, C.USER, "left")
    else:
        frame = frame.withColumn(_SEEN, F.lit(None).cast("array<long>"))
    shared = _broadcast_model(spark, model)

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        worker = _worker_model(shared)
        for batch in batches:
            ext = np.asarray(batch.column(C.USER), dtype=np.int64)
            worker.seen_ = _seen_rows(worker, ext, batch.column(_SEEN))
            recs = worker.recommend(ext, k=k)
            filled = recs.items >= 0
            yield pa.RecordBatch.from_pydict({
                C.USER: np.repeat(ext, filled.sum(axis=1)),
                C.ITEM: np.asarray(worker.item_ids_)[recs.items[filled]].astype(np.int64),
                C.RANK: np.nonzero(filled)[1].astype(np.int32) + 1,
                C.SCORE: recs.scores[filled].astype(np.float32),
            })

    with quiet_pandas_check():
        return frame.mapInArrow(run, RECOMMENDATION_SCHEMA)


def predict_in_spark(model: BaseRecommender, pairs: Any) -> Any:
    """``pairs`` (``userId, movieId``, other columns kept) with the model's ``prediction`` (float)
    for each, computed by Spark workers with the model's own ``predict``."""
    from pyspark.sql import types as T

    model._check_fitted()
    spark = pairs.sparkSession
    shared = _broadcast_model(spark, model)
    schema = T.StructType([*pairs.schema.fields,
                           T.StructField(C.PREDICTION, T.FloatType(), True)])

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        worker = _worker_model(shared)
        for batch in batches:
            users = np.asarray(batch.column(C.USER), dtype=np.int64)
            items = np.asarray(batch.column(C.ITEM), dtype=np.int64)
            pred = np.asarray(worker.predict(users, items), dtype=np.float32)
            yield pa.RecordBatch.from_arrays([*batch.columns, pa.array(pred)],
                                             names=[*batch.schema.names, C.PREDICTION])

    with quiet_pandas_check():
        return pairs.mapInArrow(run, schema)

