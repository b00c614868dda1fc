"""Benchmark configuration: frozen dataclasses for the run, its protocols and its models.

A :class:`BenchmarkConfig` is read from TOML and validated by
:mod:`movielens_lessons.experiments.config_loading` (which documents the file's layout);
:meth:`BenchmarkConfig.to_dict` gives the TOML-shaped data back. Every problem is a
:class:`~movielens_lessons.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from movielens_lessons.errors import ConfigError

#: Keys of a ``[models.NAME]`` table that are not constructor parameters.
MODEL_META_KEYS = ("tuned_by", "tuned_validation", "cheaper")
#: Key of a ``[models.NAME]`` sub-table of per-protocol overrides, ``[models.NAME.protocols.P]``.
PROTOCOLS_KEY = "protocols"


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
    #: the settings ``--quick`` made cheaper than the full run's, e.g. ``"n_epochs = 10"`` (the
    #: report labels those rows); kept in a resolved config, so a rerun is labelled the same
    cheaper: str | None = None

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
    #: ``"local"`` (NumPy, one machine) or ``"spark"`` (data, splits, fits, lists and metrics in
    #: Spark: :mod:`movielens_lessons.experiments.spark_engine`)
    engine: str = "local"
    #: the ``[spark]`` table: master, checkpoint_dir, memory and partition settings, conf
    spark: dict[str, Any] = field(default_factory=dict)

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
        if self.engine != "local":
            out["engine"] = self.engine
        if self.spark:
            out["spark"] = copy.deepcopy(self.spark)
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
                                             "cheaper": m.cheaper,
                                             PROTOCOLS_KEY: copy.deepcopy(m.protocol_params)
                                             or None})
                         for m in self.models}
        if self.quick:
            out["quick"] = copy.deepcopy(self.quick)
        return out


def _with_quick(model: ModelConfig, quick: dict[str, Any]) -> ModelConfig:
    """``model`` with ``[quick.params.NAME]`` applied on top of every protocol's parameters, and
    its ``[quick.params.NAME.protocols.P]`` tables on top of protocol P's."""
    if not quick:
        return model
    shared = {k: v for k, v in quick.items() if k != PROTOCOLS_KEY}
    quick_protocols: dict[str, dict[str, Any]] = quick.get(PROTOCOLS_KEY, {})
    # a per-protocol value of a key that --quick sets would win over it in params_for: drop it
    per_protocol = {p: {k: v for k, v in t.items() if k not in shared}
                    for p, t in model.protocol_params.items()}
    for p, t in quick_protocols.items():
        per_protocol[p] = {**per_protocol.get(p, {}), **t}
    label = "; ".join(
        [", ".join(f"{k} = {v!r}" for k, v in shared.items())] * bool(shared)
        + [f"on {p}: " + ", ".join(f"{k} = {v!r}" for k, v in t.items())
           for p, t in quick_protocols.items()]
    )
    return replace(model, params={**model.params, **shared},
                   protocol_params={p: t for p, t in per_protocol.items() if t},
                   cheaper=label if model.cheaper is None else f"{model.cheaper}; {label}")


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def parse_metric_at_k(text: str, source: str | None = None, key: str = "metric") -> tuple[str, int]:
    """``"ndcg@10"`` → ``("ndcg", 10)``; ConfigError naming ``key`` otherwise."""
    from movielens_lessons.evaluation.ranking import RANKING_METRICS

    name, _, k = str(text).partition("@")
    if name not in RANKING_METRICS or not k.isdigit() or int(k) < 1:
        raise ConfigError(f"{source_prefix(source)}{key} = {text!r}: expected METRIC@K with METRIC "
                          f"one of {', '.join(RANKING_METRICS)}, e.g. 'ndcg@10'")
    return name, int(k)


def source_prefix(source: str | None) -> str:
    """``"FILE: "`` to start an error message about the config file ``source``; "" without one."""
    return f"{source}: " if source else ""
