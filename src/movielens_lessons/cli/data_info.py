"""``movielens-lessons data info NAME_OR_PATH``: what a release or ratings file holds."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from movielens_lessons.cli.app import data_app
from movielens_lessons.data.info import describe
from movielens_lessons.data.loading import read_source

_LABELS = {
    "ratings": "ratings",
    "users": "users (with ratings)",
    "rated_movies": "movies with ratings",
    "movies": "movies in the catalogue",
    "tags": "tags",
    "links": "links",
    "users_with_demographics": "users with demographics",
    "rating_min": "lowest rating",
    "rating_max": "highest rating",
    "rating_mean": "mean rating",
    "distinct_rating_values": "rating values",
    "duplicate_pairs": "duplicate (user, movie) rows",
    "density": "density",
    "median_ratings_per_user": "median ratings per user",
    "median_ratings_per_movie": "median ratings per movie",
    "first_date": "first rating (UTC)",
    "last_date": "last rating (UTC)",
    "path": "read from",
}


def _show(value: object, key: str) -> str:
    if value is None:
        return "-"
    if key == "density":
        return f"{value:.4%}"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ", ".join(f"{v:g}" for v in value)
    return str(value)


@data_app.command("info")
def info(
    source: str = typer.Argument(
        ...,
        metavar="NAME_OR_PATH",
        help="A release name (ml-latest-small, ml-1m, ...), a release folder, or a ratings CSV/Parquet.",
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="Folder holding release folders (default: $MOVIELENS_DATA_DIR, ...).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
    download: bool = typer.Option(
        True, "--download/--no-download", help="Download a missing release (verified by hash)."
    ),
) -> None:
    """Describe a release or ratings file: sizes, rating range, density and time span."""
    summary = describe(read_source(source, data_dir=data_dir, download=download))
    if as_json:
        typer.echo(json.dumps(summary))
        return
    table = Table(title=f"MovieLens data: {summary['name']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, label in _LABELS.items():
        if summary.get(key) is not None:
            table.add_row(label, _show(summary[key], key))
    Console().print(table)
