"""From a release name or a file path to an immutable :class:`Dataset` (the one way in to data)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.data.readers import read_interactions, read_release, read_release_folder
from movielens_lessons.data.releases import RELEASES, get_release
from movielens_lessons.errors import ConfigError

#: Convenience alias: the raw frames of a release, before id mapping.
load_release = read_release


def _release_of_folder(path: Path) -> str | None:
    """The release whose folder name ``path`` has (``.../ml-10M100K`` → ``ml-10m``), if any."""
    for rel in RELEASES.values():
        if path.name == rel.folder:
            return rel.name
    return None


def read_source(
    source: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    **interaction_options: Any,
) -> MovieLensData:
    """The raw data of ``source``: a release name (``"ml-1m"``), an extracted release folder, or a
    ratings file in CSV/Parquet (read with :func:`read_interactions` and ``interaction_options``).
    """
    if isinstance(source, str) and source in RELEASES:
        if interaction_options:
            raise ConfigError(
                f"options {sorted(interaction_options)} apply to your own files, not to the "
                f"release {source!r}"
            )
        return read_release(source, data_dir, download=download)
    path = Path(source).expanduser()
    if path.is_dir() and interaction_options:
        raise ConfigError(
            f"options {sorted(interaction_options)} apply to ratings files, not to a release folder"
        )
    if path.is_dir():
        name = _release_of_folder(path)
        if name is None:
            raise ConfigError(
                f"{path} is a folder but not a MovieLens release folder "
                f"({', '.join(r.folder for r in RELEASES.values())}); give a ratings file instead"
            )
        return read_release_folder(path, name)
    looks_like_path = path.suffix != "" or os.sep in str(source) or "/" in str(source)
    if not path.exists() and not looks_like_path:
        get_release(str(source))  # raises UnknownReleaseError listing the known names
    ratings = read_interactions(path, **interaction_options)
    return MovieLensData(
        name=path.stem,
        path=path,
        ratings=ratings,
        rating_scale=interaction_options.get("scale"),
    )


def load_dataset(
    source: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = False,
    positive_threshold: float | None = None,
    **interaction_options: Any,
) -> Dataset:
    """A :class:`Dataset` of a release (by name, with movies/tags/links/users attached) or of a file.

    Duplicate (user, movie) pairs keep the latest interaction; their count is in
    ``dataset.n_duplicates_dropped`` and in a :class:`DataQualityWarning`.
    ``positive_threshold`` (e.g. 4.0) sets which ratings count as positive in the implicit view.
    """
    raw = read_source(source, data_dir=data_dir, download=download, **interaction_options)
    return Dataset.from_frame(
        raw.ratings,
        movies=raw.movies,
        tags=raw.tags,
        links=raw.links,
        users_meta=raw.users,
        positive_threshold=positive_threshold,
        name=raw.name,
        source=str(raw.path) if raw.path is not None else raw.name,
    )


__all__ = ["load_dataset", "load_release", "read_source"]
