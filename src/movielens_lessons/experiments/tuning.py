"""Hyperparameter search with Optuna on a validation split carved from the training data only.

The configured protocol's split is made with ``validation_size``: its test part is set aside and never
read; models are fitted on what is left of the training part and scored on the validation part (the
latest share of each user's *training* interactions for ``user-temporal``). The test split is only ever
used by ``benchmark``, with the parameters tuning chose.

Search spaces are defined here, one function per model, in :data:`SEARCH_SPACES`. The objective is a
ranking metric (``ndcg@10`` by default, maximised) or, for explicit models, ``rmse`` / ``mae``
(minimised). The untuned defaults (the model's constructor defaults) are scored on the same validation
split first, so every tuning run reports "default → tuned".
"""

from __future__ import annotations

import math
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

import pandas as pd
import tomli_w

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import split
from movielens_lessons.errors import ConfigError
from movielens_lessons.evaluation.evaluate import evaluate
from movielens_lessons.evaluation.rating import evaluate_predictions
from movielens_lessons.experiments.config import ProtocolConfig, parse_metric_at_k
from movielens_lessons.models.registry import create_model, get_model_class, get_spec

Space = Callable[[Any], dict[str, Any]]  # optuna.Trial -> parameters


def _item_knn(t) -> dict[str, Any]:
    return {"n_neighbors": t.suggest_int("n_neighbors", 10, 500, log=True),
            "similarity": t.suggest_categorical("similarity", ["cosine", "bm25"]),
            "shrinkage": t.suggest_float("shrinkage", 0.0, 100.0)}


def _pure_svd(t) -> dict[str, Any]:
    return {"n_factors": t.suggest_int("n_factors", 8, 256, log=True),
            "item_scaling": t.suggest_float("item_scaling", 0.0, 1.0)}


def _ease(t) -> dict[str, Any]:
    return {"regularization": t.suggest_float("regularization", 1.0, 5000.0, log=True)}


def _als(t) -> dict[str, Any]:
    return {"n_factors": t.suggest_int("n_factors", 16, 256, log=True),
            "regularization": t.suggest_float("regularization", 0.01, 500.0, log=True),
            "alpha": t.suggest_float("alpha", 0.5, 100.0, log=True),
            "n_epochs": t.suggest_int("n_epochs", 5, 30)}


def _bpr(t) -> dict[str, Any]:
    return {"n_factors": t.suggest_int("n_factors", 16, 256, log=True),
            "learning_rate": t.suggest_float("learning_rate", 1e-3, 0.2, log=True),
            "regularization": t.suggest_float("regularization", 1e-4, 0.5, log=True),
            "n_epochs": t.suggest_int("n_epochs", 20, 300, log=True)}


def _lightfm(t) -> dict[str, Any]:
    return {"n_factors": t.suggest_int("n_factors", 16, 128, log=True),
            "learning_rate": t.suggest_float("learning_rate", 0.005, 0.2, log=True),
            "regularization": t.suggest_float("regularization", 1e-7, 1e-3, log=True),
            "n_epochs": t.suggest_int("n_epochs", 5, 60, log=True),
            "rating_weight": t.suggest_float("rating_weight", 0.0, 1.5)}


def _most_popular(t) -> dict[str, Any]:
    return {"recent_days": t.suggest_float("recent_days", 30.0, 20000.0, log=True)}


def _bias_baseline(t) -> dict[str, Any]:
    return {"user_regularization": t.suggest_float("user_regularization", 0.1, 100.0, log=True),
            "item_regularization": t.suggest_float("item_regularization", 0.1, 100.0, log=True)}


def _explicit_als(t) -> dict[str, Any]:
    return {"n_factors": t.suggest_int("n_factors", 4, 128, log=True),
            "regularization": t.suggest_float("regularization", 0.1, 100.0, log=True),
            "bias_regularization": t.suggest_float("bias_regularization", 0.1, 100.0, log=True),
            "n_epochs": t.suggest_int("n_epochs", 5, 25)}


def _svd(t) -> dict[str, Any]:
    return {"n_factors": t.suggest_int("n_factors", 5, 200, log=True),
            "n_epochs": t.suggest_int("n_epochs", 10, 100, log=True),
            "learning_rate": t.suggest_float("learning_rate", 1e-3, 0.05, log=True),
            "regularization": t.suggest_float("regularization", 1e-3, 0.5, log=True)}


def _mult_vae(t) -> dict[str, Any]:
    return {"dropout": t.suggest_float("dropout", 0.2, 0.9),
            "beta_cap": t.suggest_float("beta_cap", 0.05, 5.0, log=True),
            "anneal_steps": t.suggest_categorical("anneal_steps", [0, 500, 2000, 8000]),
            "kl_scaling": t.suggest_categorical("kl_scaling", ["constant", "history"]),
            "hidden_dim": t.suggest_int("hidden_dim", 100, 1000, log=True),
            "latent_dim": t.suggest_int("latent_dim", 32, 400, log=True),
            "weight_decay": t.suggest_float("weight_decay", 1e-7, 1e-3, log=True),
            "batch_size": t.suggest_categorical("batch_size", [32, 64, 128, 500]),
            "min_item_count": t.suggest_categorical("min_item_count", [1, 3, 10, 20, 40])}


