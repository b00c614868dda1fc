"""Models that run on Apache Spark (extra ``spark``: ``pip install "movielens-lessons[spark]"``).

Nothing here is imported by ``movielens_lessons`` or ``movielens_lessons.models``: the registry imports
a model's module by name when the model is asked for, after checking that ``pyspark`` imports. Modules
here may import ``pyspark`` at the top; this ``__init__`` must not.
"""
