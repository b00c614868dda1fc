"""``movielens-lessons explain --model DIR --user ID``: a user's recommendations and why each was made."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer

from movielens_lessons import columns as C
from movielens_lessons.cli.app import app
from movielens_lessons.cli.model_commands import MODEL_MOVIES, read_id_columns
from movielens_lessons.errors import ConfigError, MissingColumnError


@app.command()
def explain(
    model: Path = typer.Option(..., "--model", help="A model folder written by `train`."),
    user: int = typer.Option(..., "--user", help="userId to explain the recommendations of."),
    k: int = typer.Option(5, "--k", help="How many recommendations."),
    top: int = typer.Option(3, "--top", help="Reasons per recommendation."),
    movies: Path | None = typer.Option(
        None, "--movies", help="movies.csv for titles (default: the one saved with the model)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Top-k recommendations with the reasons behind each (xgboost-ranker, xgboost-rating)."""
    from movielens_lessons.models.base import BaseRecommender
    from movielens_lessons.models.boosting.explained_recommendations import (
        SCORE_KINDS,
        explain_recommendations,
    )

    if k <= 0:
        raise ConfigError(f"--k must be a positive integer, got {k}")
    if top <= 0:
        raise ConfigError(f"--top must be a positive integer, got {top}")
    recommender = BaseRecommender.load(model)
    explained = explain_recommendations(recommender, user, k=k, top=top)
    titles = _titles(movies if movies is not None else Path(model) / MODEL_MOVIES, movies is None)
    rows = []
    for e in explained:
        row = e.to_dict()
        if titles:
            row = {C.ITEM: row.pop(C.ITEM), C.TITLE: titles.get(e.movie_id), **row}
        rows.append(row)
    if as_json:
        payload = {
            C.USER: user,
            "model": recommender.name,
            "score_kind": SCORE_KINDS[recommender.name],
            "recommendations": rows,
        }
        typer.echo(json.dumps(payload))
        return
    _print_table(rows, user, SCORE_KINDS[recommender.name], with_titles=bool(titles))


def _titles(path: Path, optional: bool) -> dict[int, str]:
    """movieId → title from a movies.csv; {} when the model folder has none (``optional``)."""
    if optional and not path.is_file():
        return {}
    frame = read_id_columns(path, (C.ITEM,))
    if C.TITLE not in frame.columns:
        raise MissingColumnError(
            f"missing column {C.TITLE!r}; found {list(frame.columns)}", path=path
        )
    return dict(zip(frame[C.ITEM].tolist(), frame[C.TITLE].tolist(), strict=True))


def _print_table(rows: list[dict], user: int, score_kind: str, with_titles: bool) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(
        title=f"Why these movies for user {user}", caption=f"score: {score_kind}", show_lines=True
    )
    table.add_column("#", justify="right")
    table.add_column(C.ITEM, justify="right")
    if with_titles:
        table.add_column(C.TITLE, max_width=28)
    table.add_column(C.SCORE, justify="right")
    table.add_column("why", ratio=1)
    for row in rows:
        # the why text, then the signed contributions behind it (score units)
        parts = ", ".join(f"{r['concept']} {r['contribution']:+.3f}" for r in row["reasons"])
        why = escape(row["why"]) + (f"\n[dim]{escape(parts)}[/dim]" if parts else "")
        cells = [str(row[C.RANK]), str(row[C.ITEM])]
        if with_titles:
            title = row.get(C.TITLE)
            cells.append("" if title is None or pd.isna(title) else escape(str(title)))
        table.add_row(*cells, f"{row[C.SCORE]:.3f}", why)
    Console(highlight=False).print(table)
