"""Release zips on disk: check, extract, verify and install them, leaving nothing half-extracted behind.

How a zip becomes ``<data_dir>/<Release.folder>/`` (``install_zip``, shared by downloads and ``import_zip``):

1. Only the release's members (``Release.members``, under ``Release.folder/`` in the zip) are extracted, into
   ``tempfile.mkdtemp(dir=data_dir, prefix=".tmp-")``; a ``checksums.txt`` among them (ml-32m) is checked.
2. The temporary folder is renamed to ``<data_dir>/<Release.folder>/`` in one ``os.replace``.

``import_zip`` installs a zip fetched by hand the same way, after checking it against the pinned size and
hash (or a ``.md5`` sidecar next to it); the zip itself is left where it is.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pooch

from movielens_lessons.data.checksums import algorithm_for, parse_checksums, parse_md5_sidecar
from movielens_lessons.data.locate import resolve_data_dir
from movielens_lessons.data.releases import RELEASES, Release, get_release
from movielens_lessons.errors import (
    ArchiveError,
    ChecksumError,
    DataNotFoundError,
    DataQualityWarning,
)

PathLike = str | os.PathLike[str]


# --- checking ----------------------------------------------------------------------------------


def check_zip_bytes(path: PathLike, rel: Release | None, *, source: str) -> None:
    """Reject a file that is an HTML page, not a zip at all, or not ``rel``'s pinned size (if given).

    Cheap checks run before hashing, so that the message says what is wrong rather than "hash differs".
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(512)
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        shown = head.lstrip()[:40].decode("utf-8", "replace")
        raise ArchiveError(
            f"{source} is an HTML page, not a zip (got {shown!r} ...); the server sent an error or "
            "login page instead of the file"
        )
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise ArchiveError(
            f"{source} is not a zip file (it starts with {head[:16]!r}); expected 'PK'"
        )
    size = path.stat().st_size
    if rel is not None and rel.size is not None and size != rel.size:
        raise ChecksumError(
            f"{source}: size {size:,} bytes, expected {rel.size:,} bytes for {rel.name}; "
            "the file is incomplete or not the published one"
        )


# --- installing --------------------------------------------------------------------------------


