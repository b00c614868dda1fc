"""A user's top-``k`` recommendations with the reasons behind each: what the CLI and the service show.

Only models with per-prediction contributions can say why: ``xgboost-ranker`` explains its own ranking
score (``explain(user, k)``); ``xgboost-rating`` explains the rating it predicts for each of its top-``k``
items (``explain(users, items)``). The contributions become reasons and text in
:mod:`movielens_lessons.models.boosting.explanations`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.features.items import slug
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.boosting.explanations import Reason, describe, reasons

#: Model name → what its ``score`` is.
SCORE_KINDS = {
    "xgboost-ranker": "ranking score (margin)",
    "xgboost-rating": "predicted rating",
}


@dataclass(frozen=True)
class ExplainedRecommendation:
    """One recommended ``movie_id`` at ``rank`` (1 = best), its ``score`` and why."""

    movie_id: int
    rank: int
    score: float
    why: str
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form with the external column names."""
        return {
            C.ITEM: self.movie_id,
            C.RANK: self.rank,
            C.SCORE: self.score,
            "why": self.why,
            "reasons": [r.to_dict() for r in self.reasons],
        }


def explain_recommendations(
    model: BaseRecommender, user: int, k: int = 5, top: int = 3
) -> list[ExplainedRecommendation]:
    """The external ``user``'s top-``k`` (best first), each with its ``top`` reasons and "why" text.

    Raises :class:`ConfigError` for a model that cannot explain and :class:`DataValidationError` for a
    user the model was not trained on (a popularity fallback has no reasons to give).
    """
    if model.name not in SCORE_KINDS:
        raise ConfigError(
            f"{model.name} cannot explain its recommendations; models that can: "
            + ", ".join(SCORE_KINDS)
        )
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise ConfigError(f"k must be a positive integer, got {k!r}")
    if not np.isin(user, model.user_ids_):
        raise DataValidationError(f"userId {user} is not in the model's training data")
    frame = (
        _ranker_frame(model, user, k)
        if model.name == "xgboost-ranker"
        else _rating_frame(model, user, k)
    )
    out = []
    for rank, (_, row) in enumerate(frame.iterrows(), start=1):
        found = reasons(row, top=top)
        out.append(
            ExplainedRecommendation(
                movie_id=int(row[C.ITEM]),
                rank=rank,
                score=float(row[C.SCORE]),
                why=describe(found),
                reasons=tuple(found),
            )
        )
    return out


def _ranker_frame(model, user: int, k: int) -> pd.DataFrame:
    """Contributions of the ranker's top-``k``, its prior split out of the bias.

    The prior is measured from its mean over all of the user's candidates, not over the top-k; the
    ranker computes that from the candidates' priors, so only the top-k are explained (explaining
    every candidate, as ``separate_prior`` would need, made a service request 10x slower).
    """
    label = _prior_label(model)
    feature = None if label is None else f"{slug(label)}_prior"
    return model.explain(user, k=k, prior_feature=feature).reset_index(drop=True)


def _prior_label(model) -> str | None:
    """The retriever label whose rank starts the ranker's boosting (its ``prior``), "blend" for a
    blend of several, or None."""
    if not model.prior:
        return None
    if isinstance(model.prior, dict):
        return "blend"
    return model.retriever_names()[0] if model.prior == "first" else str(model.prior)


def rating_contributions(model, user: int, k: int) -> pd.DataFrame:
    """A rating model's ``explain`` rows (contributions to the predicted rating) for the external
    ``user``'s top-``k`` recommended items, best first."""
    recs = model.recommend([user], k=k)
    items = recs.items[0]
    movies = recs.item_ids[items[items >= 0]]
    return model.explain(np.full(len(movies), user), movies)


def _rating_frame(model, user: int, k: int) -> pd.DataFrame:
    """Contributions to the predicted rating of each of the rating model's top-``k`` items."""
    frame = rating_contributions(model, user, k)
    return frame.rename(columns={C.PREDICTION: C.SCORE}).drop(columns=[C.USER])
