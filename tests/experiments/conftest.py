"""Shared fixtures: a small synthetic dataset, a cheap benchmark config, and one finished run of it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.config_loading import load_config
from movielens_lessons.models import registry

TINY_TOML = Path(__file__).with_name("tiny.toml")
#: Models of the shared run: cheap ones, implicit and explicit, one that fails, one "not installed".
RUN_MODELS = ("most-popular", "item-knn", "ease", "pure-svd", "bias-baseline", "als")


def synthetic_dataset(n_users: int = 150, n_items: int = 120, n_ratings: int = 4000,
                      seed: int = 3) -> Dataset:
    from movielens_lessons.data.synth import synthesize

    data = synthesize(n_users, n_items, n_ratings, seed=seed)
    return Dataset.from_frame(data.ratings, movies=data.movies, name="synthetic")


@pytest.fixture(scope="session")
def synth_data() -> Dataset:
    return synthetic_dataset()


@pytest.fixture(scope="session")
def tiny_config() -> BenchmarkConfig:
    return load_config(TINY_TOML)


def small_config(tiny_config: BenchmarkConfig) -> BenchmarkConfig:
    """The tiny config with :data:`RUN_MODELS`; pure-svd gets an impossible rank, so it must fail."""
    models = tuple(
        replace(m, params={"n_factors": 0}) if m.name == "pure-svd" else m
        for m in tiny_config.models
        if m.name in RUN_MODELS
    )
    return replace(tiny_config, models=models)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_config, synth_data):
    """One benchmark run (two protocols) with als reported "not installed" and pure-svd failing."""
    from movielens_lessons.experiments.benchmark import run_benchmark

    out = tmp_path_factory.mktemp("runs") / "run-a"
    config = small_config(tiny_config)
    with pytest.MonkeyPatch.context() as mp:
        spec = registry.MODELS["als"]
        mp.setitem(registry.MODELS, "als", replace(spec, requires=("no_such_module_for_test",)))
        result = run_benchmark(config, out, dataset=synth_data)
    return result
