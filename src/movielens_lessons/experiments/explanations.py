"""What the benchmark records about *why* a tree model ranks as it does (drawn by
:mod:`movielens_lessons.experiments.explanation_figures`).

For every fitted model with a ``feature_importance()`` method (the XGBoost models; any other is skipped):

* **gain importance**: each feature's share of the booster's gain (``total_gain`` for the ranker,
  average ``gain`` per split for the rating model), normalised to sum 1, the top :data:`TOP_FEATURES`;
* **one recommendation's contributions**: for one fixed user (the smallest test ``userId``) and their
  top recommendation, each feature's SHAP contribution (XGBoost ``pred_contribs``) to the score; the
  bias plus the contributions sum to the score (the ranker's margin, the rating model's unclipped
  predicted rating).

Saved as ``explanations/<protocol>/<model>.json`` in the run folder.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.models.boosting.explained_recommendations import rating_contributions

#: Features kept in the recorded importance (the rest are summed into ``other_share``).
TOP_FEATURES = 15
_RATING_META = (C.USER, C.ITEM, C.PREDICTION, C.FALLBACK, "base_value")


@dataclass(frozen=True)
class Contributions:
    """One recommendation: ``bias + sum(contributions.values()) == score`` (up to float32 rounding)."""

    user: int  # external userId
    item: int  # external movieId
    title: str | None
    bias: float
    score: float
    contributions: dict[str, float]  # feature → contribution, in the model's feature order
    score_label: str  # what the score is, for axis labels: "ranking score" or "predicted rating"


@dataclass(frozen=True)
class Explanation:
    """One model on one protocol: normalised gain importance and (if available) one example."""

    protocol: str
    model: str
    importance_type: str  # "total_gain" or "gain"
    importance: dict[str, float]  # top features, share of the total, largest first
    n_features: int
    other_share: float  # share of the features left out of ``importance``
    example: Contributions | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        example = data.get("example")
        return cls(**{**data, "example": None if example is None else Contributions(**example)})


def importance_shares(series: pd.Series, top: int = TOP_FEATURES) -> tuple[dict[str, float], float]:
    """(top ``top`` features as shares of the total, largest first; share of all the others)."""
    s = series.astype(float).clip(lower=0)
    total = float(s.sum())
    shares = (s / total if total > 0 else s).sort_values(ascending=False, kind="stable")
    kept = shares.head(top)
    return {str(k): float(v) for k, v in kept.items()}, float(shares.iloc[top:].sum())


def _title(movies: pd.DataFrame | None, item: int) -> str | None:
    if movies is None or C.TITLE not in movies.columns or C.ITEM not in movies.columns:
        return None
    hit = movies.loc[movies[C.ITEM] == item, C.TITLE]
    return None if hit.empty else str(hit.iloc[0])


def top_contributions(model: Any, feedback: str, user: int,
                      movies: pd.DataFrame | None = None) -> Contributions | None:
    """The contributions behind ``user``'s top recommendation; None if the model cannot say.

    Implicit models (the ranker) explain their own list: ``explain(user, k=1)``. Explicit models (the
    rating model) explain a (user, item) pair: ``explain([user], [top recommended item])``.
    """
    if not hasattr(model, "explain"):
        return None
    if feedback == "implicit":
        frame = model.explain(user, k=1)
        if frame.empty:
            return None
        row = frame.iloc[0]
        features = [c for c in frame.columns if c not in (C.ITEM, "bias", "score")]
        bias, score, label = float(row["bias"]), float(row["score"]), "ranking score"
    else:
        frame = rating_contributions(model, user, 1)
        if frame.empty:
            return None
        row = frame.iloc[0]
        if bool(row.get(C.FALLBACK, False)):
            return None
        features = [c for c in frame.columns if c not in _RATING_META]
        bias, label = float(row["base_value"]), "predicted rating"
        score = bias + float(np.sum(row[features].to_numpy(float)))  # unclipped, = the sum
    contributions = {str(f): float(row[f]) for f in features}
    if not all(math.isfinite(v) for v in (bias, score, *contributions.values())):
        return None
    item = int(row[C.ITEM])
    return Contributions(int(user), item, _title(movies, item), bias, score, contributions, label)


def explain_model(model: Any, feedback: str, protocol: str, name: str, user: int | None,
                  movies: pd.DataFrame | None = None) -> Explanation | None:
    """The :class:`Explanation` of a fitted ``model``; None if it has no ``feature_importance``."""
    if not hasattr(model, "feature_importance"):
        return None
    series = model.feature_importance()
    importance, other = importance_shares(series)
    example = None if user is None else top_contributions(model, feedback, user, movies)
    return Explanation(protocol, name, str(series.name or "gain"), importance, len(series), other,
                       example)


def write_explanation(explanation: Explanation, out_dir: Path) -> Path:
    """``out_dir/explanations/<protocol>/<model>.json``."""
    path = out_dir / "explanations" / explanation.protocol / f"{explanation.model}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(explanation.to_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def read_explanation(path: str | Path) -> Explanation:
    """An :class:`Explanation` written by :func:`write_explanation`."""
    return Explanation.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
