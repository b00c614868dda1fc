"""Shared fixtures for the lesson checks: each lesson's numbers re-derived from the run it cites.

One data load, the benchmark's two splits and the ranker's first-stage EASE per split are
shared by the whole package (session scope); every test reads its page from ``docs/lessons/``
and asserts that the recomputed number appears there exactly as printed.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "docs" / "lessons"


def load_benchmark(name: str) -> ModuleType:
    """Import ``benchmarks/<name>.py`` (a script folder, not a package) as a module."""
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_lesson_bench_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_text(name: str) -> str:
    """The markdown of ``docs/lessons/<name>.md``, with line breaks inside paragraphs joined."""
    text = (LESSONS / f"{name}.md").read_text(encoding="utf-8")
    text = re.sub(r"(?<=\S)\n[ \t]+(?=\S)", " ", text)  # indented continuation lines
    return re.sub(r"(?<=\S)\n(?=[^\s|#>*`-])", " ", text)  # unindented ones (not tables, lists)


def assert_on_page(name: str, *expected: str) -> None:
    """Each of ``expected`` (a recomputed number, formatted as the page prints it) is on the page."""
    text = page_text(name)
    missing = [e for e in expected if e not in text]
    assert not missing, f"docs/lessons/{name}.md does not contain {missing} (recomputed from a run)"


@pytest.fixture(scope="session")
def tables() -> ModuleType:
    """``benchmarks/lesson_tables.py``, the script the four new lessons cite."""
    return load_benchmark("lesson_tables")


@pytest.fixture(scope="session")
def ds(_ml_small_shared):
    """The real ml-latest-small (the root conftest's shared, read-once Dataset), checked unchanged
    once the lesson tests are done."""
    dataset, fingerprint = _ml_small_shared
    yield dataset
    dataset._cache.pop("fingerprint", None)
    assert dataset.fingerprint() == fingerprint, "a lesson test mutated the shared real dataset"


@pytest.fixture(scope="session")
def splits(ds, tables) -> dict:
    """The benchmark config's two protocols: ``user-temporal`` (P2) and ``user-random`` (P1)."""
    return {p: tables.make_split(ds, p) for p in tables.PROTOCOLS}


@pytest.fixture(scope="session")
def ease_first_stage(splits) -> dict:
    """The ranker's first-stage EASE (constructor defaults, ``max_items=3000``) per protocol (~1 s
    each; the full-catalogue EASE costs 5 s idle and minutes on a loaded 2-core machine)."""
    from movielens_lessons.models.registry import create_model

    return {p: create_model("ease", max_items=3000).fit(sp.train) for p, sp in splits.items()}


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """One BLAS thread: on a busy 2-core machine two threads make the fits here 2-3× slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def on_page():
    """``on_page(name, *numbers)``: assert each formatted number is on ``docs/lessons/<name>.md``."""
    return assert_on_page


@pytest.fixture(scope="session")
def raw(real_data_dir: Path):
    """ml-latest-small as the EDA reads it (:class:`MovieLensData`: ratings, movies, tags, links)."""
    from movielens_lessons.data.loading import read_source

    return read_source("ml-latest-small", data_dir=real_data_dir)


@pytest.fixture(scope="session")
def bench():
    """``bench(name)``: import ``benchmarks/<name>.py`` to call its functions."""
    return load_benchmark
