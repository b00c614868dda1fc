"""Checks of models' constructor parameters, run by ``fit``: one wording for each kind of error.

Each check takes the name to show (``"n_factors"``, or ``"sasrec: dropout"`` where the model's name
helps) and the value, returns the value as a plain Python number, and raises
:class:`~movielens_lessons.errors.ConfigError` naming the parameter, the rule and the value given.
Booleans are never numbers here (``True`` is an ``int`` to Python, not a rank).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from movielens_lessons.errors import ConfigError


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, (float, np.floating))


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """An integer ≥ ``minimum``: "must be a positive integer" (minimum 1) or "an integer ≥ m"."""
    if not _is_int(value) or value < minimum:
        rule = "a positive integer" if minimum == 1 else f"an integer ≥ {minimum}"
        raise ConfigError(f"{name} must be {rule}, got {value!r}")
    return int(value)


def check_number(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number within ``low``..``high`` (each bound closed unless ``*_open``)."""
    ok = _is_number(value) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v > low if low_open else v >= low) and (v < high if high_open else v <= high)
    if not ok:
        raise ConfigError(f"{name} must be a number {_interval(low, high, low_open, high_open)}, "
                          f"got {value!r}")  # fmt: skip
    return float(value)


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if math.isinf(high):
        return f"{'>' if low_open else '≥'} {low:g}"
    if math.isinf(low):
        return f"{'<' if high_open else '≤'} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def check_seed(name: str, value: Any) -> int | None:
    """``None`` or an integer ≥ 0 (a random seed)."""
    if value is not None and (not _is_int(value) or value < 0):
        raise ConfigError(f"{name} must be an integer ≥ 0 or None, got {value!r}")
    return None if value is None else int(value)


def check_flag(name: str, value: Any) -> bool:
    """``True`` or ``False`` (not 0/1, not a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{name} must be true or false, got {value!r}")
    return bool(value)
