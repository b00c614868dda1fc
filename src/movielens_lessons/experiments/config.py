"""Benchmark configuration: a TOML file read with :mod:`tomllib`, validated into :class:`BenchmarkConfig`.

Layout (every key optional except ``dataset.name``; see ``experiments/ml-latest-small.toml``)::

    name = "ml-latest-small"            # label of the run
    seed = 42                           # seeds the bootstrap and the paired tests
    [dataset]       name, positive_threshold
    [evaluation]    k, metrics, n_bootstrap, relevance_threshold, primary_metric, alpha
    [[protocols]]   name, strategy, and the split's own parameters (test_size, seed, ...)
    [models.NAME]   the model's constructor parameters; ``tuned_by`` records the tune command
    [models.NAME.protocols.PROTOCOL]   parameters that override the model's on that protocol only
    [quick]         overrides used by ``--quick``: k, models, n_bootstrap, and [quick.params.NAME]

Every problem is a :class:`~movielens_lessons.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as the tomli backport
    import tomli as tomllib

from movielens_lessons.errors import ConfigError

#: Keys of a ``[models.NAME]`` table that are not constructor parameters.
MODEL_META_KEYS = ("tuned_by", "tuned_validation")
#: Key of a ``[models.NAME]`` sub-table of per-protocol overrides, ``[models.NAME.protocols.P]``.
PROTOCOLS_KEY = "protocols"
_TOP_KEYS = ("name", "seed", "dataset", "evaluation", "protocols", "models", "quick", "description")
_DATASET_KEYS = ("name", "positive_threshold", "data_dir")
_EVAL_KEYS = ("k", "metrics", "n_bootstrap", "relevance_threshold", "primary_metric", "alpha")
_QUICK_KEYS = ("k", "models", "n_bootstrap", "params")


@dataclass(frozen=True)
class ProtocolConfig:
    """One evaluation protocol: a split strategy and its parameters (``test_size``, ``seed``, ...)."""

    name: str
    strategy: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelConfig:
    """One model: its registry name, constructor parameters and how they were tuned (if recorded).

    ``protocol_params`` maps a protocol name to parameters that override ``params`` on that protocol
    only (a setting that belongs to the evaluation protocol, such as the ranker's label window).
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    tuned_by: str | None = None
    tuned_validation: str | None = None
    protocol_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def params_for(self, protocol: str) -> dict[str, Any]:
        """The parameters used on ``protocol``: ``params`` with that protocol's overrides on top."""
        return {**self.params, **self.protocol_params.get(protocol, {})}


@dataclass(frozen=True)
class BenchmarkConfig:
    """A validated benchmark configuration; :meth:`to_dict` gives back TOML-shaped data."""

    dataset: str
    name: str = "benchmark"
    seed: int = 42
    positive_threshold: float | None = None
    data_dir: str | None = None
    k: tuple[int, ...] = (10, 20)
    metrics: tuple[str, ...] | None = None
    n_bootstrap: int = 1000
    relevance_threshold: float | None = None
    primary_metric: str = "ndcg@10"
    alpha: float = 0.05
    protocols: tuple[ProtocolConfig, ...] = ()
    models: tuple[ModelConfig, ...] = ()
    quick: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    @property
    def k_max(self) -> int:
        return max(self.k)

    def primary(self) -> tuple[str, int]:
        """``primary_metric`` split into (metric, k), e.g. ``("ndcg", 10)``."""
        return parse_metric_at_k(self.primary_metric, self.source, "evaluation.primary_metric")

    def model(self, name: str) -> ModelConfig:
        for m in self.models:
            if m.name == name:
                return m
        raise ConfigError(f"model {name!r} is not in the configuration {self.source or ''}".strip())

    def protocol(self, name: str) -> ProtocolConfig:
        """The protocol called ``name``; ConfigError listing the configured ones otherwise."""
        for p in self.protocols:
            if p.name == name:
                return p
        raise ConfigError(f"no protocol {name!r} in the configuration {self.source or ''}".strip()
                          + f"; configured: {', '.join(p.name for p in self.protocols)}")

    def quick_version(self) -> BenchmarkConfig:
        """The config with its ``[quick]`` overrides applied (small K grid, fewer resamples)."""
        q = self.quick
        models = self.models
        if "models" in q:
            wanted = list(q["models"])
            models = tuple(
                m for m in models if m.name in wanted
            ) + tuple(ModelConfig(n) for n in wanted if n not in {m.name for m in models})
        params = q.get("params", {})
        models = tuple(_with_quick(m, params.get(m.name, {})) for m in models)
        k = tuple(q.get("k", self.k))
        primary = self.primary_metric
        metric, pk = self.primary()
        if pk not in k:
            primary = f"{metric}@{min(k)}"
        return replace(self, k=k, models=models, n_bootstrap=int(q.get("n_bootstrap",
                       self.n_bootstrap)), primary_metric=primary, name=f"{self.name} (quick)",
                       quick={})

    def to_dict(self) -> dict[str, Any]:
        """TOML-shaped data (None values left out, as TOML has no null)."""
        out: dict[str, Any] = {"name": self.name, "seed": self.seed}
        out["dataset"] = _drop_none({"name": self.dataset, "positive_threshold":
                                     self.positive_threshold, "data_dir": self.data_dir})
        out["evaluation"] = _drop_none({
            "k": list(self.k), "metrics": None if self.metrics is None else list(self.metrics),
            "n_bootstrap": self.n_bootstrap, "relevance_threshold": self.relevance_threshold,
            "primary_metric": self.primary_metric, "alpha": self.alpha})
        out["protocols"] = [{"name": p.name, "strategy": p.strategy, **p.params}
                            for p in self.protocols]
        out["models"] = {m.name: _drop_none({**m.params, "tuned_by": m.tuned_by,
                                             "tuned_validation": m.tuned_validation,
                                             PROTOCOLS_KEY: copy.deepcopy(m.protocol_params)
                                             or None})
                         for m in self.models}
        if self.quick:
            out["quick"] = copy.deepcopy(self.quick)
        return out


def _with_quick(model: ModelConfig, quick: dict[str, Any]) -> ModelConfig:
    """``model`` with ``[quick.params.NAME]`` applied on top of every protocol's parameters."""
    if not quick:
        return model
    # a per-protocol value of a key that --quick sets would win over it in params_for: drop it
    per_protocol = {p: {k: v for k, v in t.items() if k not in quick}
                    for p, t in model.protocol_params.items()}
    return replace(model, params={**model.params, **quick},
                   protocol_params={p: t for p, t in per_protocol.items() if t})


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def parse_metric_at_k(text: str, source: str | None = None, key: str = "metric") -> tuple[str, int]:
    """``"ndcg@10"`` → ``("ndcg", 10)``; ConfigError naming ``key`` otherwise."""
    from movielens_lessons.evaluation.ranking import RANKING_METRICS

    name, _, k = str(text).partition("@")
    if name not in RANKING_METRICS or not k.isdigit() or int(k) < 1:
        raise ConfigError(f"{_where(source)}{key} = {text!r}: expected METRIC@K with METRIC one of "
                          f"{', '.join(RANKING_METRICS)}, e.g. 'ndcg@10'")
    return name, int(k)


def _where(source: str | None) -> str:
    return f"{source}: " if source else ""


def _table(value: Any, key: str, source: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(source)}{key} must be a table; got {value!r}")
    return value


def _check_keys(table: dict[str, Any], allowed: tuple[str, ...], key: str, source: str | None) -> None:
    for k in table:
        if k not in allowed:
            raise ConfigError(f"{_where(source)}unknown key {key + '.' if key else ''}{k}; "
                              f"allowed: {', '.join(allowed)}")


def _int(value: Any, key: str, source: str | None, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{_where(source)}{key} must be an integer ≥ {minimum}; got {value!r}")
    return value


def _float(value: Any, key: str, source: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{_where(source)}{key} must be a number; got {value!r}")
    return float(value)


def _ks(value: Any, key: str, source: str | None) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError(f"{_where(source)}{key} must list at least one K")
    return tuple(sorted({_int(v, key, source, 1) for v in values}))


def _protocol_params(value: Any, key: str, protocols: list[str], source: str | None
                     ) -> dict[str, dict[str, Any]]:
    """``[KEY.protocols.P]`` tables, each naming one of ``protocols``."""
    table = _table(value, f"{key}.{PROTOCOLS_KEY}", source)
    out = {}
    for name, params in table.items():
        where = f"{key}.{PROTOCOLS_KEY}.{name}"
        if name not in protocols:
            raise ConfigError(f"{_where(source)}{where}: unknown protocol {name!r}; the "
                              f"configured protocols are {', '.join(protocols)}")
        out[name] = copy.deepcopy(_table(params, where, source))
    return out


def config_from_dict(data: dict[str, Any], source: str | None = None) -> BenchmarkConfig:
    """Validate TOML-shaped ``data`` (as :func:`tomllib.load` returns it) into a BenchmarkConfig."""
    from movielens_lessons.data.splits import resolve_strategy
    from movielens_lessons.evaluation.evaluate import ALL_METRICS
    from movielens_lessons.models.registry import MODELS

    src = source
    _check_keys(data, _TOP_KEYS, "", src)
    ds = _table(data.get("dataset", {}), "dataset", src)
    _check_keys(ds, _DATASET_KEYS, "dataset", src)
    if "name" not in ds or not isinstance(ds["name"], str) or not ds["name"]:
        raise ConfigError(f"{_where(src)}dataset.name is required: a release name "
                          "(e.g. 'ml-latest-small') or a ratings file")
    ev = _table(data.get("evaluation", {}), "evaluation", src)
    _check_keys(ev, _EVAL_KEYS, "evaluation", src)
    metrics = ev.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise ConfigError(f"{_where(src)}evaluation.metrics must be a list of names")
        bad = [m for m in metrics if m not in ALL_METRICS or m == "auc"]
        if bad:
            raise ConfigError(f"{_where(src)}evaluation.metrics: unknown metric {bad[0]!r}; known: "
                              f"{', '.join(m for m in ALL_METRICS if m != 'auc')}")
        metrics = tuple(metrics)

    protocols = []
    raw_protocols = data.get("protocols", [{"name": "user-temporal", "strategy": "user-temporal"}])
    if not isinstance(raw_protocols, list) or not raw_protocols:
        raise ConfigError(f"{_where(src)}protocols must be a non-empty array of tables "
                          "([[protocols]] with name and strategy)")
    for i, p in enumerate(raw_protocols):
        key = f"protocols[{i}]"
        p = dict(_table(p, key, src))
        strategy = p.pop("strategy", None)
        name = p.pop("name", strategy)
        if not isinstance(strategy, str):
            raise ConfigError(f"{_where(src)}{key}.strategy is required (e.g. 'user-temporal')")
        try:
            resolve_strategy(strategy, p)
        except ConfigError as exc:
            raise ConfigError(f"{_where(src)}{key}: {exc}") from None
        if strategy.replace("_", "-") in ("user-kfold", "strong-generalization"):
            raise ConfigError(f"{_where(src)}{key}.strategy {strategy!r} is not supported by the "
                              "benchmark; use user-temporal, user-random, temporal or random")
        if name in {q.name for q in protocols}:
            raise ConfigError(f"{_where(src)}{key}.name {name!r} is used twice")
        protocols.append(ProtocolConfig(str(name), strategy, p))

    models = []
    raw_models = _table(data.get("models", {}), "models", src)
    if not raw_models:
        raise ConfigError(f"{_where(src)}models is empty; add at least one [models.NAME] table")
    for name, params in raw_models.items():
        if name not in MODELS:
            raise ConfigError(f"{_where(src)}unknown model models.{name}; known: {', '.join(MODELS)}")
        params = dict(_table(params, f"models.{name}", src))
        meta = {k: params.pop(k) for k in MODEL_META_KEYS if k in params}
        per_protocol = _protocol_params(params.pop(PROTOCOLS_KEY, {}), f"models.{name}",
                                        [p.name for p in protocols], src)
        models.append(ModelConfig(name, params, protocol_params=per_protocol, **meta))

    quick = _table(data.get("quick", {}), "quick", src)
    _check_keys(quick, _QUICK_KEYS, "quick", src)
    quick = copy.deepcopy(quick)
    if "k" in quick:
        quick["k"] = list(_ks(quick["k"], "quick.k", src))
    for n in quick.get("models", []):
        if n not in MODELS:
            raise ConfigError(f"{_where(src)}unknown model {n!r} in quick.models; known: "
                              f"{', '.join(MODELS)}")
    if "params" in quick:
        for n, t in _table(quick["params"], "quick.params", src).items():
            _table(t, f"quick.params.{n}", src)

    pt = ds.get("positive_threshold")
    rt = ev.get("relevance_threshold")
    alpha = _float(ev.get("alpha", 0.05), "evaluation.alpha", src)
    if not 0 < alpha < 1:
        raise ConfigError(f"{_where(src)}evaluation.alpha must be in (0, 1); got {alpha}")
    config = BenchmarkConfig(
        dataset=ds["name"],
        name=str(data.get("name", ds["name"])),
        seed=_int(data.get("seed", 42), "seed", src),
        positive_threshold=None if pt is None else _float(pt, "dataset.positive_threshold", src),
        data_dir=ds.get("data_dir"),
        k=_ks(ev.get("k", [10, 20]), "evaluation.k", src),
        metrics=metrics,
        n_bootstrap=_int(ev.get("n_bootstrap", 1000), "evaluation.n_bootstrap", src, 0),
        relevance_threshold=None if rt is None else _float(rt, "evaluation.relevance_threshold",
                                                           src),
        primary_metric=str(ev.get("primary_metric", "ndcg@10")),
        alpha=alpha,
        protocols=tuple(protocols),
        models=tuple(models),
        quick=quick,
        source=src,
    )
    metric, k = config.primary()
    if k not in config.k:
        raise ConfigError(f"{_where(src)}evaluation.primary_metric {config.primary_metric!r} uses "
                          f"K={k}, which is not in evaluation.k = {list(config.k)}")
    if metrics is not None and metric not in metrics:
        raise ConfigError(f"{_where(src)}evaluation.primary_metric {metric!r} is not in "
                          "evaluation.metrics")
    return config


def load_config(path: str | os.PathLike[str]) -> BenchmarkConfig:
    """Read and validate a TOML benchmark configuration."""
    p = Path(path)
    if not p.is_file():
        from movielens_lessons.errors import DataNotFoundError

        raise DataNotFoundError(f"{p}: configuration file not found")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return config_from_dict(data, str(p))


def default_config_path() -> Path:
    """``experiments/ml-latest-small.toml``: in the working directory, else in the source checkout."""
    here = Path("experiments") / "ml-latest-small.toml"
    if here.is_file():
        return here
    checkout = Path(__file__).resolve().parents[3] / "experiments" / "ml-latest-small.toml"
    if checkout.is_file():
        return checkout
    raise ConfigError("no default configuration experiments/ml-latest-small.toml here; "
                      "pass --config FILE")
