"""A model on disk: the folder :meth:`BaseRecommender.save` writes and :meth:`BaseRecommender.load` reads.

The folder holds ``model.json`` (name, format version, params, seed, data fingerprint, sizes, fit seconds,
training metrics, package versions) and ``arrays.npz`` (the id maps, seen items, popularity and whatever
the model's ``_get_state`` returns), read back with ``allow_pickle=False``. A model may add files in a
library's own safe format through ``_save_files``/``_load_files``. Nothing is pickled.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np
import scipy.sparse as sp

from movielens_lessons import __version__
from movielens_lessons.errors import ConfigError, DataNotFoundError
from movielens_lessons.models.protocol import Feedback
from movielens_lessons.models.registry import get_model_class

MODEL_JSON = "model.json"
ARRAYS_NPZ = "arrays.npz"
FORMAT_VERSION = 1

#: Distributions whose versions ``model.json`` records when they are installed.
_VERSIONED = (
    "numpy", "scipy", "implicit", "lightfm-next", "scikit-learn", "xgboost-cpu", "torch",
    "tensorflow-cpu", "pyspark",
)  # fmt: skip


class SavableModel(Protocol):
    """What this module reads from and writes to a model: the fitted state of
    :class:`~movielens_lessons.models.base.BaseRecommender` and its persistence hooks (a structural type,
    so that this module needs nothing from ``base``, which imports it)."""

    name: ClassVar[str]
    feedback: ClassVar[Feedback]
    user_ids_: np.ndarray
    item_ids_: np.ndarray
    seen_: sp.csr_matrix
    item_popularity_: np.ndarray
    fingerprint_: str
    fit_seconds_: float
    training_metrics_: dict[str, Any]  # only on models that record training metrics
    legacy_params: ClassVar[dict[str, Any]]

    def __init__(self, **params: Any) -> None: ...

    @property
    def n_users(self) -> int: ...

    @property
    def n_items(self) -> int: ...

    def get_params(self) -> dict[str, Any]: ...

    def _check_fitted(self) -> None: ...

    def _get_state(self) -> dict[str, np.ndarray]: ...

    def _set_state(self, state: dict[str, np.ndarray]) -> None: ...

    def _save_files(self, folder: Path) -> None: ...

    def _load_files(self, folder: Path) -> None: ...


M = TypeVar("M", bound=SavableModel)


def model_contents(model: SavableModel) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """``(meta, arrays)``: what ``model.json`` and ``arrays.npz`` hold for the fitted ``model``
    (also what Spark executors rebuild a model from, :func:`restore_model`)."""
    model._check_fitted()
    arrays = {
        "user_ids_": model.user_ids_,
        "item_ids_": model.item_ids_,
        "seen_indptr_": model.seen_.indptr,
        "seen_indices_": model.seen_.indices,
        "item_popularity_": model.item_popularity_,
    }
    state = model._get_state()
    clash = set(state) & set(arrays)
    if clash:
        raise ValueError(f"state keys clash with base keys: {sorted(clash)}")
    arrays.update({key: np.asarray(value) for key, value in state.items()})
    for key, value in arrays.items():
        if value.dtype == object:
            raise TypeError(f"state array {key!r} has dtype object; it would need pickle")
    meta = {
        "name": model.name,
        "format_version": FORMAT_VERSION,
        "feedback": model.feedback,
        "params": _jsonable(model.get_params()),
        "seed": model.get_params().get("random_state"),
        "data_fingerprint": model.fingerprint_,
        "n_users": model.n_users,
        "n_items": model.n_items,
        "fit_seconds": round(float(model.fit_seconds_), 4),
        "training_metrics": _jsonable(getattr(model, "training_metrics_", {})),
        "versions": _versions(),
    }
    return meta, arrays


def save_model(model: SavableModel, path: str | os.PathLike[str]) -> Path:
    """Write the fitted ``model`` to the folder ``path`` and return it.

    The folder is written next to its destination and renamed into place, so a failed save never
    leaves a half-written model; an existing folder is replaced.
    """
    meta, arrays = model_contents(model)
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.tmp-", dir=dest.parent))
    try:
        np.savez(tmp / ARRAYS_NPZ, **arrays)  # type: ignore[arg-type]  # no key is allow_pickle
        model._save_files(tmp)
        (tmp / MODEL_JSON).write_text(json.dumps(meta, indent=2) + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def load_model(cls: type[M], path: str | os.PathLike[str]) -> M:
    """Read a model folder written by :func:`save_model`.

    The class comes from the registry name in ``model.json``; it must be ``cls`` or a subclass of it
    (every model is a subclass of ``BaseRecommender``, so that loads any model).
    """
    folder = Path(path)
    meta_path = folder / MODEL_JSON
    if not meta_path.is_file():
        raise DataNotFoundError(f"{folder}: not a saved model (no {MODEL_JSON})")
    meta = json.loads(meta_path.read_text())
    with np.load(folder / ARRAYS_NPZ, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    model = restore_model(cls, meta, arrays, where=str(folder))
    model._load_files(folder)
    return model


def restore_model(cls: type[M], meta: dict[str, Any], arrays: dict[str, np.ndarray],
                  where: str = "the saved model") -> M:
    """The model that :func:`model_contents` described (``arrays`` is consumed); its class comes
    from the registry name in ``meta`` and must be ``cls`` or a subclass of it."""
    # plain ``type``: mypy cannot narrow the registry's class to the type variable's bound
    model_cls: type = get_model_class(meta["name"], loading=True)
    if not issubclass(model_cls, cls):
        raise ConfigError(f"{where} holds a {meta['name']} model, not {cls.name}")
    model: M = model_cls(**{**model_cls.legacy_params, **meta["params"]})
    arrays = dict(arrays)
    model.user_ids_ = arrays.pop("user_ids_")
    model.item_ids_ = arrays.pop("item_ids_")
    n_users, n_items = len(model.user_ids_), len(model.item_ids_)
    indptr, indices = arrays.pop("seen_indptr_"), arrays.pop("seen_indices_")
    model.seen_ = sp.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), indices, indptr), shape=(n_users, n_items)
    )
    model.item_popularity_ = arrays.pop("item_popularity_")
    model.fingerprint_ = meta["data_fingerprint"]
    model.fit_seconds_ = meta["fit_seconds"]
    if meta.get("training_metrics"):  # so that a loaded model re-saves what it was fitted with
        model.training_metrics_ = meta["training_metrics"]
    model._set_state(arrays)
    return model


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"movielens-lessons": __version__, "python": platform.python_version()}
    for dist in _VERSIONED:
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            continue
    return out


__all__ = ["ARRAYS_NPZ", "FORMAT_VERSION", "MODEL_JSON", "load_model", "save_model"]
