"""The registry's CLI parameter parsing: ``--param KEY=VALUE``."""

from __future__ import annotations

import pytest

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.registry import parse_param


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n_factors=32", ("n_factors", 32)),
        ("learning-rate=0.05", ("learning_rate", 0.05)),
        ("use_bias=True", ("use_bias", True)),
        ("prior=none", ("prior", None)),
        ("retrievers=ease,als", ("retrievers", "ease,als")),
        ("retriever_params={\"s5\": {\"window\": 5}}", ("retriever_params", {"s5": {"window": 5}})),
        ("ks=[5, 10]", ("ks", [5, 10])),
        ("name= a=b ", ("name", "a=b")),
    ],
)
def test_values_are_typed(text: str, expected: tuple) -> None:
    assert parse_param(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("oops", "expected KEY=VALUE"),
        ("=3", "empty key"),
        ("retriever_params={'s5': 1}", "not valid JSON (Expecting property name"),
    ],
)
def test_bad_params_are_named(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")) as info:
        parse_param(text)
    assert repr(text) in str(info.value)
