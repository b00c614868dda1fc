"""``movielens-lessons data list | download | import``: the catalogue, verified downloads, hand-fetched zips."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from movielens_lessons.cli.app import data_app, err_console
from movielens_lessons.data.download import download_release
from movielens_lessons.data.locate import is_present, release_dir, resolve_data_dir
from movielens_lessons.data.release_archive import import_zip
from movielens_lessons.data.releases import RELEASES, Release, get_release
from movielens_lessons.errors import DownloadError

_DATA_DIR = typer.Option(
    None,
    "--data-dir",
    help="Folder holding release folders (default: $MOVIELENS_DATA_DIR, ./data, cache).",
)


def _hash_kind(rel: Release) -> str:
    if rel.sha256:
        return "sha256"
    if rel.md5:
        return "md5"
    return "md5 (sidecar)"


def release_rows(data_dir: Path | None = None) -> list[dict[str, object]]:
    """One dict per catalogued release: name, size, hash kind, format, whether and where it is present."""
    rows: list[dict[str, object]] = []
    for rel in RELEASES.values():
        present = is_present(rel, data_dir)
        rows.append(
            {
                "name": rel.name,
                "size_bytes": rel.size,
                "size_mb": None if rel.size is None else round(rel.size / 1e6, 1),
                "hash": _hash_kind(rel),
                "format": rel.format,
                "present": present,
                "path": str(release_dir(rel, data_dir)) if present else None,
                "url": rel.url,
                "description": rel.description,
            }
        )
    return rows


@data_app.command("list")
def list_releases(
    data_dir: Path | None = _DATA_DIR,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list for machines."),
) -> None:
    """List every MovieLens release: size, hash, format and whether it is on this machine."""
    rows = release_rows(data_dir)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"MovieLens releases (data folder: {resolve_data_dir(data_dir)})")
    for column in ("name", "size", "hash", "format", "present"):
        table.add_column(column, justify="right" if column == "size" else "left", no_wrap=True)
    table.add_column("where", overflow="fold")
    for row in rows:
        size = "unknown" if row["size_mb"] is None else f"{row['size_mb']:.1f} MB"
        present = "yes" if row["present"] else "no"
        cells = (row["name"], size, row["hash"], row["format"], present, row["path"] or "")
        table.add_row(*map(str, cells))
    Console(highlight=False).print(table)


@data_app.command("download")
def download(
    name: str = typer.Argument(
        ..., help="Release name, e.g. ml-latest-small, ml-1m (see `data list`)."
    ),
    data_dir: Path | None = _DATA_DIR,
    force: bool = typer.Option(False, "--force", help="Reinstall even if the release is present."),
    no_progress: bool = typer.Option(False, "--no-progress", help="Do not draw a progress bar."),
) -> None:
    """Download a release, verify its hash and size, extract it; prints the release folder."""
    rel = get_release(name)
    folder = release_dir(rel, data_dir)
    if not force and is_present(rel, data_dir):
        err_console.print(
            f"{rel.name} is already in {folder} (use --force to reinstall)", markup=False
        )
        typer.echo(str(folder))
        return
    try:
        folder = download_release(rel, data_dir, progress=not no_progress)
    except KeyboardInterrupt:
        # The library lets Ctrl-C through after cleaning up; tell the user that nothing was kept.
        raise DownloadError(
            f"download of {rel.url} interrupted; nothing partial was kept in {folder.parent}"
        ) from None
    typer.echo(str(folder))


@data_app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="A MovieLens zip downloaded by hand, e.g. ml-1m.zip."),
    name: str | None = typer.Option(
        None, "--name", help="Release name if the file name does not say."
    ),
    data_dir: Path | None = _DATA_DIR,
) -> None:
    """Verify a hand-downloaded zip against the pinned hash and install it; prints the folder."""
    typer.echo(str(import_zip(path, data_dir, name=name)))