def _extract_members(zip_path: Path, rel: Release, dest: Path, *, source: str) -> None:
    """Copy the release's members (and nothing else) from ``zip_path`` into ``dest``."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        size = zip_path.stat().st_size
        raise ArchiveError(
            f"{source} is not a readable zip ({exc}; {size:,} bytes): it is probably truncated"
        ) from None
    with archive:
        names = set(archive.namelist())
        prefix = f"{rel.folder}/"
        missing = [prefix + m for m in rel.required if prefix + m not in names]
        if missing:
            tops = sorted({n.split("/", 1)[0] for n in names})[:5]
            raise ArchiveError(
                f"{source} lacks {', '.join(missing)}, required by {rel.name} "
                f"(top-level entries: {', '.join(tops) or 'none'})"
            )
        for member in rel.members:
            if prefix + member not in names:
                continue  # optional members may be absent
            try:
                with archive.open(prefix + member) as src, open(dest / member, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise ArchiveError(
                    f"{source}: member {prefix}{member} is corrupt ({exc})"
                ) from None


def _verify_checksums_file(dest: Path, rel: Release, *, source: str) -> None:
    """Check extracted members against a ``checksums.txt`` shipped in the zip (ml-32m), if any."""
    listing = dest / "checksums.txt"
    if not listing.is_file():
        return
    expected = parse_checksums(listing.read_text("utf-8", "replace"), rel.folder)
    for member, hexd in expected.items():
        path = dest / member
        alg = algorithm_for(hexd)
        if member not in rel.members or not path.is_file() or alg is None:
            continue
        got = pooch.file_hash(str(path), alg=alg)
        if got != hexd:
            raise ChecksumError(
                f"{source}: {alg} of {rel.folder}/{member} is {got}, expected {hexd} "
                "(from the zip's checksums.txt)"
            )


def _move_into_place(tmp: Path, target: Path) -> Path:
    """Rename ``tmp`` to ``target``; an existing ``target`` is swapped out, then removed."""
    if not target.exists():
        os.replace(tmp, target)
        return target
    old = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    os.replace(target, old)  # POSIX rename onto an empty folder replaces it
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target


def install_zip(zip_path: Path, rel: Release, root: Path, *, source: str) -> Path:
    """Extract the members into a temporary folder in ``root``, verify, rename to ``root/folder``."""
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        _extract_members(zip_path, rel, tmp, source=source)
        _verify_checksums_file(tmp, rel, source=source)
        return _move_into_place(tmp, root / rel.folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def data_root(data_dir: PathLike | None) -> Iterator[Path]:
    """The resolved data folder, created if needed and removed again if a failure leaves it empty."""
    root = resolve_data_dir(data_dir)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    try:
        yield root
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                root.rmdir()  # only succeeds when empty
        raise


# --- public API --------------------------------------------------------------------------------


def infer_release(path: PathLike) -> Release:
    """The release a hand-downloaded zip holds: from its file name (``ml-1m.zip``) or its top folder."""
    path = Path(path)
    # Browsers save a second copy as "ml-1m (1).zip".
    stem = re.sub(r"\s*\(\d+\)$", "", path.name.removesuffix(".zip"))
    if stem in RELEASES:
        return RELEASES[stem]
    try:
        with zipfile.ZipFile(path) as archive:
            tops = {n.split("/", 1)[0] for n in archive.namelist()}
    except zipfile.BadZipFile as exc:
        raise ArchiveError(f"{path} is not a readable zip ({exc})") from None
    found = [rel for rel in RELEASES.values() if rel.folder in tops]
    if len(found) == 1:
        return found[0]
    raise ArchiveError(
        f"cannot tell which release {path} holds (top-level entries: {', '.join(sorted(tops)[:5])}); "
        f"give its name (--name), one of: {', '.join(RELEASES)}"
    )


def import_zip(
    path: PathLike, data_dir: PathLike | None = None, *, name: str | None = None
) -> Path:
    """Verify a zip fetched by hand and install it like a download; returns the release folder.

    The release is ``name`` or inferred (:func:`infer_release`). The zip is checked against the pinned
    size and hash; ``ml-latest`` (no pinned hash) is checked against a ``<zip>.md5`` sidecar next to it
    if there is one, else only for being a zip with the required members, with a
    :class:`DataQualityWarning` saying so. The zip itself is left where it is.
    """
    src = Path(path).expanduser()
    if not src.is_file():
        raise DataNotFoundError(f"{src}: no such file; expected a MovieLens zip such as ml-1m.zip")
    check_zip_bytes(src, None, source=str(src))  # an HTML page or not a zip: say so before anything
    rel = get_release(name) if name is not None else infer_release(src)
    check_zip_bytes(src, rel, source=str(src))  # now the pinned size too
    known = rel.known_hash
    sidecar = src.with_name(src.name + ".md5")
    if known is None and sidecar.is_file():
        text = sidecar.read_text("utf-8", "replace")
        known = "md5:" + parse_md5_sidecar(text, f"{rel.name}.zip", source=str(sidecar))
    if known is None:
        warnings.warn(
            f"{src}: {rel.name} has no pinned hash and no {sidecar.name} lies next to it; checked that it "
            "is a zip with the required members, but it was NOT verified against a hash",
            DataQualityWarning,
            stacklevel=2,
        )
    else:
        alg, _, expected = known.partition(":")
        got = pooch.file_hash(str(src), alg=alg)
        if got != expected.lower():
            raise ChecksumError(
                f"{src}: {alg} {got}, expected {expected} for {rel.name}; the file is corrupt, "
                "incomplete or not the published one"
            )
    with data_root(data_dir) as root:
        return install_zip(src, rel, root, source=str(src))
