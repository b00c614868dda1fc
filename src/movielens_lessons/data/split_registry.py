"""Split strategies by name, as the CLI and benchmark configs give them.

``split(dataset, "user-temporal", test_size=0.2)`` resolves the name (case-insensitive; ``_`` and ``-``
alike), checks the parameter names against the strategy's signature and runs the function from
:mod:`movielens_lessons.data.splits`. Unknown strategies or parameters, and bad values, raise
:class:`~movielens_lessons.errors.ConfigError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from itertools import islice

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_masks import check_count
from movielens_lessons.data.splits import (
    Split,
    random_split,
    strong_generalization_split,
    temporal_split,
    user_kfold,
    user_random_split,
    user_temporal_split,
)
from movielens_lessons.errors import ConfigError

#: Strategy names as used on the CLI and in configs → the function that makes the split.
STRATEGIES: dict[str, Callable[..., Split | Iterator[Split]]] = {
    "random": random_split,
    "user-random": user_random_split,
    "temporal": temporal_split,
    "user-temporal": user_temporal_split,
    "strong-generalization": strong_generalization_split,
    "user-kfold": user_kfold,
}


def resolve_strategy(strategy: str, params: dict) -> Callable[..., Split | Iterator[Split]]:
    """The function behind a strategy name; ConfigError for an unknown name or parameter name."""
    name = strategy.strip().lower().replace("_", "-")
    if name not in STRATEGIES:
        raise ConfigError(f"unknown split strategy {strategy!r}; known: {', '.join(STRATEGIES)}")
    fn = STRATEGIES[name]
    accepted = list(inspect.signature(fn).parameters)[1:]
    for key in params:
        if key not in accepted:
            raise ConfigError(
                f"split strategy {name!r} takes no parameter {key!r}; it takes: {', '.join(accepted)}"
            )
    return fn


def split_all(dataset: Dataset, strategy: str, **params: object) -> list[Split]:
    """Every split a strategy makes: one, or ``n_splits`` for ``user-kfold``."""
    result = resolve_strategy(strategy, params)(dataset, **params)
    return [result] if isinstance(result, Split) else list(result)


def split(dataset: Dataset, strategy: str, **params: object) -> Split:
    """Split ``dataset`` by a strategy name (``random``, ``user-temporal``, ...) and its parameters.

    ``user-kfold`` takes an extra ``fold`` (0-based, default 0) and returns that fold's split.
    Unknown strategies or parameters, and bad values, raise :class:`ConfigError`.
    """
    fold = 0
    if strategy.strip().lower().replace("_", "-") == "user-kfold":
        fold = check_count("fold", params.pop("fold", 0), 0)
    result = resolve_strategy(strategy, params)(dataset, **params)
    if isinstance(result, Split):
        return result
    chosen = next(islice(result, fold, None), None)
    if chosen is None:
        raise ConfigError(f"fold must be between 0 and n_splits - 1; got {fold}")
    return chosen
