"""``movielens-lessons data imdb``: join a release's movies to the IMDb dumps, write Parquet."""

from __future__ import annotations

from pathlib import Path

import typer

from movielens_lessons.cli.app import data_app, err_console
from movielens_lessons.data.imdb import enrich_release, imdb_join_report, write_enriched_items
from movielens_lessons.data.imdb_dumps import download_imdb, resolve_imdb_dir
from movielens_lessons.errors import DownloadError


@data_app.command("imdb")
def imdb(
    dataset: str = typer.Option(
        ..., "--dataset", help="A CSV release with links.csv, e.g. ml-latest-small."
    ),
    out: Path = typer.Option(..., "--out", help="Parquet file to write the enriched items to."),
    imdb_dir: Path | None = typer.Option(
        None, "--imdb-dir", help="Folder with the IMDb dumps (default: <data dir>/imdb)."
    ),
    download: bool = typer.Option(
        False, "--download", help="Download missing dumps from datasets.imdbws.com first."
    ),
    data_dir: Path | None = typer.Option(
        None,
        "--data-dir",
        help="Folder holding release folders (default: $MOVIELENS_DATA_DIR, ./data, cache).",
    ),
    no_progress: bool = typer.Option(False, "--no-progress", help="Do not draw a progress bar."),
) -> None:
    """Enrich a release's movies with IMDb runtime, genres, rating and votes; prints the file written."""
    folder = resolve_imdb_dir(imdb_dir, data_dir)
    if download:
        try:
            download_imdb(folder, progress=not no_progress)
        except KeyboardInterrupt:
            raise DownloadError(
                f"download of the IMDb dumps interrupted; nothing partial was kept in {folder}"
            ) from None
    enriched = enrich_release(dataset, data_dir=data_dir, imdb_dir=folder)
    path = write_enriched_items(enriched, out)
    report = imdb_join_report(enriched)
    err_console.print(
        f"{report['movies']:,} movies, {report['linked_movies']:,} linked; found "
        f"{report['joined_basics']:,} in title.basics ({report['basics_share']:.1%}) and "
        f"{report['joined_ratings']:,} in title.ratings ({report['ratings_share']:.1%})",
        markup=False,
    )
    typer.echo(str(path))
