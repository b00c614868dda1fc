"""Reading a benchmark configuration: a TOML file parsed with :mod:`tomllib`, validated key by key.

Layout (every key optional except ``dataset.name``; see ``experiments/ml-latest-small.toml``)::

    name = "ml-latest-small"            # label of the run
    seed = 42                           # seeds the bootstrap and the paired tests
    engine = "local"                    # or "spark": the whole job in Spark (spark-* models)
    [spark]         master, checkpoint_dir, driver_memory, executor_memory, executor_cores,
                    shuffle_partitions, conf = {"spark.any.setting" = "value"}
    [dataset]       name, positive_threshold
    [evaluation]    k, metrics, n_bootstrap, relevance_threshold, primary_metric, alpha
    [[protocols]]   name, strategy, and the split's own parameters (test_size, seed, ...)
    [models.NAME]   the model's constructor parameters; ``tuned_by`` records the tune command
    [models.NAME.protocols.PROTOCOL]   parameters that override the model's on that protocol only
    [quick]         overrides used by ``--quick``: k, models, n_bootstrap, and [quick.params.NAME]

Every problem is a :class:`~movielens_lessons.errors.ConfigError` naming the file and the key. The
result is a :class:`~movielens_lessons.experiments.config.BenchmarkConfig`.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser as the tomli backport
    import tomli as tomllib

from movielens_lessons.errors import ConfigError
from movielens_lessons.experiments.config import (
    MODEL_META_KEYS,
    PROTOCOLS_KEY,
    BenchmarkConfig,
    ModelConfig,
    ProtocolConfig,
    source_prefix,
)

_TOP_KEYS = ("name", "seed", "dataset", "evaluation", "protocols", "models", "quick", "description",
             "engine", "spark")
ENGINES = ("local", "spark")
_DATASET_KEYS = ("name", "positive_threshold", "data_dir")
_EVAL_KEYS = ("k", "metrics", "n_bootstrap", "relevance_threshold", "primary_metric", "alpha")
_QUICK_KEYS = ("k", "models", "n_bootstrap", "params")


def _table(value: Any, key: str, source: str | None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source_prefix(source)}{key} must be a table; got {value!r}")
    return value


def _check_keys(
    table: dict[str, Any], allowed: tuple[str, ...], key: str, source: str | None
) -> None:
    for k in table:
        if k not in allowed:
            raise ConfigError(f"{source_prefix(source)}unknown key {key + '.' if key else ''}{k}; "
                              f"allowed: {', '.join(allowed)}")


def _int(value: Any, key: str, source: str | None, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{source_prefix(source)}{key} must be an integer ≥ {minimum}; got {value!r}"
        )
    return value


def _float(value: Any, key: str, source: str | None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source_prefix(source)}{key} must be a number; got {value!r}")
    return float(value)


def _ks(value: Any, key: str, source: str | None) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise ConfigError(f"{source_prefix(source)}{key} must list at least one K")
    return tuple(sorted({_int(v, key, source, 1) for v in values}))


def _protocol_params(value: Any, key: str, protocols: list[str], source: str | None
                     ) -> dict[str, dict[str, Any]]:
    """``[KEY.protocols.P]`` tables, each naming one of ``protocols``."""
    table = _table(value, f"{key}.{PROTOCOLS_KEY}", source)
    out = {}
    for name, params in table.items():
        where = f"{key}.{PROTOCOLS_KEY}.{name}"
        if name not in protocols:
            raise ConfigError(f"{source_prefix(source)}{where}: unknown protocol {name!r}; the "
                              f"configured protocols are {', '.join(protocols)}")
        out[name] = copy.deepcopy(_table(params, where, source))
    return out


def config_from_dict(data: dict[str, Any], source: str | None = None) -> BenchmarkConfig:
    """Validate TOML-shaped ``data`` (as :func:`tomllib.load` returns it) into a BenchmarkConfig."""
    from movielens_lessons.data.split_registry import resolve_strategy
    from movielens_lessons.evaluation.evaluate import ALL_METRICS
    from movielens_lessons.models.registry import MODELS

    src = source
    _check_keys(data, _TOP_KEYS, "", src)
    ds = _table(data.get("dataset", {}), "dataset", src)
    _check_keys(ds, _DATASET_KEYS, "dataset", src)
    if "name" not in ds or not isinstance(ds["name"], str) or not ds["name"]:
        raise ConfigError(f"{source_prefix(src)}dataset.name is required: a release name "
                          "(e.g. 'ml-latest-small') or a ratings file")
    ev = _table(data.get("evaluation", {}), "evaluation", src)
    _check_keys(ev, _EVAL_KEYS, "evaluation", src)
    metrics = ev.get("metrics")
    if metrics is not None:
        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise ConfigError(f"{source_prefix(src)}evaluation.metrics must be a list of names")
        bad = [m for m in metrics if m not in ALL_METRICS or m == "auc"]
        if bad:
            known = ", ".join(m for m in ALL_METRICS if m != "auc")
            raise ConfigError(f"{source_prefix(src)}evaluation.metrics: unknown metric "
                              f"{bad[0]!r}; known: {known}")
        metrics = tuple(metrics)

    protocols: list[ProtocolConfig] = []
    raw_protocols = data.get("protocols", [{"name": "user-temporal", "strategy": "user-temporal"}])
    if not isinstance(raw_protocols, list) or not raw_protocols:
        raise ConfigError(f"{source_prefix(src)}protocols must be a non-empty array of tables "
                          "([[protocols]] with name and strategy)")
    for i, p in enumerate(raw_protocols):
        key = f"protocols[{i}]"
        p = dict(_table(p, key, src))
        strategy = p.pop("strategy", None)
        name = p.pop("name", strategy)
        if not isinstance(strategy, str):
            raise ConfigError(
                f"{source_prefix(src)}{key}.strategy is required (e.g. 'user-temporal')"
            )
        try:
            resolve_strategy(strategy, p)
        except ConfigError as exc:
            raise ConfigError(f"{source_prefix(src)}{key}: {exc}") from None
        if strategy.replace("_", "-") in ("user-kfold", "strong-generalization"):
            raise ConfigError(f"{source_prefix(src)}{key}.strategy {strategy!r} is not supported "
                              "by the benchmark; use user-temporal, user-random, temporal or "
                              "random")
        if name in {q.name for q in protocols}:
            raise ConfigError(f"{source_prefix(src)}{key}.name {name!r} is used twice")
        protocols.append(ProtocolConfig(str(name), strategy, p))

    models = []
    raw_models = _table(data.get("models", {}), "models", src)
    if not raw_models:
        raise ConfigError(
            f"{source_prefix(src)}models is empty; add at least one [models.NAME] table"
        )
    for name, params in raw_models.items():
        if name not in MODELS:
            raise ConfigError(
                f"{source_prefix(src)}unknown model models.{name}; known: {', '.join(MODELS)}"
            )
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
            raise ConfigError(f"{source_prefix(src)}unknown model {n!r} in quick.models; known: "
                              f"{', '.join(MODELS)}")
    if "params" in quick:
        for n, t in _table(quick["params"], "quick.params", src).items():
            t = _table(t, f"quick.params.{n}", src)
            if PROTOCOLS_KEY in t:  # [quick.params.NAME.protocols.P]: cheaper on P only
                _protocol_params(t[PROTOCOLS_KEY], f"quick.params.{n}",
                                 [p.name for p in protocols], src)

    pt = ds.get("positive_threshold")
    rt = ev.get("relevance_threshold")
    alpha = _float(ev.get("alpha", 0.05), "evaluation.alpha", src)
    if not 0 < alpha < 1:
        raise ConfigError(f"{source_prefix(src)}evaluation.alpha must be in (0, 1); got {alpha}")
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
        engine=_engine(data.get("engine", "local"), src),
        spark=copy.deepcopy(_table(data.get("spark", {}), "spark", src)),
    )
    if config.engine == "spark":
        _check_spark_engine(config, src)
    metric, k = config.primary()
    if k not in config.k:
        raise ConfigError(f"{source_prefix(src)}evaluation.primary_metric "
                          f"{config.primary_metric!r} uses K={k}, which is not in evaluation.k = "
                          f"{list(config.k)}")
    if metrics is not None and metric not in metrics:
        raise ConfigError(f"{source_prefix(src)}evaluation.primary_metric {metric!r} is not in "
                          "evaluation.metrics")
    return config


def _engine(value: Any, source: str | None) -> str:
    if value not in ENGINES:
        raise ConfigError(f"{source_prefix(source)}engine must be one of {', '.join(ENGINES)}; "
                          f"got {value!r}")
    return str(value)


def _check_spark_engine(config: BenchmarkConfig, source: str | None) -> None:
    """What ``engine = "spark"`` can run: models trained by Spark, the splits and metrics that
    Spark computes, a valid ``[spark]`` table (checked without starting Spark)."""
    from movielens_lessons.models.registry import MODELS
    from movielens_lessons.spark.metric_names import SPARK_METRICS
    from movielens_lessons.spark.session import session_settings
    from movielens_lessons.spark.splits import STRATEGIES

    pre = source_prefix(source)
    spark_models = [name for name, spec in MODELS.items() if spec.extra == "spark"]
    for m in config.models + tuple(ModelConfig(n) for n in config.quick.get("models", [])):
        if m.name not in spark_models:
            raise ConfigError(f"{pre}models.{m.name}: engine = \"spark\" trains models in Spark; "
                              f"the ones that can are {', '.join(spark_models)}")
    for p in config.protocols:
        if p.strategy not in STRATEGIES:
            raise ConfigError(f"{pre}protocol {p.name!r}: Spark splits by {', '.join(STRATEGIES)}; "
                              f"got {p.strategy!r}")
    bad = [m for m in config.metrics or () if m not in SPARK_METRICS]
    if bad:
        raise ConfigError(f"{pre}evaluation.metrics: Spark computes {', '.join(SPARK_METRICS)}; "
                          f"not {bad[0]!r}")
    try:
        session_settings(config.spark)
    except ConfigError as exc:
        raise ConfigError(f"{pre}{exc}") from None


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
