"""Apache Spark plumbing shared by the Spark models, data path and evaluation (extra ``spark``).

Nothing outside ``movielens_lessons.spark`` and ``movielens_lessons.models.spark`` imports ``pyspark``;
this ``__init__`` must not either, so that the package imports without Spark installed.
"""
