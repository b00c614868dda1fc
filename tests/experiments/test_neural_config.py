"""experiments/ml-latest-small-neural.toml: the neural lesson's benchmark compares with the main
leaderboard only while its protocols, evaluation and copied model tables stay the main config's."""

from __future__ import annotations

from pathlib import Path

import pytest

from movielens_lessons.experiments.config_loading import default_config_path, load_config
from movielens_lessons.models.registry import get_spec

NEURAL = Path(__file__).resolve().parents[2] / "experiments" / "ml-latest-small-neural.toml"
OWN = {"mult-vae", "sasrec", "two-tower"}


@pytest.fixture(scope="module")
def configs():
    return load_config(default_config_path()), load_config(NEURAL)


def test_same_protocols_evaluation_and_seed(configs) -> None:
    main, neural = configs
    assert neural.protocols == main.protocols
    assert (neural.k, neural.metrics, neural.n_bootstrap, neural.primary_metric, neural.alpha) == (
        main.k, main.metrics, main.n_bootstrap, main.primary_metric, main.alpha
    )  # fmt: skip
    assert (neural.seed, neural.dataset) == (main.seed, main.dataset)


def test_copied_models_equal_the_main_config(configs) -> None:
    main, neural = configs
    copied = [m for m in neural.models if m.name not in OWN]
    assert {m.name for m in copied} == {"most-popular", "item-knn", "ease", "als", "xgboost-ranker"}
    for model in copied:
        source = main.model(model.name)
        assert (model.params, model.protocol_params) == (source.params, source.protocol_params), (
            f"{model.name} differs from experiments/ml-latest-small.toml: copy its table again"
        )
        for key, value in main.quick.get("params", {}).get(model.name, {}).items():
            assert neural.quick["params"][model.name][key] == value


def test_neural_models_are_the_torch_and_tf_extras(configs) -> None:
    _, neural = configs
    assert {m.name for m in neural.models} >= OWN
    assert {get_spec(name).extra for name in OWN} == {"torch", "tf"}
