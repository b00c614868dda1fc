"""Loading benchmark configs: the shipped one is valid and complete; bad ones fail with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from movielens_lessons.errors import ConfigError, MissingExtraError
from movielens_lessons.experiments.config_loading import (
    config_from_dict,
    default_config_path,
    load_config,
)
from movielens_lessons.models.registry import MODELS, create_model

SHIPPED = Path(__file__).resolve().parents[2] / "experiments" / "ml-latest-small.toml"
CORE = ("random", "most-popular", "item-knn", "pure-svd", "ease", "als", "bpr", "lightfm",
        "global-mean", "bias-baseline", "explicit-als", "svd")
#: The shipped config's models, in order: implicit ones, then explicit ones.
SHIPPED_MODELS = ("random", "most-popular", "item-knn", "pure-svd", "ease", "als", "bpr", "lightfm",
                  "xgboost-ranker", "global-mean", "bias-baseline", "explicit-als", "svd",
                  "xgboost-rating")


def test_shipped_config_has_every_core_model_and_two_protocols() -> None:
    config = load_config(SHIPPED)
    assert config.dataset == "ml-latest-small"
    assert [m.name for m in config.models] == list(SHIPPED_MODELS)
    assert [(p.name, p.strategy) for p in config.protocols] == [
        ("user-temporal", "user-temporal"), ("user-random", "user-random")]
    assert config.protocols[0].params == {"test_size": 0.2}
    assert config.protocols[1].params == {"test_size": 0.25, "seed": 42}
    assert config.k == (10, 20) and config.primary() == ("ndcg", 10)
    for m in config.models:
        for p in config.protocols:
            try:
                create_model(m.name, **m.params_for(p.name))  # every parameter is one it takes
            except MissingExtraError:
                continue


def test_shipped_ranker_label_window_follows_the_protocol() -> None:
    ranker = load_config(SHIPPED).model("xgboost-ranker")
    assert ranker.params_for("user-random")["validation"] == "random"
    assert "validation" not in ranker.params_for("user-temporal")  # the default, "temporal"
    assert ranker.params == {} and ranker.tuned_by is None
    assert load_config(SHIPPED).model("xgboost-rating").params == {}


def test_shipped_params_record_the_tuning_command() -> None:
    config = load_config(SHIPPED)
    tuned = {m.name: m for m in config.models if m.tuned_by}
    assert {"als", "ease"} <= set(tuned)
    for name, m in tuned.items():
        assert m.tuned_by.startswith(f"movielens-lessons tune {name} ")
        assert "->" in m.tuned_validation


def test_default_path_finds_the_shipped_config(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_config_path().resolve() == SHIPPED


BASE = {"dataset": {"name": "ml-latest-small"}, "models": {"ease": {}}}


@pytest.mark.parametrize(
    ("patch", "needle"),
    [
        ({"colour": 1}, "unknown key colour"),
        ({"evaluation": {"kk": [10]}}, "evaluation.kk"),
        ({"evaluation": {"k": [0]}}, "evaluation.k"),
        ({"evaluation": {"k": [5], "primary_metric": "ndcg@10"}}, "evaluation.primary_metric"),
        ({"evaluation": {"primary_metric": "ndgc@10"}}, "evaluation.primary_metric"),
        ({"evaluation": {"metrics": ["ndcg", "bogus"]}}, "'bogus'"),
        ({"models": {"eas": {}}}, "models.eas"),
        ({"models": {}}, "models is empty"),
        ({"protocols": [{"name": "x", "strategy": "sideways"}]}, "protocols[0]"),
        ({"protocols": [{"strategy": "user-random", "tset_size": 0.2}]}, "tset_size"),
        ({"dataset": {}}, "dataset.name"),
        ({"seed": "x"}, "seed"),
        ({"quick": {"models": ["nope"]}}, "quick.models"),
    ],
)
def test_bad_config_names_the_key(patch: dict, needle: str) -> None:
    data = {**BASE, **patch}
    with pytest.raises(ConfigError, match=r"cfg\.toml") as info:
        config_from_dict(data, "cfg.toml")
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


TWO_PROTOCOLS = [{"name": "user-temporal", "strategy": "user-temporal"},
                 {"name": "user-random", "strategy": "user-random"}]


@pytest.mark.parametrize(
    ("models", "needle"),
    [
        ({"ease": {"protocols": {"user-randm": {"regularization": 1.0}}}},
         "models.ease.protocols.user-randm: unknown protocol 'user-randm'"),
        ({"ease": {"protocols": 3}}, "models.ease.protocols must be a table"),
        ({"ease": {"protocols": {"user-random": 3}}},
         "models.ease.protocols.user-random must be a table"),
    ],
)
def test_bad_per_protocol_params_name_the_key(models: dict, needle: str) -> None:
    with pytest.raises(ConfigError, match=r"cfg\.toml") as info:
        config_from_dict({**BASE, "protocols": TWO_PROTOCOLS, "models": models}, "cfg.toml")
    assert needle in str(info.value)
    assert "user-temporal, user-random" in str(info.value) or "table" in needle
    assert "\n" not in str(info.value)


def test_unknown_model_parameter_fails_when_the_model_is_created() -> None:
    config = config_from_dict({**BASE, "models": {"ease": {"lambda_": 3.0}}})
    with pytest.raises(ConfigError, match="lambda_"):
        create_model("ease", **config.model("ease").params)


def test_invalid_toml_is_a_config_error(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[dataset\nname = 1\n")
    with pytest.raises(ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(bad)


def test_every_core_model_is_registered() -> None:
    assert set(CORE) <= set(MODELS)
