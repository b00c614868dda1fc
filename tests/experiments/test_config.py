"""Benchmark config objects: the quick variant, per-protocol parameters and the TOML round trip."""

from __future__ import annotations

from pathlib import Path

import tomli_w
import tomllib

from movielens_lessons.experiments.config_loading import config_from_dict, load_config

SHIPPED = Path(__file__).resolve().parents[2] / "experiments" / "ml-latest-small.toml"


def test_quick_variant_is_smaller() -> None:
    config = load_config(SHIPPED)
    quick = config.quick_version()
    assert len(quick.k) < len(config.k) and len(quick.protocols) == 2
    assert [m.name for m in quick.models] == [m.name for m in config.models]
    assert quick.quick == {}
    assert quick.primary_metric == "ndcg@10"


def test_toml_round_trip() -> None:
    config = load_config(SHIPPED)
    again = config_from_dict(tomllib.loads(tomli_w.dumps(config.to_dict())))
    assert again.to_dict() == config.to_dict()


BASE = {"dataset": {"name": "ml-latest-small"}, "models": {"ease": {}}}
TWO_PROTOCOLS = [{"name": "user-temporal", "strategy": "user-temporal"},
                 {"name": "user-random", "strategy": "user-random"}]


def test_per_protocol_params_override_the_models_params_on_that_protocol_only() -> None:
    config = config_from_dict({**BASE, "protocols": TWO_PROTOCOLS, "models": {"item-knn": {
        "n_neighbors": 20, "similarity": "cosine",
        "protocols": {"user-random": {"n_neighbors": 50, "shrinkage": 5.0}}}}})
    m = config.model("item-knn")
    assert m.params == {"n_neighbors": 20, "similarity": "cosine"}  # "protocols" is not a param
    assert m.params_for("user-temporal") == {"n_neighbors": 20, "similarity": "cosine"}
    assert m.params_for("user-random") == {"n_neighbors": 50, "similarity": "cosine",
                                           "shrinkage": 5.0}
    out = config.to_dict()["models"]["item-knn"]
    assert out["protocols"] == {"user-random": {"n_neighbors": 50, "shrinkage": 5.0}}
    again = config_from_dict(tomllib.loads(tomli_w.dumps(config.to_dict())))
    assert again.model("item-knn") == m


def test_quick_params_apply_on_top_of_per_protocol_params() -> None:
    config = config_from_dict({**BASE, "protocols": TWO_PROTOCOLS, "models": {"item-knn": {
        "n_neighbors": 20, "protocols": {"user-random": {"n_neighbors": 50, "shrinkage": 5.0}}}},
        "quick": {"params": {"item-knn": {"n_neighbors": 10}}}})
    m = config.quick_version().model("item-knn")
    assert m.params_for("user-temporal") == {"n_neighbors": 10}
    assert m.params_for("user-random") == {"n_neighbors": 10, "shrinkage": 5.0}


def test_quick_labels_the_settings_it_made_cheaper_and_a_rerun_keeps_the_label() -> None:
    config = config_from_dict({**BASE, "protocols": TWO_PROTOCOLS, "models": {
        "item-knn": {"n_neighbors": 20}, "ease": {}},
        "quick": {"params": {"item-knn": {"n_neighbors": 10, "shrinkage": 1.0}}}})
    assert config.model("item-knn").cheaper is None
    quick = config.quick_version()
    assert quick.model("item-knn").cheaper == "n_neighbors = 10, shrinkage = 1.0"
    assert quick.model("ease").cheaper is None  # untouched by --quick: the full run's row
    # the resolved config.toml of a quick run keeps the label, so its rerun's report says it too
    again = config_from_dict(tomllib.loads(tomli_w.dumps(quick.to_dict())))
    assert again.model("item-knn") == quick.model("item-knn")
    assert "cheaper" not in again.model("item-knn").params


def test_the_report_names_the_cheaper_settings() -> None:
    from movielens_lessons.experiments.report import cheaper_html

    config = config_from_dict({**BASE, "models": {"item-knn": {"n_neighbors": 20}},
                               "quick": {"params": {"item-knn": {"n_neighbors": 10}}}})
    assert cheaper_html(config) == ""
    text = cheaper_html(config.quick_version())
    assert "Cheaper settings" in text and "<code>item-knn</code> n_neighbors = 10" in text


def test_quick_params_can_be_cheaper_on_one_protocol_only() -> None:
    config = config_from_dict({**BASE, "protocols": TWO_PROTOCOLS, "models": {"item-knn": {
        "n_neighbors": 20, "protocols": {"user-random": {"n_neighbors": 50, "shrinkage": 5.0}}}},
        "quick": {"params": {"item-knn": {"similarity": "jaccard", "protocols": {
            "user-random": {"shrinkage": 1.0}}}}}})
    m = config.quick_version().model("item-knn")
    assert m.params_for("user-temporal") == {"n_neighbors": 20, "similarity": "jaccard"}
    assert m.params_for("user-random") == {"n_neighbors": 50, "similarity": "jaccard",
                                           "shrinkage": 1.0}
    assert m.cheaper == "similarity = 'jaccard'; on user-random: shrinkage = 1.0"


def test_quick_protocol_tables_must_name_a_protocol() -> None:
    import pytest

    from movielens_lessons.errors import ConfigError

    with pytest.raises(ConfigError, match=r"quick\.params\.ease\.protocols\.nope.*unknown protocol"):
        config_from_dict({**BASE, "protocols": TWO_PROTOCOLS,
                          "quick": {"params": {"ease": {"protocols": {"nope": {}}}}}})
