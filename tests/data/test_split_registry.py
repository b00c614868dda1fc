"""Split strategies by name: unknown names and parameters, spelling, and k-fold's ``fold``."""

from __future__ import annotations

import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import STRATEGIES, split
from movielens_lessons.data.splits import user_kfold
from movielens_lessons.errors import ConfigError

from .split_data import same_split, synthetic_frame


@pytest.fixture(scope="module")
def synth() -> Dataset:
    return Dataset.from_frame(synthetic_frame(), name="synth")


def test_unknown_strategy_lists_the_known_ones(synth: Dataset) -> None:
    with pytest.raises(ConfigError) as info:
        split(synth, "leave-one-out-please")
    for name in STRATEGIES:
        assert name in str(info.value)


def test_unknown_parameter_is_a_config_error(synth: Dataset) -> None:
    with pytest.raises(ConfigError, match="leave_last"):
        split(synth, "random", leave_last=1)


def test_underscore_names_are_accepted(synth: Dataset) -> None:
    assert same_split(split(synth, "user_temporal"), split(synth, "user-temporal"))


def test_user_kfold_fold_by_name(synth: Dataset) -> None:
    folds = list(user_kfold(synth, n_splits=3, seed=1))
    assert same_split(split(synth, "user-kfold", n_splits=3, seed=1, fold=2), folds[2])
    with pytest.raises(ConfigError, match="fold"):
        split(synth, "user-kfold", n_splits=3, fold=3)
