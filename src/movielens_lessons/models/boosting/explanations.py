"""Per-recommendation "why" text from feature contributions (SHAP values) of a model's score.

Input is one row of contributions: a ``pd.Series`` mapping feature name → contribution to the score in
the model's own units (ranker margin, or stars for a rating model), as given by ``explain()`` of
``xgboost-ranker`` or ``xgboost-rating``. Identifier and total columns of those frames (``movieId``,
``score``, ``prediction``, ...) and the constant ``bias`` / ``base_value`` are skipped, so a whole row of
either frame can be passed as it is.

Features that describe one idea are added up into one **concept** first (``ease_rank``, ``ease_score``
and ``ease_score_ratio`` are one EASE reason): SHAP values are additive, so a concept's contribution is
exactly the sum of its features'. The ``top`` concepts by absolute contribution become :class:`Reason` s:
positive ones are reasons for, negative ones "held back by". :func:`why_text` turns them into one
sentence; :meth:`Reason.to_dict` is the JSON form a service returns.

The phrases live in one table, :data:`CONCEPTS` (first matching pattern wins); a name it does not know
gets a readable phrase built from the name itself.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from movielens_lessons import columns as C

#: Columns of ``explain()`` frames that are not feature contributions.
NOT_FEATURES = frozenset(
    {C.USER, C.ITEM, C.SCORE, C.PREDICTION, C.FALLBACK, C.RANK, "bias", "base_value"}
)
#: Contributions smaller than this (in score units) are noise, not reasons (float32 SHAP values).
NEGLIGIBLE = 1e-6

#: Retriever labels of ``xgboost-ranker`` (feature prefixes) → (reason for, reason against). A
#: contribution is relative to the model's average, so "against" phrases name the factor, not a value:
#: an item EASE ranks 5th can still be held back by its EASE rank when most picks rank higher.
RETRIEVER_PHRASES: dict[str, tuple[str, str]] = {
    "ease": (
        "people with your history rank it highly (EASE)",
        "how people with your history rank it (EASE)",
    ),
    "als": (
        "viewers with tastes like yours rank it highly (ALS)",
        "how viewers with tastes like yours rank it (ALS)",
    ),
    "item_knn": (
        "it is similar to films you watched (item-kNN)",
        "how similar it is to films you watched (item-kNN)",
    ),
    "most_popular": ("it is popular", "its popularity"),
}

#: Display names for labels and words in names the table does not know.
_WORDS = {
    "ease": "EASE",
    "als": "ALS",
    "knn": "kNN",
    "svd": "SVD",
    "bpr": "BPR",
    "lightfm": "LightFM",
    "pop": "popularity",
    "log": "",
}


@dataclass(frozen=True)
class Concept:
    """One idea features can stand for: ``key`` (stable, for JSON), a clause that follows
    "because" when it helps, and a noun phrase that follows "held back by" when it hurts."""

    key: str
    for_phrase: str
    against_phrase: str


#: (pattern, concept) in priority order: the first ``re.fullmatch`` wins. Retriever (``<label>_rank``)
#: and base-model (``pred_<model>``) features are matched after this table, by :func:`concept_of`.
CONCEPTS: tuple[tuple[str, Concept], ...] = (
    # --- both models
    (
        r"genre_affinity(_mean)?",
        Concept(
            "genres", "it matches the genres you watch", "a weaker match with the genres you watch"
        ),
    ),
    # --- xgboost-ranker pair and item features
    (
        r"item_log_pop_user_span|item_pop_lift_user_span",
        Concept(
            "popular_when_active",
            "it was popular when you were active",
            "its popularity while you were active",
        ),
    ),
    (
        r"item_log_pop_user_last",
        Concept(
            "popular_at_last_visit",
            "it was popular around your last visit",
            "its popularity around your last visit",
        ),
    ),
    (
        r"item_first_after_user_last_days",
        Concept(
            "appeared_since_last_visit",
            "it appeared around or after your last visit",
            "when it appeared relative to your visits",
        ),
    ),
    (
        r"item_log_pop_recent",
        Concept("recent_popularity", "it is popular lately", "its recent popularity"),
    ),
    (
        r"pop_vs_user",
        Concept(
            "mainstream",
            "it is about as mainstream as what you watch",
            "how mainstream it is compared with what you watch",
        ),
    ),
    (r"item_log_pop|item_count", Concept("popularity", *RETRIEVER_PHRASES["most_popular"])),
    (
        r"item_age_years|item_days_since_first|item_year",
        Concept("age", "its age suits what you watch", "its age"),
    ),
    (
        r"item_mean_rating|item_mean|item_damped|item_std",
        Concept("item_ratings", "it is well rated", "its average rating"),
    ),
    (
        r"item_imdb_rating|item_imdb_log_votes",
        Concept("imdb", "IMDb rates it well", "its IMDb rating and votes"),
    ),
    (r"item_imdb_runtime", Concept("runtime", "its running time suits you", "its running time")),
    # --- xgboost-rating: catalogue columns and stacked base models
    (r"item_genre_.+", Concept("item_genres", "its genres suit you", "its genres")),
    (r"item_tag_.+", Concept("item_tags", "its tags suit you", "its tags")),
    (
        r"pred_bias-baseline",
        Concept(
            "baseline_rating", "its baseline rating for you is high", "its baseline rating for you"
        ),
    ),
    # --- user features of both models
    (
        r"user_.+",
        Concept("your_habits", "it suits your activity and habits", "your activity and habits"),
    ),
)
#: ``<label>_<kind>`` features of a ranker's retriever; ``prior`` is its rank as the boosting start.
_RETRIEVER = re.compile(r"(?P<label>.+)_(?:score_ratio|score|rank|prior)")
_PREDICTION = re.compile(r"pred_(?P<model>.+)")


@dataclass(frozen=True)
class Reason:
    """One concept's share of a score: ``contribution`` in score units (> 0: for, < 0: against),
    the ``phrase`` that fits its sign, and the ``features`` added up into it."""

    concept: str
    contribution: float
    phrase: str
    features: tuple[str, ...]

    @property
    def direction(self) -> str:
        """``"for"`` or ``"against"``."""
        return "for" if self.contribution > 0 else "against"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "concept": self.concept,
            "direction": self.direction,
            "contribution": float(self.contribution),
            "phrase": self.phrase,
            "features": list(self.features),
        }


@functools.lru_cache(maxsize=4096)
def concept_of(feature: str) -> Concept:
    """The concept a feature name stands for (a readable one built from the name if unknown).

    Cached: a service request looks up each of a ranker's few hundred features for every one of the
    ten recommendations, and the regular expressions were a quarter of its time."""
    for pattern, concept in CONCEPTS:
        if re.fullmatch(pattern, feature):
            return concept
    if m := _RETRIEVER.fullmatch(feature):
        label = m["label"]
        for_, against = RETRIEVER_PHRASES.get(label) or (
            f"the {_readable(label)} model ranks it highly",
            f"how the {_readable(label)} model ranks it",
        )
        key = "popularity" if label == "most_popular" else label
        return Concept(key, for_, against)
    if m := _PREDICTION.fullmatch(feature):
        model = _readable(m["model"])
        return Concept(
            feature,
            f"the {model} model predicts you will like it",
            f"the {model} model's prediction",
        )
    if feature.startswith("item_"):
        words = _readable(feature.removeprefix("item_"))
        return Concept(feature, f"its {words} suits you", f"its {words}")
    words = _readable(feature)
    return Concept(feature, f"{words} counts in its favour", words)


def reasons(contributions: pd.Series, top: int = 3) -> list[Reason]:
    """The ``top`` concepts with the largest absolute contribution, largest first.

    ``contributions``: feature name → contribution (one row of an ``explain()`` frame; identifier,
    total and bias entries are skipped, NaN counts as 0). Features of one concept are summed before
    ranking; concepts whose sum is negligible are left out, so the list can be shorter than ``top``.
    When all ``top`` are negative, the last gives way to the largest positive concept, if any.
    """
    if top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    totals: dict[str, float] = {}
    members: dict[str, list[str]] = {}
    concepts: dict[str, Concept] = {}
    for name, value in contributions.items():
        name = str(name)
        if name in NOT_FEATURES:
            continue
        value = float(value)
        if not np.isfinite(value):
            continue
        concept = concept_of(name)
        concepts.setdefault(concept.key, concept)
        totals[concept.key] = totals.get(concept.key, 0.0) + value
        members.setdefault(concept.key, []).append(name)
    # stable sort: equal sizes keep the order of the features
    ranked = sorted(
        (key for key, total in totals.items() if abs(total) > NEGLIGIBLE),
        key=lambda key: -abs(totals[key]),
    )
    chosen = ranked[:top]
    best_for = next((key for key in ranked if totals[key] > 0), None)
    if best_for is not None and best_for not in chosen:
        # a recommendation's "why" names at least its strongest reason for, when it has one,
        # instead of only what held it back
        chosen = [*chosen[:-1], best_for]
    return [
        Reason(
            concept=key,
            contribution=totals[key],
            phrase=concepts[key].for_phrase if totals[key] > 0 else concepts[key].against_phrase,
            features=tuple(members[key]),
        )
        for key in chosen
    ]


def describe(found: Sequence[Reason], lead: str = "Recommended") -> str:
    """One sentence from :func:`reasons`' output, e.g. "Recommended mainly because A, B, and C; held
    back a little by D." "mainly" when the reasons for outweigh those against, "a little" when the
    ones against weigh less than half as much."""
    pro = [r for r in found if r.contribution > 0]
    con = [r for r in found if r.contribution < 0]
    if not pro and not con:
        return f"{lead}, with no single feature standing out."
    against = _join([r.phrase for r in con])
    if not pro:
        return f"{lead} despite {against}."
    pro_sum = sum(r.contribution for r in pro)
    con_sum = -sum(r.contribution for r in con)
    text = f"{lead} {'mainly' if pro_sum > con_sum else 'partly'} because {_join([r.phrase for r in pro])}"
    if con:
        text += f"; held back {'a little ' if con_sum < pro_sum / 2 else ''}by {against}"
    return text + "."


def why_text(contributions: pd.Series, top: int = 3, lead: str = "Recommended") -> str:
    """:func:`describe` of :func:`reasons`: the short "why" of one recommendation."""
    return describe(reasons(contributions, top=top), lead=lead)


def separate_prior(frame: pd.DataFrame, feature: str, bias: str = "bias") -> pd.DataFrame:
    """Move the row-to-row variation of ``bias`` into its own column ``feature``.

    A booster started from a per-row base margin (``xgboost-ranker``'s ``prior``: a retriever's rank)
    reports that margin inside its bias, so the bias is then a real reason, not a constant. Measured
    from its mean over the rows given (pass every candidate of the user, not only the top-k), it is that
    reason's SHAP-style contribution; ``bias`` keeps the mean, so each row still sums to its score.
    """
    out = frame.copy()
    mean = float(out[bias].mean()) if len(out) else 0.0
    out.insert(out.columns.get_loc(bias), feature, out[bias] - mean)
    out[bias] = mean
    return out


def _join(phrases: Sequence[str]) -> str:
    if len(phrases) <= 2:
        return " and ".join(phrases)
    return ", ".join(phrases[:-1]) + ", and " + phrases[-1]


def _readable(name: str) -> str:
    """``"explicit-als"`` → ``"explicit ALS"``, ``"log_pop_span"`` → ``"popularity span"``."""
    words = [_WORDS.get(w, w) for w in re.split(r"[_\-\s]+", name) if w]
    return " ".join(w for w in words if w) or name
