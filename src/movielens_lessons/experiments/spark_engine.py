"""The benchmark on Spark (``engine = "spark"``): data → split → fit → recommend → evaluate, in Spark.

The same job as :mod:`movielens_lessons.experiments.runner`, with every step that grows with the data
done by Spark: the ratings are read by Spark's readers (:mod:`movielens_lessons.spark.readers`), split
by Spark (:mod:`movielens_lessons.spark.splits`), the models are trained from the Spark DataFrame
(``fit_spark``), their top-K lists are computed by Spark workers from the models' saved arrays
(:func:`~movielens_lessons.models.spark.distributed.recommend_in_spark`), and scored by Spark
(:func:`~movielens_lessons.spark.metrics.evaluate_spark_result`: per-user values, then the same
bootstrap as the single-machine evaluation). The driver receives what is bounded by users and items,
not by interactions: per-user metric values, the top-K lists (written to the run folder), item
popularity, the models' factors and id maps, and the seen pairs that a saved model keeps for serving.

The result is the same :class:`~movielens_lessons.experiments.runner.ProtocolRun` list, so the
leaderboard, report, results store and run folder are the single-machine run's. Differences, by
design: the per-user random split draws its rows by a seeded hash (:mod:`movielens_lessons.spark.splits`;
same per-user counts, other rows); fingerprints are Spark's order-free ones (``spark:…``); the splits
are not written to the run folder (they can be as large as the data; the fingerprints and the config
redo them); peak memory is the driver's Python process (Spark's JVM and workers are other processes).

The session comes from the config's ``[spark]`` table (or ``--spark-master`` / ``$SPARK_MASTER``), so
the same config runs on a laptop (``local[*]``) and, through ``spark-submit``, on a cluster.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from movielens_lessons import columns as C
from movielens_lessons.experiments.config import BenchmarkConfig, ModelConfig, ProtocolConfig
from movielens_lessons.experiments.runner import (
    ModelRun,
    Progress,
    ProtocolRun,
    measure_fit,
    new_model_run,
    record_failure,
    status_line,
)
from movielens_lessons.models.registry import create_model


def spark_for(config: BenchmarkConfig, master: str | None = None) -> Any:
    """The process's SparkSession, started with the config's ``[spark]`` settings (``master``, e.g.
    ``--spark-master``, over ``spark.master``, over ``$SPARK_MASTER``, over ``local[*]``)."""
    from movielens_lessons.spark.session import session_settings, spark_session

    url, conf, checkpoint = session_settings(config.spark, master)
    return spark_session(url, conf, checkpoint)


def run_protocols_spark(config: BenchmarkConfig, out_dir: Path | None = None,
                        progress: Progress | None = None, *,
                        data_dir: str | os.PathLike[str] | None = None, master: str | None = None
                        ) -> tuple[list[ProtocolRun], dict[str, Any]]:
    """Every model of ``config`` on every protocol, in Spark. Returns the protocol runs and the
    data's description (``dataset_name``, ``dataset_fingerprint``, ``n_interactions``)."""
    from movielens_lessons.spark.duplicates import keep_latest
    from movielens_lessons.spark.frames import fingerprint
    from movielens_lessons.spark.readers import read_source
    from movielens_lessons.spark.splits import split

    say = progress or (lambda _: None)
    spark = spark_for(config, master)
    say(f"reading {config.dataset} with Spark ({spark.sparkContext.master})")
    raw = read_source(spark, config.dataset, data_dir=data_dir or config.data_dir)
    data, dropped = keep_latest(raw)
    if dropped:
        say(f"{dropped:,} repeated (user, movie) rows dropped: the latest of each pair is kept")
    data = data.persist()
    try:
        data_info = {"dataset_name": config.dataset, "dataset_fingerprint": fingerprint(data),
                     "n_interactions": data.count(), "n_duplicates_dropped": dropped,
                     "spark_master": spark.sparkContext.master}
        runs = []
        for protocol in config.protocols:
            say(f"[{protocol.name}] splitting in Spark ({protocol.strategy})")
            train, test = split(data, protocol.strategy, **protocol.params)
            train, test = train.persist(), test.persist()
            try:
                prun, items = _protocol_run(protocol, train, test)
                for model_cfg in config.models:
                    prun.models.append(_run_model(config, model_cfg, protocol, train, test, items,
                                                  out_dir, say))
            finally:
                train.unpersist()
                test.unpersist()
            runs.append(prun)
    finally:
        data.unpersist()
    return runs, data_info


