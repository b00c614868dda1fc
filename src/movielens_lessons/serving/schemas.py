"""Request and response bodies of the service (pydantic): strict, bounded, in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

#: Ids are int32 in the data layer: larger ones can name no user or movie.
MAX_ID = 2**31 - 1
#: Recommendations per request.
MAX_K = 100
#: Movies in an anonymous history.
MAX_HISTORY = 1000
#: Pairs in one prediction request.
MAX_PAIRS = 1000
#: Timestamps (seconds): the largest integer a JSON number (a double) holds exactly.
MAX_TIMESTAMP = 2**53 - 1


def _whole(value: object) -> object:
    """``100.0`` is an integer to JSON Schema (and to JavaScript): take it as ``100``; a string or
    a fraction stays refused (strict ints)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Id = Annotated[int, Field(ge=0, le=MAX_ID, strict=True), BeforeValidator(_whole)]
K = Annotated[int, Field(ge=1, le=MAX_K)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryItem(_Strict):
    """One movie of a new user's history; ``rating`` on the data's scale, ``timestamp`` in seconds
    (histories are read oldest first; with timestamps, in their order)."""

    movieId: Id
    rating: Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)] | None = None
    timestamp: Annotated[
        int, Field(ge=0, le=MAX_TIMESTAMP, strict=True), BeforeValidator(_whole)
    ] | None = None


class HistoryRequest(_Strict):
    """An anonymous user's movies → recommendations (fold-in)."""

    history: Annotated[list[HistoryItem], Field(min_length=1, max_length=MAX_HISTORY)]
    k: K = 10
    model: Annotated[str, Field(max_length=100)] | None = None


class Pair(_Strict):
    userId: Id
    movieId: Id


class PredictRequest(_Strict):
    """(user, movie) pairs → a rating each (explicit models) or a score (implicit ones)."""

    pairs: Annotated[list[Pair], Field(min_length=1, max_length=MAX_PAIRS)]
    model: Annotated[str, Field(max_length=100)] | None = None


class Movie(BaseModel):
    movieId: int
    title: str | None
    year: int | None
    genres: list[str]


class RecommendedMovie(Movie):
    rank: int
    score: float
    reason: str | None = Field(None, description="why, where the model can say (e.g. a similar movie)")


class Recommendations(BaseModel):
    model: str
    userId: int | None = Field(None, description="None for an anonymous history")
    fallback: bool = Field(False, description="True: the most popular movies, the user being unknown")
    items: list[RecommendedMovie]


class History(BaseModel):
    model: str
    userId: int
    total: int = Field(description="movies in the user's training data")
    items: list[Movie]


class Prediction(BaseModel):
    userId: int
    movieId: int
    value: float | None = Field(None, description="None where the model cannot score the pair "
                                "(an unknown user or movie, for most models)")


class Predictions(BaseModel):
    model: str
    kind: str = Field(description="'rating' (explicit models) or 'score' (implicit ones)")
    predictions: list[Prediction]


class MetricValue(BaseModel):
    mean: float
    ci_low: float | None = Field(None, description="bootstrap CI bounds (None: not computed)")
    ci_high: float | None = None


class LeaderboardEntry(BaseModel):
    run: str = Field(description="the benchmark run that measured it")
    protocol: str = Field(description="the split protocol whose test part it was measured on")
    primary_metric: str
    rank: int | None = Field(None, description="its rank on the primary metric in that protocol")
    metrics: dict[str, MetricValue] = Field(description="e.g. 'ndcg@10'; 'rmse' for rating models")


class ModelInfo(BaseModel):
    name: str
    feedback: str
    folder: str
    n_users: int
    n_items: int
    fit_seconds: float
    data_fingerprint: str
    fold_in: bool = Field(description="whether it recommends for an anonymous history")
    similar_items: bool
    default: bool
    leaderboard: LeaderboardEntry | None = Field(
        None, description="its leaderboard row when served from a benchmark run's models/ folder")


class Health(BaseModel):
    status: str
    models: list[str]


class Error(BaseModel):
    detail: str


__all__ = [
    "MAX_HISTORY",
    "MAX_ID",
    "MAX_K",
    "MAX_PAIRS",
    "MAX_TIMESTAMP",
    "Error",
    "Health",
    "History",
    "HistoryItem",
    "HistoryRequest",
    "LeaderboardEntry",
    "MetricValue",
    "ModelInfo",
    "Movie",
    "Pair",
    "PredictRequest",
    "Prediction",
    "Predictions",
    "Recommendations",
    "RecommendedMovie",
]  # fmt: skip
