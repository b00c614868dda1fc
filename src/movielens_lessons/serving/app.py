"""The FastAPI application: saved models, loaded once, answer recommendation requests.

``create_app(models, catalogue=...)`` builds it from fitted models (the first is the default);
:func:`load_models` reads saved model folders (``model.json`` + arrays, no pickle). Every error is a
JSON ``{"detail": "one clear message"}``: 404 for an unknown user, movie or model (a known-user
request may ask for the popularity fallback instead), 413 for a body over ``max_body_bytes`` (411
without a Content-Length), 400 for a body that is not UTF-8 text, 422 for a request the schema
refuses or a model cannot answer (e.g. an anonymous history for a model that cannot fold one in: the
message names the models that can). Each is declared in the OpenAPI schema, which
``tests/serving/test_schema_fuzz.py`` fuzzes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from movielens_lessons.data.indexing import map_ids
from movielens_lessons.errors import ConfigError, MovieLensError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.boosting.explained_recommendations import (
    SCORE_KINDS,
    explain_recommendations,
)
from movielens_lessons.serving import schemas as S
from movielens_lessons.serving.catalogue import Catalogue
from movielens_lessons.serving.page import add_page
from movielens_lessons.serving.run_metrics import leaderboard_entry

#: Request bodies above this many bytes are refused (413); a full history of 1,000 movies with
#: ratings and timestamps is ~70 KB.
MAX_BODY_BYTES = 256 * 1024
#: History movies a reason is looked for among (the latest ones).
REASON_HISTORY = 200
#: Ratings at or above this count as "liked" when a history has ratings.
LIKED_RATING = 4.0

#: The errors every endpoint may answer, documented in the OpenAPI schema.
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": S.Error, "description": "Unknown user, movie or model"},
    422: {"model": S.Error, "description": "A request the schema or the model refuses"},
}
#: ... and those of an endpoint with a body (FastAPI's 400, the body-size middleware's 411 / 413).
_BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    400: {"model": S.Error, "description": "A body that cannot be read (e.g. not UTF-8)"},
    411: {"model": S.Error, "description": "A body without a Content-Length"},
    413: {"model": S.Error, "description": "A body over the size limit"},
}

#: The path and query parameters several endpoints share, with their bounds.
PathId = Annotated[int, PathParam(ge=0, le=S.MAX_ID)]
ListLength = Annotated[int, Query(ge=1, le=S.MAX_K)]
ModelName = Annotated[str | None, Query(max_length=100)]


def load_models(folders: Sequence[str | Path]) -> dict[str, BaseRecommender]:
    """Saved model folders → ``{name: model}`` in the order given (names must differ)."""
    models: dict[str, BaseRecommender] = {}
    for folder in folders:
        model = BaseRecommender.load(folder)
        if model.name in models:
            raise ConfigError(f"two models named {model.name!r} ({folder}); serve one of each")
        models[model.name] = model
    if not models:
        raise ConfigError("no model to serve: give at least one --model DIR")
    return models


def _fail(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def _first_error(exc: RequestValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    if error.get("type") == "json_invalid":
        return f"the request body is not valid JSON ({error.get('msg', '')})"
    return f"{where}: {error.get('msg', 'invalid')}"


def create_app(
    models: Mapping[str, BaseRecommender],
    *,
    catalogue: Catalogue | None = None,
    folders: Mapping[str, str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The service over fitted ``models`` (``{name: model}``; the first is the default)."""
    if not models:
        raise ConfigError("no model to serve")
    default = next(iter(models))
    folders = dict(folders or {})
    # what each model can answer, asked once: for the neural models has_item_similarity() builds
    # their item vectors, which a request would otherwise pay for again
    folds_in = {name: m.folds_in() for name, m in models.items()}
    similar_items = {name: m.has_item_similarity() for name, m in models.items()}
    measured = {name: leaderboard_entry(folders[name], name) if name in folders else None
                for name in models}  # fmt: skip
    app = FastAPI(
        title="movielens-lessons",
        summary="Recommendations from saved movielens-lessons models.",
        version="1",
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        if request.method in ("POST", "PUT", "PATCH"):
            length = request.headers.get("content-length")
            if length is None:
                return JSONResponse({"detail": "a request body needs a Content-Length"}, 411)
            # isascii: str.isdigit() also takes '²', which int() refuses (a 500)
            if not (length.isascii() and length.isdigit()) or int(length) > max_body_bytes:
                return JSONResponse(
                    {"detail": f"the request body is over {max_body_bytes:,} bytes"}, 413
                )
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _first_error(exc)}, 422)

    @app.exception_handler(HTTPException)
    async def on_http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, exc.status_code)

    @app.exception_handler(MovieLensError)
    async def on_domain(_: Request, exc: MovieLensError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, 422)

    def pick(name: str | None) -> tuple[str, BaseRecommender]:
        key = default if name is None else name
        if key not in models:
            raise _fail(404, f"unknown model {key!r}; served: {', '.join(models)}")
        return key, models[key]

    def require(capable: Mapping[str, bool], name: str, lacks: str, able: str) -> None:
        """422 when model ``name`` lacks a capability, naming the served models that have it."""
        if not capable[name]:
            others = ", ".join(n for n, can in capable.items() if can) or "none"
            raise _fail(422, f"model {name} {lacks}; served models that {able}: {others}")

    def seen_movies(model: BaseRecommender, user_id: int) -> list[int] | None:
        """The ``movieId``s (ascending) of ``user_id``'s training data; None for an unknown user,
        also one the id map holds without a training interaction (the model knows nothing of them)."""
        if not model.knows_users([user_id])[0]:
            return None
        row = int(map_ids(np.array([user_id]), model.user_ids_)[0])
        return [int(i) for i in model.item_ids_[np.sort(model.seen_[row].indices)]]

    def describe(movie_id: int) -> dict[str, Any]:
        if catalogue is None:
            return {"title": None, "year": None, "genres": []}
        return catalogue.describe(movie_id)

    def reasons(
        name: str, history: Sequence[int], recommended: Sequence[int], verb: str
    ) -> list[str | None]:
        """"because you {verb} X": the history movie most similar to each recommended one."""
        if not history or not recommended or not similar_items[name]:
            return [None] * len(recommended)
        sims = models[name].item_similarity(history, recommended)
        out: list[str | None] = []
        for col in range(len(recommended)):
            column = sims[:, col]
            if not np.isfinite(column).any() or np.nanmax(column) <= 0:
                out.append(None)
                continue
            best = int(history[int(np.nanargmax(column))])
            title = describe(best)["title"] or f"movie {best}"
            out.append(f"because you {verb} {title}")
        return out

    def items_of(
        recs: Any, name: str, history: Sequence[int], verb: str
    ) -> list[S.RecommendedMovie]:
        row_items, row_scores = recs.items[0], recs.scores[0]
        valid = row_items >= 0
        ids = [int(i) for i in recs.item_ids[row_items[valid]]]
        scores = [float(s) for s in row_scores[valid]]
        why = reasons(name, list(history)[-REASON_HISTORY:], ids, verb)
        return [
            S.RecommendedMovie(movieId=i, rank=r + 1, score=s if np.isfinite(s) else 0.0,
                               reason=w, **describe(i))
            for r, (i, s, w) in enumerate(zip(ids, scores, why, strict=True))
        ]

    @app.get("/health", response_model=S.Health)
    def health() -> S.Health:
        """The service is up; the models it serves."""
        return S.Health(status="ok", models=list(models))

    @app.get("/models", response_model=list[S.ModelInfo])
    def list_models() -> list[S.ModelInfo]:
        """Every served model: what it is, what it was trained on and what it can answer."""
        return [
            S.ModelInfo(
                name=name, feedback=m.feedback, folder=folders.get(name, ""), n_users=m.n_users,
                n_items=m.n_items, fit_seconds=float(m.fit_seconds_),
                data_fingerprint=str(m.fingerprint_), fold_in=folds_in[name],
                similar_items=similar_items[name], default=name == default,
                leaderboard=measured[name],
            )
            for name, m in models.items()
        ]

    @app.get("/users/{userId}/recommendations", response_model=S.Recommendations,
             responses=_ERRORS)  # fmt: skip
    def recommend_user(
        userId: PathId,
        k: ListLength = 10,
        model: ModelName = None,
        fallback: bool = False,
    ) -> S.Recommendations:
        """Top-k for a user of the training data, seen movies excluded. An unknown user is a 404,
        unless ``fallback=true`` asks for the most popular movies instead."""
        name, m = pick(model)
        history = seen_movies(m, userId)
        known = history is not None
        if not known and not fallback:
            raise _fail(404, f"userId {userId} is not known to model {name}; add fallback=true for "
                             "the most popular movies")  # fmt: skip
        if known and name in SCORE_KINDS:
            # the XGBoost models explain their own scores: the reason is their explanation
            explained = explain_recommendations(m, userId, k=k)
            return S.Recommendations(model=name, userId=userId, fallback=False, items=[
                S.RecommendedMovie(movieId=e.movie_id, rank=e.rank, score=e.score, reason=e.why,
                                   **describe(e.movie_id))
                for e in explained
            ])  # fmt: skip
        recs = m.recommend([userId], k=k)
        return S.Recommendations(model=name, userId=userId, fallback=not known,
                                 items=items_of(recs, name, history or [], "watched"))  # fmt: skip

    @app.get("/users/{userId}/history", response_model=S.History, responses=_ERRORS)
    def user_history(
        userId: PathId,
        limit: Annotated[int, Query(ge=1, le=S.MAX_HISTORY)] = 50,
        model: ModelName = None,
    ) -> S.History:
        """The movies a known user has in the model's training data (the first ``limit``, by
        ``movieId``), with the total."""
        name, m = pick(model)
        ids = seen_movies(m, userId)
        if ids is None:
            raise _fail(404, f"userId {userId} is not known to model {name}")
        return S.History(model=name, userId=userId, total=len(ids),
                         items=[S.Movie(movieId=i, **describe(i)) for i in ids[:limit]])  # fmt: skip

    @app.post("/recommendations", response_model=S.Recommendations, responses=_BODY_ERRORS)
    def recommend_history(request: S.HistoryRequest) -> S.Recommendations:
        """Top-k for a brand-new user given as a history of movies (fold-in); the movies of the
        history are excluded, movies the model does not know are ignored."""
        name, m = pick(request.model)
        require(folds_in, name, "cannot recommend for a new user's history", "can")
        history = list(request.history)
        if all(h.timestamp is not None for h in history):
            history.sort(key=lambda h: h.timestamp or 0)
        ids = [h.movieId for h in history]
        rated = all(h.rating is not None for h in history)
        ratings = [float(h.rating) for h in history if h.rating is not None] if rated else None
        recs = m.recommend_for_history(ids, k=request.k, ratings=ratings)
        liked = [h.movieId for h in history if h.rating is None or h.rating >= LIKED_RATING]
        verb = "liked" if rated else "watched"
        return S.Recommendations(model=name, userId=None, fallback=False,
                                 items=items_of(recs, name, liked or ids, verb))  # fmt: skip

    @app.get("/items/search", response_model=list[S.Movie], responses=_ERRORS)
    def search(
        q: Annotated[str, Query(min_length=1, max_length=100)],
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> list[S.Movie]:
        """Movies whose title contains every word of ``q``, best matches first."""
        if catalogue is None:
            raise _fail(404, "no movies table: start the service with --movies FILE")
        return [S.Movie(movieId=i, **catalogue.describe(i)) for i in catalogue.search(q, limit)]

    @app.get("/items/{movieId}/similar", response_model=S.Recommendations, responses=_ERRORS)
    def similar(
        movieId: PathId,
        k: ListLength = 10,
        model: ModelName = None,
    ) -> S.Recommendations:
        """The k movies most similar to ``movieId`` in the model's item representation."""
        name, m = pick(model)
        require(similar_items, name, "has no item representation for similar movies",
                "have one")
        if not np.isin(movieId, m.item_ids_):
            raise _fail(404, f"movieId {movieId} is not in model {name}'s training data")
        recs = m.similar_items([movieId], k=k)
        title = describe(movieId)["title"] or f"movie {movieId}"
        found = items_of(recs, name, [], "")
        for item in found:
            item.reason = f"similar to {title}"
        return S.Recommendations(model=name, userId=None, fallback=False, items=found)

    @app.post("/predict", response_model=S.Predictions, responses=_BODY_ERRORS)
    def predict(request: S.PredictRequest) -> S.Predictions:
        """A predicted rating (explicit models) or score (implicit ones) per (user, movie) pair;
        ``value`` is null where the model cannot score the pair (an unknown user or movie, for
        most models; rating models fall back to their biases)."""
        name, m = pick(request.model)
        users = [p.userId for p in request.pairs]
        movies = [p.movieId for p in request.pairs]
        values = m.predict(users, movies)
        return S.Predictions(
            model=name,
            kind="rating" if m.feedback == "explicit" else "score",
            predictions=[
                S.Prediction(userId=u, movieId=i, value=float(v) if np.isfinite(v) else None)
                for u, i, v in zip(users, movies, values, strict=True)
            ],
        )

    add_page(app)
    return app


__all__ = ["MAX_BODY_BYTES", "create_app", "load_models"]
