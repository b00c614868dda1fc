"""The ranker's prior: the retriever order its trees start from, and how much of their correction to keep.

The booster's base margin is the prior, so zero trees reproduce the prior's order and the trees learn
corrections to it. The prior is one retriever's rank (``-weight · ln rank``) or a blend of several
retrievers' score ratios (score / the user's best score); at scoring time ``shrink`` scales the
corrections back towards it.
"""

from __future__ import annotations

import numpy as np

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.boosting.ranker.candidates import Candidates
from movielens_lessons.models.boosting.ranker.features import score_ratios

#: Lowest score ratio a blended prior uses: far below it, the retriever's best score for the user is
#: near 0 and the ratio means nothing (ratios of -10⁴ occur with LightFM, and without a floor some
#: users' priors overflowed float32). Validation NDCG@10 of the P1 blend alone is the same with
#: floors -10 to -10⁴ and drops at -3 / -1 (0.2164 / 0.2154 against 0.2174).
BLEND_RATIO_FLOOR = -10.0

#: Where the prior comes from: one retriever's column, a blend ``{column: weight}``, or none.
PriorColumns = int | dict[int, float] | None


def blend_prior(ratios: np.ndarray, weights: dict[int, float]) -> np.ndarray:
    """``Σ weight · ratio`` over the columns of ``ratios`` (score / the user's best score, one column
    per retriever) named in ``weights``; a missing ratio counts 0, ratios floored at
    :data:`BLEND_RATIO_FLOOR`. Shape ``(n_pairs,)``."""
    floored = np.clip(np.nan_to_num(ratios, nan=0.0), BLEND_RATIO_FLOOR, 1.0)
    return sum(w * floored[:, col] for col, w in weights.items())


def shrink_corrections(margin: np.ndarray, prior: np.ndarray | None, shrink: float) -> np.ndarray:
    """``prior + shrink · (margin - prior)`` per candidate row (margin units): the trees' corrections
    to the prior scaled by ``shrink`` in [0, 1]; ``margin`` itself without a prior or at 1."""
    return margin if prior is None or shrink == 1.0 else prior + shrink * (margin - prior)


def prior_columns(prior: str | dict[str, float], names: list[str], retrievers: str) -> PriorColumns:
    """Column of the ``prior`` retriever among ``names`` (the retrievers' labels; "first": the first
    listed; "": none), or for a blend ``{column: weight}``. ``retrievers`` is the setting the labels
    came from, quoted in errors."""
    if isinstance(prior, dict):
        if not prior or not set(prior) <= set(names):
            raise ConfigError(f"a prior blend names retrievers of {retrievers!r}; got {prior!r}")
        bad = [w for w in prior.values()
               if isinstance(w, bool) or not isinstance(w, int | float) or not w >= 0]
        if bad or not any(prior.values()):
            raise ConfigError(
                f"prior blend weights must be numbers >= 0, not all 0; got {prior!r}"
            )
        return {names.index(k): float(w) for k, w in prior.items()}
    if not prior:
        return None
    if prior == "first":
        return 0
    if prior not in names:
        raise ConfigError(
            f"prior must be '', 'first' or one of the retrievers {retrievers!r}; got {prior!r}"
        )
    return names.index(prior)


def prior_margins(cand: Candidates, columns: PriorColumns, weight: float) -> np.ndarray | None:
    """Base margins ``(n_pairs,)`` float32 of the candidates: ``-weight · ln(rank)`` from one retriever's
    rank (``N + 1`` outside its top-``N``), ``weight · Σ w · score ratio`` for a blend, or None."""
    if columns is None:
        return None
    if isinstance(columns, dict):
        return (weight * blend_prior(score_ratios(cand), columns)).astype(np.float32)
    return (-weight * np.log(cand.ranks[:, columns])).astype(np.float32)
