"""Verified MovieLens downloads and imports: nothing unverified or half-extracted is ever left behind.

How a release gets onto disk (``download_release``):

1. pooch streams ``release.url`` into a temporary file *next to* ``<data_dir>/<name>.zip`` (pooch's
   ``temporary_file``, removed in a ``finally``, so also on Ctrl-C), our downloader wrapper rejects an HTML
   page or a wrong size, pooch checks the pinned hash and only then moves the file into place. Pooch retries
   network errors and hash mismatches ``retries`` times. ``ml-latest`` has no pinned hash: its ``.md5``
   sidecar is fetched first and the zip is verified against that.
2. Only the release's members (``Release.members``, under ``Release.folder/`` in the zip) are extracted, into
   ``tempfile.mkdtemp(dir=data_dir, prefix=".tmp-")``; a ``checksums.txt`` among them (ml-32m) is checked.
3. The temporary folder is renamed to ``<data_dir>/<Release.folder>/`` in one ``os.replace``.

A zip that verified against its pinned hash is kept as a cache (``keep_zip``): a later install reuses it
without the network. A zip that fails any check is deleted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import re
import shutil
import tempfile
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pooch
import requests

from movielens_lessons.data.checksums import algorithm_for, parse_checksums, parse_md5_sidecar
from movielens_lessons.data.locate import resolve_data_dir
from movielens_lessons.data.releases import RELEASES, Release, get_release
from movielens_lessons.errors import (
    ArchiveError,
    ChecksumError,
    DataNotFoundError,
    DataQualityWarning,
    DownloadError,
)

PathLike = str | os.PathLike[str]

_POOCH_MISMATCH = re.compile(r"expected (?P<expected>\S+) but got (?P<got>[0-9a-fA-F]+)")


# --- messages ----------------------------------------------------------------------------------


def _how_to_get(rel: Release, root: Path) -> str:
    return (
        f"download it by hand and run `movielens-lessons data import {rel.name}.zip`, "
        f"or extract it into {root / rel.folder}/"
    )


def _network_reason(exc: requests.RequestException, timeout: float) -> str:
    """A short reason for a failed request (requests' own messages run to several hundred characters)."""
    text = " ".join(str(exc).split())
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"HTTP {exc.response.status_code} {exc.response.reason}"
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError | requests.ConnectionError):
        if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
            return "no network: cannot resolve the host"
        if "Connection refused" in text:
            return "connection refused"
        incomplete = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected\)", text)
        if incomplete:
            got, more = int(incomplete.group(1)), int(incomplete.group(2))
            return f"connection closed mid-transfer after {got:,} of {got + more:,} bytes"
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return "connection closed mid-transfer"
    return text if len(text) <= 160 else text[:157] + "..."


# --- fetching ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_pooch() -> Iterator[None]:
    """Silence pooch's INFO lines ("Downloading file ..."); the CLI says what it is doing itself."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _http(progress: bool, timeout: float) -> pooch.HTTPDownloader:
    # pooch draws its bar with tqdm, which it does not depend on; without tqdm, download without a bar.
    bar = progress and importlib.util.find_spec("tqdm") is not None
    return pooch.HTTPDownloader(progressbar=bar, timeout=timeout)


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


class _CheckingDownloader:
    """pooch downloader: fetch with :class:`pooch.HTTPDownloader`, then reject HTML or a wrong size.

    Our errors are not ``ValueError``, so pooch neither retries them nor keeps the file: its temporary file
    is removed by pooch's ``finally`` as the error passes through.
    """

    def __init__(self, http: Callable[..., object], rel: Release) -> None:
        self.http = http
        self.rel = rel

    def __call__(self, url: str, output_file: str, pup: object) -> None:
        self.http(url, output_file, pup)
        check_zip_bytes(output_file, self.rel, source=url)


def _sidecar_md5(rel: Release, root: Path, *, timeout: float, retries: int) -> str:
    """Fetch ``release.md5_url`` and read the zip's MD5 from it (BSD or GNU format)."""
    http = pooch.HTTPDownloader(progressbar=False, timeout=timeout)
    for attempt in range(retries + 1):
        buffer = io.BytesIO()
        try:
            http(rel.md5_url, buffer, None)
            break
        except requests.RequestException as exc:
            if attempt == retries:
                reason = _network_reason(exc, timeout)
                raise DownloadError(
                    f"cannot download {rel.md5_url} ({reason}), the checksum of {rel.url}: "
                    + _how_to_get(rel, root)
                ) from None
            time.sleep(1)
    text = buffer.getvalue().decode("utf-8", "replace")
    return parse_md5_sidecar(text, f"{rel.name}.zip", source=rel.md5_url)


