"""One reader per MovieLens release format, plus bring-your-own interaction files.

``read_release("ml-latest-small")`` finds a release on disk (see :mod:`movielens_lessons.data.locate`),
reads every file its format has, and returns a :class:`MovieLensData` of frames in the canonical schema.
"""

from __future__ import annotations

import os
from pathlib import Path

from movielens_lessons.data.locate import release_dir
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers.csv_release import (
    read_csv_release,
    read_links_csv,
    read_movies_csv,
    read_ratings_csv,
    read_tags_csv,
)
from movielens_lessons.data.readers.dat_release import (
    read_dat_release,
    read_movies_dat,
    read_ratings_dat,
    read_tags_dat,
    read_users_dat,
)
from movielens_lessons.data.readers.interactions import read_interactions
from movielens_lessons.data.readers.ml100k import read_ml100k, read_u_data, read_u_item, read_u_user
from movielens_lessons.data.readers.titles import parse_year, parse_years, split_genres
from movielens_lessons.data.readers.validate import validate_ratings
from movielens_lessons.data.releases import (
    FORMAT_100K,
    FORMAT_CSV,
    FORMAT_DAT,
    Release,
    get_release,
)
from movielens_lessons.errors import DataNotFoundError

_READERS = {FORMAT_CSV: read_csv_release, FORMAT_DAT: read_dat_release, FORMAT_100K: read_ml100k}


def read_release_folder(folder: str | Path, release: Release | str) -> MovieLensData:
    """Read the extracted ``release`` in ``folder`` (which holds e.g. ``ratings.csv``)."""
    rel = get_release(release) if isinstance(release, str) else release
    folder = Path(folder)
    missing = [m for m in rel.required if not (folder / m).is_file()]
    if missing:
        raise DataNotFoundError(
            f"{folder}: not a complete {rel.name} folder; missing {', '.join(missing)}"
        )
    return _READERS[rel.format](folder, rel)


def read_release(
    release: str | Release,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
) -> MovieLensData:
    """Read a release by name from the data folder (``--data-dir`` > ``$MOVIELENS_DATA_DIR`` > ...).

    When files are missing, :func:`movielens_lessons.data.download.ensure_release` is asked to provide
    them (downloading only when ``download`` is true); without it, the error says how to fetch them.
    """
    rel = get_release(release) if isinstance(release, str) else release
    folder = release_dir(rel, data_dir)
    missing = [m for m in rel.required if not (folder / m).is_file()]
    if missing:
        try:  # written by another module; imported lazily so reading never needs the network stack
            from movielens_lessons.data.download import ensure_release
        except ImportError:
            raise DataNotFoundError(
                f"{folder}: {rel.name} is not there (missing {', '.join(missing)}); "
                f"run: movielens-lessons data download {rel.name}"
            ) from None
        folder = Path(ensure_release(rel.name, data_dir, download=download))
    return read_release_folder(folder, rel)


__all__ = [
    "MovieLensData",
    "parse_year",
    "parse_years",
    "read_interactions",
    "read_links_csv",
    "read_movies_csv",
    "read_movies_dat",
    "read_ratings_csv",
    "read_ratings_dat",
    "read_release",
    "read_release_folder",
    "read_tags_csv",
    "read_tags_dat",
    "read_u_data",
    "read_u_item",
    "read_u_user",
    "read_users_dat",
    "split_genres",
    "validate_ratings",
]