def _sasrec(t) -> dict[str, Any]:
    return {"hidden_dim": t.suggest_categorical("hidden_dim", [32, 64, 128]),
            "n_blocks": t.suggest_int("n_blocks", 1, 3),
            "dropout": t.suggest_float("dropout", 0.0, 0.6),
            "learning_rate": t.suggest_float("learning_rate", 3e-4, 1e-2, log=True),
            "batch_size": t.suggest_categorical("batch_size", [16, 32, 64, 128])}


def _two_tower(t) -> dict[str, Any]:
    return {"embedding_dim": t.suggest_categorical("embedding_dim", [32, 64, 128]),
            "history_length": t.suggest_categorical("history_length", [20, 50, 200, 1000]),
            "temperature": t.suggest_float("temperature", 0.05, 1.0, log=True),
            "log_q_weight": t.suggest_float("log_q_weight", 0.0, 1.0),
            "id_dropout": t.suggest_float("id_dropout", 0.0, 0.5),
            "learning_rate": t.suggest_float("learning_rate", 5e-4, 1e-2, log=True),
            "batch_size": t.suggest_categorical("batch_size", [128, 256, 512, 1024])}


_SHRINKS = [0.0, 0.25, 0.5, 0.75, 1.0]


def _xgboost_ranker(t) -> dict[str, Any]:
    # only the scoring-time scale of the trees' corrections: its best value depends on how far the
    # label window is from the full data, which is what a validation split measures
    return {"shrink": t.suggest_categorical("shrink", _SHRINKS)}


#: Model name → its search space (the one place where ranges are defined).
SEARCH_SPACES: dict[str, Space] = {
    "most-popular": _most_popular, "item-knn": _item_knn, "pure-svd": _pure_svd, "ease": _ease,
    "als": _als, "bpr": _bpr, "lightfm": _lightfm, "bias-baseline": _bias_baseline,
    "explicit-als": _explicit_als, "svd": _svd, "xgboost-ranker": _xgboost_ranker,
    "mult-vae": _mult_vae, "sasrec": _sasrec, "two-tower": _two_tower,
}  # fmt: skip

#: Spaces small enough to try whole: each point once (Optuna's GridSampler, in a seeded order), and the
#: search ends when all are tried; a model's entry lists the choices its space function suggests.
GRIDS: dict[str, dict[str, list[Any]]] = {"xgboost-ranker": {"shrink": _SHRINKS}}

RATING_OBJECTIVES = ("rmse", "mae")


@dataclass
class TuneResult:
    """A finished search: the best parameters, validation scores default → tuned, every trial."""

    model: str
    metric: str
    direction: str
    best_params: dict[str, Any]
    best_value: float
    default_value: float
    trials: pd.DataFrame
    seconds: float
    command: str
    split: dict[str, Any] = field(default_factory=dict)

    @property
    def improved(self) -> bool:
        if self.direction == "maximize":
            return self.best_value > self.default_value
        return self.best_value < self.default_value

    def to_toml(self, protocol: str | None = None) -> str:
        """A ``[models.NAME]`` fragment to paste into a benchmark config; with ``protocol``, a
        ``[models.NAME.protocols.PROTOCOL]`` table (the tuning record then goes in comments, as
        such a table holds constructor parameters only)."""
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        params = {k: _plain(v) for k, v in self.best_params.items()}
        head = (f"# {self.command}\n"
                f"# validation {self.metric}: untuned defaults {self.default_value:.4f} -> tuned "
                f"{self.best_value:.4f} ({len(self.trials)} trials, {self.seconds:.0f} s, {date})\n")
        if protocol is not None:
            return head + tomli_w.dumps({"models": {self.model: {"protocols": {protocol: params}}}})
        table = {"tuned_by": self.command, "tuned_validation": self.summary(), **params}
        return head + tomli_w.dumps({"models": {self.model: table}})

    def summary(self) -> str:
        return f"{self.metric} {self.default_value:.4f} -> {self.best_value:.4f}"


def _plain(v: Any) -> Any:
    if isinstance(v, float):
        return float(f"{v:.4g}")
    return v


def validation_split(dataset: Dataset, protocol: ProtocolConfig, validation_size: float = 0.2):
    """``(train, validation)``: the protocol's training part cut again; the test part is dropped."""
    params = {**protocol.params, "validation_size": validation_size}
    sp = split(dataset, protocol.strategy, **params)
    return sp.train, sp.validation, params


