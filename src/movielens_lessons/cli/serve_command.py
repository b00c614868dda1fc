"""``movielens-lessons serve --model DIR [--model DIR ...]``: the recommendation service."""

from __future__ import annotations

from pathlib import Path

import typer

from movielens_lessons.cli.app import app, err_console
from movielens_lessons.cli.model_commands import MODEL_MOVIES
from movielens_lessons.errors import MissingExtraError


@app.command("serve")
def serve(
    model: list[Path] = typer.Option(
        ..., "--model", help="A folder written by `train` (repeat for more; the first is the default)."
    ),
    movies: Path | None = typer.Option(
        None, "--movies", help="movies.csv for titles, years, genres and search "
        "(default: the one a model folder holds)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
) -> None:
    """Serve saved models over HTTP (FastAPI): recommendations for known and brand-new users, similar
    movies, search and predictions; the OpenAPI schema is at /docs."""
    try:
        import uvicorn

        from movielens_lessons.serving.app import create_app, load_models
        from movielens_lessons.serving.catalogue import Catalogue
    except ImportError as exc:
        raise MissingExtraError(exc.name or "fastapi", "serve") from None

    models = load_models(model)
    source = movies or next((m / MODEL_MOVIES for m in model if (m / MODEL_MOVIES).is_file()), None)
    catalogue = None if source is None else Catalogue.from_csv(source)
    folders = {name: str(path) for name, path in zip(models, model, strict=True)}
    application = create_app(models, catalogue=catalogue, folders=folders)
    err_console.print(
        f"serving {', '.join(models)} on http://{host}:{port} (API docs: /docs)"
        + ("" if catalogue is None else f"; {len(catalogue):,} movies from {source}"),
        markup=False,
    )
    # One BLAS thread per process: a request's products are small, and under concurrent requests a
    # multi-threaded BLAS makes each thread wait for cores the others hold (on 2 cores, an EASE
    # request's reasons took 10.5 ms with OpenBLAS's 2 threads against 1.7 ms with one).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        uvicorn.run(application, host=host, port=port, log_level="warning")
