"""Models written in PyTorch (extra ``torch``; install ``torch==2.13.0`` first for the CPU wheel).

Nothing here is imported by ``movielens_lessons`` or ``movielens_lessons.models``: the registry imports
a model's module by name when the model is asked for, after checking that ``torch`` imports. Modules
here may import ``torch`` at the top; this ``__init__`` must not.
"""
