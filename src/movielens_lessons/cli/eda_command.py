"""``movielens-lessons eda [DATASET] --out DIR``: the exploratory-analysis report of a release."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from movielens_lessons.cli.app import app, err_console
from movielens_lessons.data.loading import read_source
from movielens_lessons.errors import DataNotFoundError


@app.command("eda")
def eda(
    dataset: str = typer.Argument(
        "ml-latest-small",
        metavar="[DATASET]",
        help="A release name (ml-latest-small, ml-1m, ...), a release folder, or a ratings CSV/Parquet.",
    ),
    out: Path = typer.Option(
        ..., "--out", help="Folder to write report.html, report.md and figures/ into."
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="Folder holding release folders (default: $MOVIELENS_DATA_DIR, ...).",
    ),
    imdb_dir: Path | None = typer.Option(
        None,
        "--imdb-dir",
        help="Folder with IMDb's title.basics.tsv.gz and title.ratings.tsv.gz (adds the IMDb section).",
    ),
) -> None:
    """Write an EDA report (HTML, Markdown, PNG figures, summary.json) of a MovieLens release."""
    from movielens_lessons.eda import build_report

    if imdb_dir is not None and not imdb_dir.is_dir():
        raise DataNotFoundError(f"--imdb-dir {imdb_dir}: no such folder")
    # Progress goes to stderr, like every message for people; stdout gets only the report's path.
    columns = (
        TextColumn("{task.description:<32}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    # Drawn only on a terminal: in logs and pipes a live bar would leave stray lines around errors.
    quiet = not err_console.is_terminal
    with Progress(*columns, console=err_console, transient=True, disable=quiet) as bar:
        task = bar.add_task(f"reading {dataset}", total=None)
        data = read_source(dataset, data_dir=data_dir)

        def progress(done: int, total: int, what: str) -> None:
            bar.update(task, completed=done, total=total, description=what)

        report = build_report(data, out, imdb_dir=imdb_dir, progress=progress)
    missing = [s.key for s in report.sections if not s.available]
    err_console.print(
        f"{len(report.figures)} figures, {len(report.sections) - len(missing)} sections"
        + (f" (without data: {', '.join(missing)})" if missing else "")
    )
    typer.echo(str(report.html))