def _fetch_zip(
    rel: Release, root: Path, known_hash: str, *, progress: bool, timeout: float, retries: int
) -> Path:
    """Download (or reuse, if its hash matches) ``<root>/<name>.zip`` through a pooch registry."""
    fname = f"{rel.name}.zip"
    pup = pooch.create(
        path=root,
        base_url=rel.url.rsplit("/", 1)[0] + "/",
        registry={fname: known_hash},
        urls={fname: rel.url},
        retry_if_failed=retries,
    )
    downloader = _CheckingDownloader(_http(progress, timeout), rel)
    try:
        with _quiet_pooch():
            path = Path(pup.fetch(fname, downloader=downloader))
    except requests.RequestException as exc:
        reason = _network_reason(exc, timeout)
        raise DownloadError(
            f"cannot download {rel.url} ({reason}): {_how_to_get(rel, root)}"
        ) from None
    except ValueError as exc:  # pooch's hash mismatch, raised after it deleted the download
        match = _POOCH_MISMATCH.search(str(exc))
        alg, _, expected = known_hash.partition(":")
        got = match.group("got") if match else "a different value"
        origin = f" (from {rel.md5_url})" if rel.known_hash is None else ""
        raise ChecksumError(
            f"{rel.url}: {alg} {got}, expected {expected}{origin}; the download is corrupt or the "
            "pinned hash is out of date, nothing was kept"
        ) from None
    # A zip that was already cached skipped the downloader; its hash matched, check the size too.
    try:
        check_zip_bytes(path, rel, source=str(path))
    except (ArchiveError, ChecksumError):
        path.unlink(missing_ok=True)
        raise
    return path


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


def _install(zip_path: Path, rel: Release, root: Path, *, source: str) -> Path:
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
def _data_root(data_dir: PathLike | None) -> Iterator[Path]:
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


def _as_release(release: Release | str) -> Release:
    return release if isinstance(release, Release) else get_release(release)


# --- public API --------------------------------------------------------------------------------


def download_release(
    release: Release | str,
    data_dir: PathLike | None = None,
    *,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 2,
    keep_zip: bool = True,
) -> Path:
    """Download, verify and install a release; returns ``<data_dir>/<Release.folder>``.

    ``timeout`` is in seconds per network read; ``retries`` extra attempts follow a network error or a
    hash mismatch. An existing release folder is replaced (atomically) by the fresh one. Raises
    :class:`DownloadError` (network), :class:`ChecksumError` (hash/size) or :class:`ArchiveError` (not a
    zip, truncated, members missing); a ``KeyboardInterrupt`` propagates. In every case nothing partial
    is left in ``data_dir``.
    """
    rel = _as_release(release)
    with _data_root(data_dir) as root:
        known = rel.known_hash
        if known is None:
            known = "md5:" + _sidecar_md5(rel, root, timeout=timeout, retries=retries)
        zip_path = _fetch_zip(rel, root, known, progress=progress, timeout=timeout, retries=retries)
        try:
            folder = _install(zip_path, rel, root, source=rel.url)
        except (ArchiveError, ChecksumError):
            zip_path.unlink(missing_ok=True)  # it matched the hash but is unusable: do not cache it
            raise
        if not keep_zip:
            zip_path.unlink(missing_ok=True)
        return folder


def ensure_release(
    release: Release | str,
    data_dir: PathLike | None = None,
    *,
    download: bool = True,
    progress: bool = True,
) -> Path:
    """The release folder, as it is when every required member is there, else downloaded.

    An existing folder is never modified. With ``download=False`` a missing release raises
    :class:`DataNotFoundError` naming the URL and where to put the files.
    """
    rel = _as_release(release)
    root = resolve_data_dir(data_dir)
    folder = root / rel.folder
    missing = [m for m in rel.required if not (folder / m).is_file()]
    if not missing:
        return folder
    if not download:
        raise DataNotFoundError(
            f"{rel.name} is not in {folder}/ (missing {', '.join(missing)}): run "
            f"`movielens-lessons data download {rel.name}`, or get {rel.url} by hand and run "
            f"`movielens-lessons data import {rel.name}.zip`, or extract it into {folder}/"
        )
    return download_release(rel, data_dir, progress=progress)


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
    with _data_root(data_dir) as root:
        return _install(src, rel, root, source=str(src))
