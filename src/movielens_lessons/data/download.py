"""Verified MovieLens downloads: nothing unverified or half-extracted is ever left behind.

How a release gets onto disk (``download_release``):

1. pooch streams ``release.url`` into a temporary file *next to* ``<data_dir>/<name>.zip`` (pooch's
   ``temporary_file``, removed in a ``finally``, so also on Ctrl-C), our downloader wrapper rejects an HTML
   page or a wrong size, pooch checks the pinned hash and only then moves the file into place. Pooch retries
   network errors and hash mismatches ``retries`` times. ``ml-latest`` has no pinned hash: its ``.md5``
   sidecar is fetched first and the zip is verified against that.
2. The zip is installed by :mod:`movielens_lessons.data.release_archive`: only the release's members are
   extracted into a temporary folder in ``data_dir``, checked, and renamed into place in one ``os.replace``.

A zip that verified against its pinned hash is kept as a cache (``keep_zip``): a later install reuses it
without the network. A zip that fails any check is deleted. Zips fetched by hand are installed by
:func:`movielens_lessons.data.release_archive.import_zip`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pooch
import requests

from movielens_lessons.data.checksums import parse_md5_sidecar
from movielens_lessons.data.locate import resolve_data_dir
from movielens_lessons.data.release_archive import check_zip_bytes, data_root, install_zip
from movielens_lessons.data.releases import Release, get_release
from movielens_lessons.errors import (
    ArchiveError,
    ChecksumError,
    DataNotFoundError,
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


def network_reason(exc: requests.RequestException, timeout: float) -> str:
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
def quiet_pooch() -> Iterator[None]:
    """Silence pooch's INFO lines ("Downloading file ..."); the CLI says what it is doing itself."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def http_downloader(progress: bool, timeout: float) -> pooch.HTTPDownloader:
    """pooch's HTTP downloader with ``timeout`` seconds per request and a tqdm bar if ``progress``."""
    # pooch draws its bar with tqdm, which it does not depend on; without tqdm, download without a bar.
    bar = progress and importlib.util.find_spec("tqdm") is not None
    return pooch.HTTPDownloader(progressbar=bar, timeout=timeout)


def _close_response(exc: requests.RequestException) -> None:
    """Close the streamed response an error carries (an HTTP 404, say): pooch raises without closing
    it, which leaves its socket open until garbage collection (a ResourceWarning)."""
    if exc.response is not None:
        exc.response.close()


class _CheckingDownloader:
    """pooch downloader: fetch with :class:`pooch.HTTPDownloader`, then reject HTML or a wrong size.

    Our errors are not ``ValueError``, so pooch neither retries them nor keeps the file: its temporary file
    is removed by pooch's ``finally`` as the error passes through.
    """

    def __init__(self, http: Callable[..., object], rel: Release) -> None:
        self.http = http
        self.rel = rel

    def __call__(self, url: str, output_file: str, pup: object) -> None:
        try:
            self.http(url, output_file, pup)
        except requests.RequestException as exc:
            _close_response(exc)
            raise
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
            _close_response(exc)
            if attempt == retries:
                reason = network_reason(exc, timeout)
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
    downloader = _CheckingDownloader(http_downloader(progress, timeout), rel)
    try:
        with quiet_pooch():
            path = Path(pup.fetch(fname, downloader=downloader))
    except requests.RequestException as exc:
        reason = network_reason(exc, timeout)
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
    with data_root(data_dir) as root:
        known = rel.known_hash
        if known is None:
            known = "md5:" + _sidecar_md5(rel, root, timeout=timeout, retries=retries)
        zip_path = _fetch_zip(rel, root, known, progress=progress, timeout=timeout, retries=retries)
        try:
            folder = install_zip(zip_path, rel, root, source=rel.url)
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
