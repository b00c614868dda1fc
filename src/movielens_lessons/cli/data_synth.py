"""``movielens-lessons data synth``: synthetic MovieLens-format files of any size, with real signal."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from movielens_lessons.cli.app import data_app, err_console


@data_app.command("synth")
def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write ratings/movies/tags/links.csv into."),
    users: int = typer.Option(610, "--users", help="Number of users (userId 1..N)."),
    items: int = typer.Option(9742, "--items", help="Number of movies in the catalogue."),
    ratings: int = typer.Option(100_836, "--ratings", help="Exact number of ratings (distinct pairs)."),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same files."),
    factors: int = typer.Option(8, "--factors", help="Latent factors behind choices and ratings."),
    start: str = typer.Option("2000-01-01", "--start", help="Earliest rating date (YYYY-MM-DD)."),
    end: str = typer.Option("2020-01-01", "--end", help="Latest rating date (YYYY-MM-DD)."),
) -> None:
    """Write synthetic data in the ml-latest-small CSV format (defaults: ml-latest-small's sizes)."""
    from movielens_lessons.data.synth import check_config, synthesize, write_movielens

    check_config(users, items, ratings, factors, start, end)  # fail before drawing a progress bar
    t0 = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        gen = bar.add_task("sampling ratings", total=users)
        data = synthesize(
            users, items, ratings, seed=seed, n_factors=factors, start=start, end=end,
            progress=lambda done, total: bar.update(gen, completed=done, total=total),
        )  # fmt: skip
        bar.update(gen, completed=users)
        put = bar.add_task("writing ratings.csv", total=ratings)
        write_movielens(
            data, out, progress=lambda done, total: bar.update(put, completed=done, total=total)
        )
    assert data.tags is not None  # synthesize always draws tags
    err_console.print(
        f"wrote {len(data.ratings):,} ratings by {users:,} users on {items:,} movies, "
        f"{len(data.tags):,} tags to {out} in {time.perf_counter() - t0:.1f} s",
        markup=False,
    )
