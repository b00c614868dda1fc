"""Tuning: search spaces are valid, the fragment is a usable config table, and the test split is never
read (it is replaced by an object that fails on any use, and the results do not change)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import tomllib

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.experiments import tuning
from movielens_lessons.experiments.config import ProtocolConfig
from movielens_lessons.experiments.config_loading import config_from_dict
from movielens_lessons.experiments.tuning import GRIDS, SEARCH_SPACES, tune
from movielens_lessons.models.registry import create_model, get_model_class

PROTOCOL = ProtocolConfig("user-temporal", "user-temporal", {"test_size": 0.2})


class _Trial:
    """Stands in for an optuna Trial: always the low end, or always the high end, of each range."""

    def __init__(self, high: bool) -> None:
        self.high = high

    def suggest_int(self, name, low, high, **_):
        return high if self.high else low

    def suggest_float(self, name, low, high, **_):
        return high if self.high else low

    def suggest_categorical(self, name, choices):
        return choices[-1] if self.high else choices[0]


@pytest.mark.parametrize("model", sorted(SEARCH_SPACES))
def test_search_space_gives_valid_parameters(model: str) -> None:
    known = get_model_class(model).param_names()
    for high in (False, True):
        params = SEARCH_SPACES[model](_Trial(high))
        assert params and set(params) <= set(known)
        create_model(model, **params)


class _Poison:
    """Any use of the test split fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"tuning read the test split (.{name})")

    def __len__(self):
        raise AssertionError("tuning read the test split (len)")


def test_tuning_never_reads_the_test_split(synth_data: Dataset, monkeypatch) -> None:
    real_split = tuning.split
    seen: list[Dataset] = []

    def poisoned(dataset, strategy, **params):
        result = real_split(dataset, strategy, **params)
        seen.append(result.test)
        return replace(result, test=_Poison())

    fitted: list[Dataset] = []
    real_score = tuning.score

    def spy(model, params, train, valid, metric, relevance_threshold=None):
        fitted.append(train)
        fitted.append(valid)
        return real_score(model, params, train, valid, metric, relevance_threshold)

    clean = tune("item-knn", synth_data, PROTOCOL, trials=3, seed=1)
    monkeypatch.setattr(tuning, "split", poisoned)
    monkeypatch.setattr(tuning, "score", spy)
    result = tune("item-knn", synth_data, PROTOCOL, trials=3, seed=1)
    assert len(seen) == 1 and len(fitted) == 2 * 4  # the default + 3 trials
    assert result.best_params == clean.best_params
    assert result.best_value == clean.best_value and result.default_value == clean.default_value
    # and no (user, item) pair of the test split is in what the models were fitted or scored on
    test = seen[0]
    test_pairs = set(zip(test.users.tolist(), test.items.tolist(), strict=True))
    for ds in fitted:
        assert not test_pairs & set(zip(ds.users.tolist(), ds.items.tolist(), strict=True))
    assert result.split["validation_size"] == 0.2


def test_tune_result_is_a_config_fragment(synth_data: Dataset) -> None:
    result = tune("ease", synth_data, PROTOCOL, trials=4, seed=0, command="movielens-lessons "
                  "tune ease --trials 4")
    assert result.direction == "maximize" and len(result.trials) == 4
    assert result.best_value >= max(result.trials["value"]) - 1e-12
    data = tomllib.loads(result.to_toml())
    table = data["models"]["ease"]
    assert table["tuned_by"] == "movielens-lessons tune ease --trials 4"
    assert table["regularization"] == pytest.approx(result.best_params["regularization"], rel=1e-3)
    config = config_from_dict({"dataset": {"name": "x"}, **data})
    assert config.model("ease").tuned_validation.startswith("ndcg@10 ")


def test_a_repeated_point_is_not_refitted(synth_data: Dataset, monkeypatch) -> None:
    # a two-point space: six trials must repeat, and each point is fitted once (+ the defaults)
    monkeypatch.setitem(SEARCH_SPACES, "ease", lambda t: {
        "regularization": t.suggest_categorical("regularization", [10.0, 300.0])})
    fits = []
    real_score = tuning.score
    monkeypatch.setattr(tuning, "score", lambda *a, **k: fits.append(a[1]) or real_score(*a, **k))
    result = tune("ease", synth_data, PROTOCOL, trials=6, seed=0)
    assert len(result.trials) == 6
    assert len(fits) == 1 + len(set(result.trials["params_regularization"]))
    assert result.best_value == pytest.approx(result.trials["value"].max())


class _Recorder:
    """Stands in for an optuna Trial and records the choices a space offers."""

    def __init__(self) -> None:
        self.choices: dict[str, list] = {}

    def suggest_categorical(self, name, choices):
        self.choices[name] = list(choices)
        return choices[0]


@pytest.mark.parametrize("model", sorted(GRIDS))
def test_a_grid_lists_exactly_what_its_space_offers(model: str) -> None:
    trial = _Recorder()
    SEARCH_SPACES[model](trial)
    assert trial.choices == GRIDS[model]


def test_a_grid_space_tries_each_point_once_and_stops(synth_data: Dataset, monkeypatch) -> None:
    points = [10.0, 100.0, 300.0]
    monkeypatch.setitem(SEARCH_SPACES, "ease", lambda t: {
        "regularization": t.suggest_categorical("regularization", points)})
    monkeypatch.setitem(GRIDS, "ease", {"regularization": points})
    fits = []
    real_score = tuning.score
    monkeypatch.setattr(tuning, "score", lambda *a, **k: fits.append(a[1]) or real_score(*a, **k))
    result = tune("ease", synth_data, PROTOCOL, trials=8, seed=0)
    assert sorted(result.trials["params_regularization"]) == points  # 8 allowed, 3 exist
    assert len(fits) == 1 + len(points)
    fewer = tune("ease", synth_data, PROTOCOL, trials=2, seed=0)
    assert len(set(fewer.trials["params_regularization"])) == 2


def test_rating_objective_is_minimised_for_explicit_models(synth_data: Dataset) -> None:
    result = tune("bias-baseline", synth_data, PROTOCOL, trials=3, metric="rmse", seed=0)
    assert result.direction == "minimize"
    assert result.best_value == pytest.approx(np.nanmin(result.trials["value"]))
    with pytest.raises(ConfigError, match="needs an explicit model"):
        tune("ease", synth_data, PROTOCOL, trials=1, metric="rmse")


@pytest.mark.parametrize(
    ("model", "kwargs", "needle"),
    [("random", {}, "nothing to tune"), ("ease", {"metric": "ndcg@0"}, "--metric"),
     ("ease", {"trials": 0}, "--trials"), ("nope", {}, "unknown model")],
)
def test_bad_tuning_requests(synth_data: Dataset, model, kwargs, needle) -> None:
    with pytest.raises(ConfigError, match=needle):
        tune(model, synth_data, PROTOCOL, **kwargs)
