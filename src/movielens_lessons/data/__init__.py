"""Data: finding, reading and validating MovieLens releases and your own files, as one :class:`Dataset`."""

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.loading import load_dataset, load_release
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers import read_release

__all__ = ["Dataset", "MovieLensData", "load_dataset", "load_release", "read_release"]
