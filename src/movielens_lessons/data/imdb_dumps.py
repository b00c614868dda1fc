"""The IMDb dumps on disk: where they live, what they must look like, and downloading them.

The dumps (https://datasets.imdbws.com/) are ``title.basics.tsv.gz`` and ``title.ratings.tsv.gz``: gzip,
TAB-separated, with a header line. :func:`check_dump` holds a file to its header and to the id pattern of
its first rows; :mod:`movielens_lessons.data.imdb` reads and joins them.

No checksums are published for the dumps. :func:`download_imdb` therefore checks what it can — the header
line and the id pattern of the first rows — and records SHA-256, size, URL and UTC date of each file in
``manifest.json`` next to them, so that an analysis can say which snapshot it used.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import shutil
import tempfile
import time
import zlib
from collections.abc import Iterable
from pathlib import Path

import pooch
import requests

from movielens_lessons import columns as C
from movielens_lessons.data.download import http_downloader, network_reason, quiet_pooch
from movielens_lessons.data.locate import resolve_data_dir
from movielens_lessons.data.release_archive import data_root
from movielens_lessons.errors import DataNotFoundError, DataValidationError, DownloadError

PathLike = str | os.PathLike[str]

IMDB_BASE_URL = "https://datasets.imdbws.com/"
BASICS_FILE = "title.basics.tsv.gz"
RATINGS_FILE = "title.ratings.tsv.gz"
MANIFEST_FILE = "manifest.json"

#: Header of each dump, in file order; the reader and the download check both hold files to it.
DUMP_COLUMNS: dict[str, tuple[str, ...]] = {
    BASICS_FILE: (
        C.IMDB_TCONST,
        C.IMDB_TITLE_TYPE,
        C.IMDB_PRIMARY_TITLE,
        "originalTitle",
        C.IMDB_IS_ADULT,
        C.IMDB_START_YEAR,
        "endYear",
        C.IMDB_RUNTIME,
        "genres",
    ),
    RATINGS_FILE: (C.IMDB_TCONST, C.IMDB_RATING, C.IMDB_VOTES),
}
TCONST_PATTERN = re.compile(r"^tt\d{7,}$")


def resolve_imdb_dir(imdb_dir: PathLike | None = None, data_dir: PathLike | None = None) -> Path:
    """The folder holding the dumps: ``imdb_dir`` if given, else ``<data dir>/imdb``."""
    if imdb_dir is not None:
        return Path(imdb_dir).expanduser()
    return resolve_data_dir(data_dir) / "imdb"


def _urls(base_url: str = IMDB_BASE_URL) -> list[str]:
    return [base_url.rstrip("/") + "/" + name for name in DUMP_COLUMNS]


def _how_to_get(folder: Path, base_url: str = IMDB_BASE_URL) -> str:
    return f"get {' and '.join(_urls(base_url))} by hand and put them in {folder}/"


# --- checking a dump -------------------------------------------------------------------------------


def check_dump(
    path: PathLike, name: str | None = None, *, source: str | None = None, rows: int = 5
) -> None:
    """Check that ``path`` is gzip with the header of dump ``name`` and ``rows`` ids like ``tt0114709``.

    ``name`` defaults to the file name (``title.basics.tsv.gz``); ``source`` names the file in messages
    (e.g. the URL it came from). Raises :class:`DataValidationError` naming the line and value at fault.
    """
    path = Path(path)
    name = name or path.name
    source = source or str(path)
    expected = DUMP_COLUMNS[name]
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="\n") as fh:
            header = fh.readline().rstrip("\r\n").split("\t")
            data = [fh.readline() for _ in range(rows)]
    except (gzip.BadGzipFile, EOFError, zlib.error, UnicodeDecodeError) as exc:
        with open(path, "rb") as raw:
            head = raw.read(16)
        raise DataValidationError(
            f"not a readable gzip file ({exc}; it starts with {head!r}); expected IMDb's {name}",
            path=source,
        ) from None
    if tuple(header) != expected:
        raise DataValidationError(
            f"header is {_tabbed(header)!r}, expected {_tabbed(expected)!r} ({name})",
            path=source,
            line=1,
            value=header,
        )
    for offset, line in enumerate(data, start=2):
        if not line:
            break  # a short file: fewer rows than asked for
        tconst = line.split("\t", 1)[0]
        if not TCONST_PATTERN.match(tconst):
            raise DataValidationError(
                f"id {tconst!r} does not look like an IMDb title id (expected 'tt' and 7+ digits)",
                path=source,
                line=offset,
                column=C.IMDB_TCONST,
                value=tconst,
            )


def _tabbed(fields: Iterable[str]) -> str:
    return "\t".join(fields)


def dump_paths(imdb_dir: PathLike) -> dict[str, Path]:
    """``{file name: path}`` of both dumps in ``imdb_dir``; :class:`DataNotFoundError` if one is missing."""
    folder = Path(imdb_dir)
    paths = {name: folder / name for name in DUMP_COLUMNS}
    missing = [name for name, p in paths.items() if not p.is_file()]
    if missing:
        raise DataNotFoundError(
            f"IMDb dumps not in {folder}/ (missing {', '.join(missing)}): run "
            f"`movielens-lessons data imdb --download ...`, or {_how_to_get(folder)}"
        )
    return paths


# --- downloading -----------------------------------------------------------------------------------


def read_manifest(imdb_dir: PathLike) -> dict[str, dict[str, object]]:
    """``{file name: entry}`` from ``manifest.json`` (empty if there is none); entries as written below."""
    path = Path(imdb_dir) / MANIFEST_FILE
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text("utf-8"))["files"]
        return {str(e["file"]): dict(e) for e in entries}
    except (ValueError, KeyError, TypeError) as exc:
        raise DataValidationError(
            f"not a manifest written by download_imdb ({exc})", path=path
        ) from None


def _write_manifest(folder: Path, entries: dict[str, dict[str, object]]) -> Path:
    path = folder / MANIFEST_FILE
    text = json.dumps({"files": [entries[k] for k in sorted(entries)]}, indent=2) + "\n"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{MANIFEST_FILE}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def _fetch(
    url: str, dest: Path, folder: Path, *, progress: bool, timeout: float, retries: int
) -> Path:
    """Download ``url`` with pooch (no known hash) to ``dest``; retries network errors ``retries`` times.

    ``folder`` is where the dumps belong, named in the message that says how to get them by hand.
    """
    for attempt in range(retries + 1):
        try:
            with quiet_pooch():
                return Path(
                    pooch.retrieve(
                        url,
                        known_hash=None,
                        fname=dest.name,
                        path=dest.parent,
                        downloader=http_downloader(progress, timeout),
                    )
                )
        except requests.RequestException as exc:
            if attempt == retries:
                raise DownloadError(
                    f"cannot download {url} ({network_reason(exc, timeout)}): "
                    f"{_how_to_get(folder, url.rsplit('/', 1)[0])}"
                ) from None
            time.sleep(1)
    raise AssertionError("unreachable")


def download_imdb(
    imdb_dir: PathLike,
    *,
    progress: bool = True,
    force: bool = False,
    base_url: str = IMDB_BASE_URL,
    timeout: float = 60.0,
    retries: int = 2,
) -> Path:
    """Download both dumps into ``imdb_dir``, check them and record them in ``manifest.json``.

    Each file goes to a temporary folder inside ``imdb_dir``, is checked (:func:`check_dump`), hashed
    (SHA-256) and only then renamed into place; nothing partial is left behind on any failure. A dump that
    is already there and passes the check is kept unless ``force``. Returns ``imdb_dir``.
    """
    with data_root(imdb_dir) as folder:
        entries = read_manifest(folder)
        for name in DUMP_COLUMNS:
            target = folder / name
            url = base_url.rstrip("/") + "/" + name
            if target.is_file() and not force:
                check_dump(target, name)
                if name not in entries:  # present but not downloaded by us: record what it is
                    entries[name] = _entry(target, url, downloaded_at=None)
                continue
            tmp = Path(tempfile.mkdtemp(dir=folder, prefix=".tmp-"))
            try:
                got = _fetch(
                    url, tmp / name, folder, progress=progress, timeout=timeout, retries=retries
                )
                check_dump(got, name, source=url)
                entry = _entry(got, url, downloaded_at=dt.datetime.now(dt.timezone.utc))
                os.replace(got, target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            entries[name] = entry
            _write_manifest(folder, entries)  # after each file, so a later failure keeps the record
        _write_manifest(folder, entries)
        return folder


def _entry(path: Path, url: str, *, downloaded_at: dt.datetime | None) -> dict[str, object]:
    return {
        "file": path.name,
        "url": url,
        "sha256": pooch.file_hash(str(path), alg="sha256"),
        "size": path.stat().st_size,
        "downloaded_at": None
        if downloaded_at is None
        else downloaded_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


__all__ = [
    "BASICS_FILE",
    "DUMP_COLUMNS",
    "IMDB_BASE_URL",
    "MANIFEST_FILE",
    "RATINGS_FILE",
    "check_dump",
    "download_imdb",
    "dump_paths",
    "read_manifest",
    "resolve_imdb_dir",
]
