"""Model names (as used by the CLI and configs) → lazily imported classes.

A model whose optional framework is missing raises :class:`~movielens_lessons.errors.MissingExtraError`
naming the ``pip install "movielens-lessons[extra]"`` that fixes it.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from movielens_lessons.errors import ConfigError, MissingExtraError


@dataclass(frozen=True)
class ModelSpec:
    """Where a model lives and which extra (and top-level module) it needs."""

    name: str
    target: str  # "module:Class"
    feedback: str  # "implicit" or "explicit"
    extra: str | None = None
    requires: tuple[str, ...] = ()  # modules that must import, checked before the model module
    # modules a saved model needs to load and serve (None: the same as ``requires``)
    load_requires: tuple[str, ...] | None = None


_SPECS = (
    ModelSpec("random", "movielens_lessons.models.baselines.unpersonalized:RandomRecommender", "implicit"),
    ModelSpec("most-popular", "movielens_lessons.models.baselines.unpersonalized:MostPopular", "implicit"),
    ModelSpec("item-knn", "movielens_lessons.models.neighbors.item_knn:ItemKNN", "implicit"),
    ModelSpec("pure-svd", "movielens_lessons.models.factorization.pure_svd:PureSVD", "implicit"),
    ModelSpec("ease", "movielens_lessons.models.autoencoders.ease:EASE", "implicit"),
    ModelSpec(
        "als", "movielens_lessons.models.factorization.implicit_lib:ALS", "implicit", "models", ("implicit",)
    ),
    ModelSpec(
        "bpr", "movielens_lessons.models.factorization.implicit_lib:BPR", "implicit", "models", ("implicit",)
    ),
    ModelSpec(
        "lightfm",
        "movielens_lessons.models.factorization.lightfm_model:LightFM",
        "implicit",
        "models",
        ("lightfm",),
    ),
    ModelSpec("global-mean", "movielens_lessons.models.baselines.rating_biases:GlobalMean", "explicit"),
    ModelSpec(
        "bias-baseline", "movielens_lessons.models.baselines.rating_biases:BiasBaseline", "explicit"
    ),
    ModelSpec("explicit-als", "movielens_lessons.models.factorization.explicit_als:ExplicitALS", "explicit"),
    ModelSpec("svd", "movielens_lessons.models.factorization.funk_svd:FunkSVD", "explicit"),
    ModelSpec(
        "spark-als", "movielens_lessons.models.spark.als:SparkALS", "explicit", "spark", ("pyspark",)
    ),
    ModelSpec(
        "spark-most-popular",
        "movielens_lessons.models.spark.popularity:SparkMostPopular",
        "implicit",
        "spark",
        ("pyspark",),
    ),
    ModelSpec(
        "spark-als-implicit",
        "movielens_lessons.models.spark.als:SparkALSImplicit",
        "implicit",
        "spark",
        ("pyspark",),
    ),
    ModelSpec(
        "xgboost-ranker",
        "movielens_lessons.models.boosting.ranker.model:XGBoostRanker",
        "implicit",
        "models",
        ("xgboost",),
    ),
    ModelSpec(
        "xgboost-rating",
        "movielens_lessons.models.boosting.rating.model:XGBoostRating",
        "explicit",
        "models",
        ("xgboost",),
    ),
    ModelSpec(
        "mult-vae", "movielens_lessons.models.torch.mult_vae:MultVAE", "implicit", "torch", ("torch",)
    ),
    ModelSpec("sasrec", "movielens_lessons.models.torch.sasrec:SASRec", "implicit", "torch", ("torch",)),
    # a fitted two-tower model serves from NumPy arrays: TensorFlow only to fit
    ModelSpec(
        "two-tower",
        "movielens_lessons.models.tf.two_tower:TwoTower",
        "implicit",
        "tf",
        ("tensorflow",),
        load_requires=(),
    ),
)

MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}


class RegisteredModel(Protocol):
    """What this module relies on in a registered class. Every one derives from
    :class:`~movielens_lessons.models.base.BaseRecommender`, which this module cannot import
    (``base`` imports ``artifacts``, which imports this module), so it is named structurally here."""

    def __init__(self, **params: Any) -> None: ...

    @classmethod
    def param_names(cls) -> list[str]: ...


def model_names() -> list[str]:
    """Every registered model name."""
    return list(MODELS)


def get_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None


def get_model_class(name: str, *, loading: bool = False) -> type[RegisteredModel]:
    """Import and return the class registered as ``name``; ``loading``: only to load and serve a
    saved model, which for some models needs less than fitting (``ModelSpec.load_requires``)."""
    spec = get_spec(name)
    needed = spec.requires if not loading or spec.load_requires is None else spec.load_requires
    for module in needed:
        try:
            importlib.import_module(module)
        except ImportError:
            raise MissingExtraError(module, spec.extra or "all") from None
    module_name, class_name = spec.target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def is_available(name: str) -> bool:
    """Whether the model's optional framework is installed."""
    try:
        get_model_class(name)
    except MissingExtraError:
        return False
    return True


def create_model(name: str, **params: Any):
    """A new, unfitted model with ``params`` checked against its constructor."""
    cls = get_model_class(name)
    known = cls.param_names()
    unknown = [key for key in params if key not in known]
    if unknown:
        raise ConfigError(
            f"unknown parameter {unknown[0]!r} for {name}; known: {', '.join(known) or 'none'}"
        )
    return cls(**params)


def parse_param(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` from the CLI: VALUE is read as int, float, bool (true/false), none, a JSON object
    or array (``{...}`` / ``[...]``, e.g. ``retriever_params={"ease": {"regularization": 100}}``), or
    string."""
    if "=" not in text:
        raise ConfigError(f"bad --param {text!r}: expected KEY=VALUE")
    key, raw = text.split("=", 1)
    key, raw = key.strip().replace("-", "_"), raw.strip()
    if not key:
        raise ConfigError(f"bad --param {text!r}: empty key")
    if raw[:1] in ("{", "["):
        try:
            return key, json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"bad --param {text!r}: the value is not valid JSON ({exc.msg} at "
                              f"character {exc.pos + 1})") from None
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    if lowered in ("none", "null"):
        return key, None
    for convert in (int, float):
        try:
            return key, convert(raw)
        except ValueError:
            continue
    return key, raw