def score(model_name: str, params: dict[str, Any], train: Dataset, valid: Dataset, metric: str,
          relevance_threshold: float | None = None) -> float:
    """Fit on ``train`` and score on ``valid``: a ranking metric at K, or RMSE / MAE."""
    model = create_model(model_name, **params).fit(train)
    if metric in RATING_OBJECTIVES:
        frame = valid.to_frame()
        frame[C.PREDICTION] = model.predict(frame[C.USER].to_numpy(), frame[C.ITEM].to_numpy())
        return float(evaluate_predictions(frame, valid)[metric])
    name, k = parse_metric_at_k(metric, key="--metric")
    users = valid.user_ids[valid.active_users]
    recs = model.recommend(users, k=k)
    res = evaluate(recs, valid, train, k=(k,), metrics=[name], n_bootstrap=0,
                   relevance_threshold=relevance_threshold)
    return res.value(name, k)


def check_request(model: str, metric: str, trials: int) -> Literal["minimize", "maximize"]:
    """The optimisation direction for ``metric``; ConfigError (or MissingExtraError) when ``model``
    has no search space or is not installed, or ``metric`` / ``trials`` are bad."""
    get_spec(model)
    if model not in SEARCH_SPACES:
        raise ConfigError(f"{model} has nothing to tune; models with a search space: "
                          f"{', '.join(SEARCH_SPACES)}")
    get_model_class(model)  # a missing extra fails here, before any work
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"--trials must be a positive integer; got {trials!r}")
    if metric in RATING_OBJECTIVES:
        if get_spec(model).feedback != "explicit":
            raise ConfigError(f"--metric {metric} needs an explicit model; {model} is implicit")
        return "minimize"
    parse_metric_at_k(metric, key="--metric")
    return "maximize"


def tune(
    model: str,
    dataset: Dataset,
    protocol: ProtocolConfig,
    *,
    trials: int = 20,
    metric: str = "ndcg@10",
    timeout: float | None = None,
    seed: int = 42,
    validation_size: float = 0.2,
    fixed_params: dict[str, Any] | None = None,
    relevance_threshold: float | None = None,
    command: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> TuneResult:
    """Search :data:`SEARCH_SPACES[model] <SEARCH_SPACES>` with Optuna's seeded TPE sampler, or
    every point of :data:`GRIDS[model] <GRIDS>` once (at most ``trials``) where the model has one.

    ``fixed_params`` are set on every trial (and on the default), e.g. ``num_threads``. ``timeout``
    (seconds) stops the search early. Raises ConfigError for a model without a search space, an
    unknown metric, or an RMSE objective on an implicit model.
    """
    try:
        import optuna
    except ImportError:
        from movielens_lessons.errors import MissingExtraError

        raise MissingExtraError("optuna", "tune") from None
    direction = check_request(model, metric, trials)
    fixed = dict(fixed_params or {})
    if "random_state" in get_model_class(model).param_names():
        fixed.setdefault("random_state", seed)
    say = progress or (lambda _: None)

    start = time.perf_counter()
    train, valid, split_params = validation_split(dataset, protocol, validation_size)
    default_value = score(model, fixed, train, valid, metric, relevance_threshold)
    say(f"untuned defaults: validation {metric} = {default_value:.4f}")
    space = SEARCH_SPACES[model]

    scored: dict[str, float] = {}  # the sampler may repeat a point of a discrete space: fit once

    def objective(trial) -> float:
        suggested = space(trial)
        key = repr(sorted(suggested.items()))
        repeat = key in scored
        if not repeat:
            scored[key] = score(model, {**suggested, **fixed}, train, valid, metric,
                                relevance_threshold)
        value = scored[key]
        say(f"trial {trial.number}: {metric} = {value:.4f}  {suggested}"
            + ("  (repeated: not refitted)" if repeat else ""))
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = (optuna.samplers.GridSampler(GRIDS[model], seed=seed) if model in GRIDS
               else optuna.samplers.TPESampler(seed=seed))
    study = optuna.create_study(direction=direction, sampler=sampler)
    remaining = None if timeout is None else max(1.0, timeout - (time.perf_counter() - start))
    study.optimize(objective, n_trials=trials, timeout=remaining, catch=(ConfigError,))
    done = [t for t in study.trials if t.value is not None and math.isfinite(t.value)]
    if not done:
        raise ConfigError(f"no trial of {model} finished; see the errors above")
    best = study.best_trial
    assert best.value is not None  # the best trial is a completed single-objective one
    frame = study.trials_dataframe(attrs=("number", "value", "params", "duration", "state"))
    best_params = {**best.params}
    cmd = command or f"movielens-lessons tune {model} --trials {trials} --metric {metric}"
    return TuneResult(model, metric, direction, best_params, float(best.value), default_value,
                      frame, time.perf_counter() - start, cmd,
                      {"strategy": protocol.strategy, **split_params})


def shell_command(argv: list[str]) -> str:
    """The command line that produced a result, for the record (``movielens-lessons tune ...``).

    ``--out FILE`` is left out: where the fragment was written does not change the result.
    """
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--out":
            skip = True
        elif not a.startswith("--out="):
            kept.append(a)
    return "movielens-lessons " + " ".join(shlex.quote(a) for a in kept)
