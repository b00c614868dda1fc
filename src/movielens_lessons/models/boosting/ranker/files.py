"""The ranker's own files in a saved model folder: its boosters in XGBoost's UBJSON and each retriever
as a model folder of its own (the rest goes to ``model.json`` / ``arrays.npz`` like any model)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from movielens_lessons.models.base import BaseRecommender

BOOSTER_FILE = "booster.ubj"
RETRIEVER_DIR = "retrievers"


def booster_file(k: int) -> str:
    """The file of booster ``k``: ``booster.ubj``, then ``booster_1.ubj``, … (bagged boosters)."""
    return BOOSTER_FILE if k == 0 else BOOSTER_FILE.replace(".ubj", f"_{k}.ubj")


def save_parts(
    folder: Path, boosters: Sequence[Any], names: Sequence[str], retrievers: Sequence[BaseRecommender]
) -> None:
    """Write ``boosters`` (``xgboost.Booster``) and the fitted ``retrievers`` (``retrievers/<name>/``)."""
    for k, booster in enumerate(boosters):
        booster.save_model(folder / booster_file(k))
    root = folder / RETRIEVER_DIR
    if root.exists():
        shutil.rmtree(root)
    for name, retriever in zip(names, retrievers, strict=True):
        retriever.save(root / name)


def load_boosters(folder: Path, n_boosters: int, nthread: int) -> list[Any]:
    """The ``n_boosters`` boosters :func:`save_parts` wrote, each set to ``nthread`` threads."""
    import xgboost as xgb

    boosters = []
    for k in range(n_boosters):
        booster = xgb.Booster()
        booster.load_model(folder / booster_file(k))
        booster.set_param({"nthread": nthread})
        boosters.append(booster)
    return boosters


def load_retrievers(folder: Path, names: Sequence[str]) -> list[BaseRecommender]:
    """The retrievers :func:`save_parts` wrote, in the order of ``names``."""
    return [BaseRecommender.load(folder / RETRIEVER_DIR / n) for n in names]
