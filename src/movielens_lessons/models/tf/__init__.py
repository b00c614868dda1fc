"""Models written in TensorFlow / Keras 3 (extra ``tf``: ``pip install "movielens-lessons[tf]"``).

Nothing here is imported by ``movielens_lessons`` or ``movielens_lessons.models``: the registry imports
a model's module by name when the model is asked for, after checking that ``tensorflow`` imports.
Modules here may import ``tensorflow`` / ``keras`` at the top; this ``__init__`` must not.
"""