def _protocol_run(protocol: ProtocolConfig, train: Any, test: Any
                  ) -> tuple[ProtocolRun, np.ndarray]:
    """The protocol's description (as ``ProtocolRun.from_split``'s) and its training items
    (sorted external ids: the index of ``train_popularity`` and of every exposure array)."""
    from pyspark.sql import functions as F

    from movielens_lessons.spark.frames import fingerprint
    from movielens_lessons.spark.leakage import leakage_report

    leakage = leakage_report(train, test)
    counts = train.groupBy(F.col(C.ITEM).cast("long").alias(C.ITEM)).count().toArrow()
    ids = counts.column(C.ITEM).to_numpy()
    order = np.argsort(ids)
    info = {"name": protocol.name, "strategy": protocol.strategy, "params": dict(protocol.params),
            "n_train": leakage.n_train, "n_test": leakage.n_test,
            "n_test_users": leakage.n_test_users, "train_fingerprint": fingerprint(train),
            "test_fingerprint": fingerprint(test), "leakage": leakage.to_dict(),
            "engine": "spark"}
    popularity = counts.column("count").to_numpy()[order].astype(np.int64)
    return ProtocolRun(protocol, info, popularity), ids[order]


def _run_model(config: BenchmarkConfig, model_cfg: ModelConfig, protocol: ProtocolConfig,
               train: Any, test: Any, items: np.ndarray, out_dir: Path | None,
               say: Progress) -> ModelRun:
    """Fit, recommend, evaluate (and predict, for explicit models) one model in Spark; never
    raises (a failure is the run's ``failed`` status and an ``errors.log`` entry)."""
    from movielens_lessons.models.spark.distributed import predict_in_spark, recommend_in_spark
    from movielens_lessons.spark.frames import to_numpy
    from movielens_lessons.spark.metric_names import SPARK_METRICS
    from movielens_lessons.spark.metrics import evaluate_spark_result, rating_errors

    run = new_model_run(config, model_cfg, protocol)
    if run.status == "skipped":
        return run
    recs = None
    try:
        model = create_model(model_cfg.name, **run.params)
        say(f"[{protocol.name}] {model_cfg.name}: fitting in Spark")
        measure_fit(run, lambda: model.fit_spark(train, config.positive_threshold))
        start = time.perf_counter()
        recs = recommend_in_spark(model, test.select(C.USER), k=config.k_max, seen=train).persist()
        recs.count()  # the lists are computed here, not lazily inside the evaluation
        run.recommend_seconds = time.perf_counter() - start
        run.result = evaluate_spark_result(
            recs, test, train, k=config.k, metrics=config.metrics or SPARK_METRICS,
            relevance_threshold=config.relevance_threshold,
            train_positive_threshold=config.positive_threshold,
            n_bootstrap=config.n_bootstrap, seed=config.seed)
        lists = to_numpy(recs)
        _, k_primary = config.primary()
        top = lists[C.ITEM][lists[C.RANK] <= k_primary]
        run.exposure = np.bincount(np.searchsorted(items, top), minlength=len(items))
        if run.feedback == "explicit" and C.RATING in test.columns:
            start = time.perf_counter()
            pred = predict_in_spark(model, test.select(C.USER, C.ITEM))
            run.rating = rating_errors(pred, test)
            run.predict_seconds = time.perf_counter() - start
        if out_dir is not None:
            run.artifact_path = model.save(out_dir / "models" / protocol.name / model_cfg.name)
            path = out_dir / "recommendations" / protocol.name / f"{model_cfg.name}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_lists(lists, path)
            run.recommendations_path = path
    except Exception as exc:  # a failing model is reported, and the benchmark goes on
        record_failure(run, exc, out_dir)
    finally:
        if recs is not None:
            recs.unpersist()
    say(status_line(run))
    return run


def _write_lists(lists: dict[str, np.ndarray], path: Path) -> None:
    """The top-K lists as the single-machine run writes them: ``userId, movieId, rank, score``,
    by user and rank."""
    import pandas as pd

    frame = pd.DataFrame({c: lists[c] for c in (C.USER, C.ITEM, C.RANK, C.SCORE)})
    frame.sort_values([C.USER, C.RANK]).to_csv(path, index=False)
