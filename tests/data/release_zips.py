"""Zips in the MovieLens release layout and catalogue entries pinning them (download, archive tests)."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

from movielens_lessons.data.releases import FORMAT_CSV, Release

NAME = "ml-test"
MEMBERS = {
    "ratings.csv": b"userId,movieId,rating,timestamp\n1,10,4.0,100\n"
    + os.urandom(40_000).hex().encode(),
    "movies.csv": b"movieId,title,genres\n10,Heat (1995),Action\n",
    "README.txt": b"usage terms\n",
}

HEX = "0123456789abcdef0123456789abcdef"


def make_zip(
    members: dict[str, bytes] = MEMBERS,
    *,
    folder: str = NAME,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A zip in the release layout (``folder/member``), stored uncompressed so sizes are predictable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{folder}/", b"")
        for member, data in members.items():
            archive.writestr(f"{folder}/{member}", data)
        for path, data in (extra or {}).items():
            archive.writestr(path, data)
    return buffer.getvalue()


def release_for(data: bytes | None, name: str = NAME, **overrides: object) -> Release:
    """A catalogue entry pinning ``data``'s sha256 and size (``data=None``: nothing pinned)."""
    pins: dict[str, object] = {}
    if data is not None:
        pins = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    fields = {
        "name": name,
        "folder": name,
        "format": FORMAT_CSV,
        "required": ("ratings.csv", "movies.csv"),
        "optional": ("README.txt", "checksums.txt"),
        **pins,
        **overrides,
    }
    return Release(**fields)  # type: ignore[arg-type]


def listing(path: Path) -> list[str]:
    return sorted(os.listdir(path))


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()
