"""models.params: one wording per kind of bad constructor parameter, values returned as plain numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.params import check_flag, check_int, check_number, check_seed


def test_check_int_accepts_integers_and_returns_python_ints() -> None:
    assert check_int("n", np.int64(3)) == 3 and type(check_int("n", np.int64(3))) is int
    assert check_int("n", 0, minimum=0) == 0


@pytest.mark.parametrize(
    ("value", "minimum", "message"),
    [
        (0, 1, "n must be a positive integer, got 0"),
        (2.0, 1, "n must be a positive integer, got 2.0"),
        (True, 1, "n must be a positive integer, got True"),
        ("3", 1, "n must be a positive integer, got '3'"),
        (-1, 0, "n must be an integer ≥ 0, got -1"),
    ],
)
def test_check_int_rejects(value, minimum: int, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        check_int("n", value, minimum=minimum)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("kwargs", "value", "message"),
    [
        ({"low": 0.0}, -0.5, "x must be a number ≥ 0, got -0.5"),
        ({"low": 0.0, "low_open": True}, 0, "x must be a number > 0, got 0"),
        ({"low": 0.0, "high": 1.0, "high_open": True}, 1.0, "x must be a number in [0, 1), got 1.0"),
        ({"low": 0.0, "high": 1.0}, 1.5, "x must be a number in [0, 1], got 1.5"),
        ({"high": 2.0, "high_open": True}, 2, "x must be a number < 2, got 2"),
        ({"low": 0.0}, math.nan, "x must be a number ≥ 0, got nan"),
        ({"low": 0.0}, math.inf, "x must be a number ≥ 0, got inf"),
        ({"low": 0.0}, False, "x must be a number ≥ 0, got False"),
    ],
)
def test_check_number_rejects(kwargs: dict, value, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        check_number("x", value, **kwargs)
    assert str(error.value) == message


def test_check_number_bounds_are_closed_by_default() -> None:
    assert check_number("x", 0, 0.0, 1.0) == 0.0 and check_number("x", 1, 0.0, 1.0) == 1.0
    assert type(check_number("x", np.float32(0.5), 0.0, 1.0)) is float


def test_check_seed_and_flag() -> None:
    assert check_seed("s", None) is None and check_seed("s", np.int32(4)) == 4
    for bad in (-1, 1.0, "4", True):
        with pytest.raises(ConfigError, match="s must be an integer ≥ 0 or None"):
            check_seed("s", bad)
    assert check_flag("f", np.bool_(True)) is True
    for bad in (1, "yes", None):
        with pytest.raises(ConfigError, match="f must be true or false"):
            check_flag("f", bad)
