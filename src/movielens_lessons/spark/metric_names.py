"""The metrics Spark computes, named as in :mod:`movielens_lessons.evaluation` (no Spark import, so
a configuration can be checked without pyspark)."""

from __future__ import annotations

from movielens_lessons.evaluation.ranking import RANKING_METRICS

#: Every metric :func:`movielens_lessons.spark.metrics.evaluate_spark` computes.
SPARK_METRICS = (*RANKING_METRICS, "novelty", "arp", "coverage", "gini", "personalization")
