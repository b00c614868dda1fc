"""Fixtures for the EDA tests: a small synthetic CSV release whose links point into the IMDb fixtures."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.synth import synthesize, write_movielens

FIXTURES = Path(__file__).parents[1] / "data" / "fixtures"
#: imdbIds (as in links.csv) of the IMDb fixture titles, plus one in neither dump (7654321).
LINKED_IMDB_IDS = ["0114709", "0113497", "0038650", "0115963", "0120363", "12345678", "7654321"]


def write_synthetic_release(data_dir: Path) -> Path:
    """A 3,000-rating ml-latest-small look-alike in ``data_dir/ml-latest-small``; its first movies link
    to the IMDb fixture titles. Returns the release folder."""
    data = synthesize(n_users=80, n_items=300, n_ratings=3000, seed=7)
    folder = write_movielens(data, data_dir / "ml-latest-small")
    links = pd.read_csv(folder / "links.csv", dtype={C.IMDB_ID: str})
    links.loc[: len(LINKED_IMDB_IDS) - 1, C.IMDB_ID] = LINKED_IMDB_IDS
    links.to_csv(folder / "links.csv", index=False, lineterminator="\n")
    return folder


@pytest.fixture(scope="session")
def synthetic_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder holding a synthetic ``ml-latest-small/`` (see :func:`write_synthetic_release`)."""
    root = tmp_path_factory.mktemp("synthetic")
    write_synthetic_release(root)
    return root


@pytest.fixture(scope="session")
def imdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The part-A IMDb fixtures gzipped into a folder, as the real dumps are."""
    folder = tmp_path_factory.mktemp("imdb")
    for name in ("title.basics.tsv", "title.ratings.tsv"):
        with (
            open(FIXTURES / "imdb" / name, "rb") as src,
            gzip.open(folder / f"{name}.gz", "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
    return folder


@pytest.fixture(scope="session")
def synthetic_report(
    synthetic_data_dir: Path, imdb_dir: Path, tmp_path_factory: pytest.TempPathFactory
):
    """The report of the synthetic release with the IMDb section, built once for all tests."""
    from movielens_lessons.data.loading import read_source
    from movielens_lessons.eda import build_report

    data = read_source("ml-latest-small", data_dir=synthetic_data_dir)
    return build_report(data, tmp_path_factory.mktemp("report"), imdb_dir=imdb_dir)
