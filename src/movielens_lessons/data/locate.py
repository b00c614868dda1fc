"""Where MovieLens data lives on this machine.

Resolution order: an explicit ``data_dir`` (``--data-dir``) > ``$MOVIELENS_DATA_DIR`` > ``./data/`` when it
exists (the layout the seed README uses) > a per-user cache folder from platformdirs.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from movielens_lessons.data.releases import Release, get_release

ENV_VAR = "MOVIELENS_DATA_DIR"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder that holds (or will hold) release folders such as ``ml-latest-small/``."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    local = Path.cwd() / "data"
    if local.is_dir():
        return local
    return Path(platformdirs.user_cache_dir("movielens-lessons"))


def release_dir(release: Release | str, data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder a release is (or would be) extracted to."""
    rel = get_release(release) if isinstance(release, str) else release
    return resolve_data_dir(data_dir) / rel.folder


def is_present(release: Release | str, data_dir: str | os.PathLike[str] | None = None) -> bool:
    """Whether every file the release's reader needs is already on disk."""
    rel = get_release(release) if isinstance(release, str) else release
    folder = release_dir(rel, data_dir)
    return all((folder / member).is_file() for member in rel.required)
