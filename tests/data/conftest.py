"""Fixtures for the data tests: the IMDb fixture dumps, gzipped into a folder as the real ones are."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest

from movielens_lessons.data.imdb_dumps import BASICS_FILE, RATINGS_FILE

IMDB_FIXTURES = Path(__file__).parent / "fixtures" / "imdb"


def _gzip_dumps(folder: Path, text_by_name: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in (BASICS_FILE, RATINGS_FILE):
        data = (IMDB_FIXTURES / name.removesuffix(".gz")).read_bytes()
        if text_by_name and name in text_by_name:
            data = text_by_name[name].encode("utf-8")
        with gzip.open(folder / name, "wb") as fh:
            fh.write(data)
    return folder


@pytest.fixture
def gzip_dumps() -> Callable[..., Path]:
    """``gzip_dumps(folder, {name: text})`` gzips both fixture dumps into ``folder`` (created) and returns
    it; a dump named in the optional dict gets that text instead of the fixture's."""
    return _gzip_dumps


@pytest.fixture
def imdb_dir(tmp_path: Path) -> Path:
    """Both fixture dumps gzipped into a fresh folder."""
    return _gzip_dumps(tmp_path / "imdb")
