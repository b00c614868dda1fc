"""movielens-lessons: how recommender systems are built, measured honestly on MovieLens."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("movielens-lessons")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
