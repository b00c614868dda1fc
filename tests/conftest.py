"""Shared fixtures: the real ml-latest-small (read once, checked unchanged after each test) and tiny data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset

ML_SMALL = "ml-latest-small"


def _real_data_dir() -> Path | None:
    env = os.environ.get("MOVIELENS_DATA_DIR")
    if env and (Path(env) / ML_SMALL / "ratings.csv").is_file():
        return Path(env)
    return None


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """Folder holding the pristine ``ml-latest-small/`` (``$MOVIELENS_DATA_DIR``)."""
    path = _real_data_dir()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must set MOVIELENS_DATA_DIR to a folder with ml-latest-small/")
        pytest.skip(
            "set MOVIELENS_DATA_DIR to a folder with ml-latest-small/ to run real-data tests"
        )
    return path


@pytest.fixture(scope="session")
def _ml_small_shared(real_data_dir: Path) -> tuple[Dataset, str]:
    from movielens_lessons.data.loading import load_dataset

    ds = load_dataset(ML_SMALL, data_dir=real_data_dir)
    return ds, ds.fingerprint()


@pytest.fixture
def ml_small(_ml_small_shared: tuple[Dataset, str]):
    """The real ml-latest-small as a :class:`Dataset`, shared by all tests and asserted unchanged."""
    ds, fingerprint = _ml_small_shared
    movies_before = None if ds.movies is None else len(ds.movies)
    yield ds
    ds._cache.pop("fingerprint", None)
    assert ds.fingerprint() == fingerprint, "a test mutated the shared real dataset"
    assert (None if ds.movies is None else len(ds.movies)) == movies_before


@pytest.fixture
def tiny_ratings() -> pd.DataFrame:
    """Three users, five items, hand-made, with timestamps; small enough to reason about by hand."""
    return pd.DataFrame(
        {
            C.USER: np.array([1, 1, 1, 2, 2, 3, 3, 3, 3], dtype=np.int32),
            C.ITEM: np.array([10, 20, 30, 10, 40, 20, 30, 40, 50], dtype=np.int32),
            C.RATING: np.array([5, 3, 4, 2, 5, 4.5, 1, 3.5, 4], dtype=np.float32),
            C.TIMESTAMP: np.array([100, 200, 300, 150, 250, 50, 60, 70, 80], dtype=np.int64),
        }
    )


@pytest.fixture
def tiny(tiny_ratings: pd.DataFrame) -> Dataset:
    return Dataset.from_frame(tiny_ratings, name="tiny")


@pytest.fixture(scope="session")
def spark():
    """The test run's one SparkSession (``local[2]``; starting one costs ~5-20 s, so it is shared).

    Skipped without pyspark outside CI; in CI a missing pyspark or Java fails."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must install the spark extra for the spark tests")
        pytest.skip("pyspark is not installed (pip install 'movielens-lessons[spark]')")
    from movielens_lessons.spark.session import spark_session

    return spark_session("local[2]")
