"""The IMDb dumps on disk: checking a dump (header, id pattern, not gzip) and downloading them."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from movielens_lessons.data.imdb_dumps import (
    BASICS_FILE,
    MANIFEST_FILE,
    RATINGS_FILE,
    check_dump,
    download_imdb,
    read_manifest,
)
from movielens_lessons.data.imdb_titles import read_linked_titles
from movielens_lessons.errors import DataValidationError, DownloadError

FIXTURES = Path(__file__).parent / "fixtures" / "imdb"
GzipDumps = Callable[..., Path]


# --- checking a dump ----------------------------------------------------------------------------


def test_fixture_dumps_pass_the_check(imdb_dir: Path) -> None:
    check_dump(imdb_dir / BASICS_FILE)
    check_dump(imdb_dir / RATINGS_FILE)


def test_wrong_header_names_file_line_and_expected(tmp_path: Path, gzip_dumps: GzipDumps) -> None:
    header = (FIXTURES / "title.basics.tsv").read_text("utf-8").splitlines()[0].split("\t")
    bad = "\t".join(["tconst", "kind", *header[2:]]) + "\ntt0114709\tmovie\n"
    folder = gzip_dumps(tmp_path / "imdb", {BASICS_FILE: bad})
    with pytest.raises(DataValidationError) as err:
        check_dump(folder / BASICS_FILE)
    message = str(err.value)
    assert "\n" not in message
    assert BASICS_FILE in message and "line 1" in message and "titleType" in message
    with pytest.raises(DataValidationError, match="line 1"):
        read_linked_titles(folder, ["tt0114709"])


def test_bad_id_pattern_names_line_and_value(tmp_path: Path, gzip_dumps: GzipDumps) -> None:
    text = "tconst\taverageRating\tnumVotes\ntt0114709\t8.3\t10\nnm0000001\t5.0\t3\n"
    folder = gzip_dumps(tmp_path / "imdb", {RATINGS_FILE: text})
    with pytest.raises(DataValidationError, match=r"line 3.*'nm0000001'"):
        check_dump(folder / RATINGS_FILE)


def test_html_page_is_not_taken_for_a_dump(tmp_path: Path) -> None:
    page = tmp_path / BASICS_FILE
    page.write_bytes(b"<!DOCTYPE html><html><body>Access denied</body></html>")
    with pytest.raises(DataValidationError, match="not a readable gzip"):
        check_dump(page)


# --- downloading --------------------------------------------------------------------------------


class _Server:
    """A local HTTP server for a folder, counting the requests it answers."""

    def __init__(self, folder: Path) -> None:
        self.requests: list[str] = []
        log = self.requests

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                log.append(self.path)

        handler = functools.partial(Handler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path: Path, gzip_dumps: GzipDumps) -> Iterator[_Server]:
    srv = _Server(gzip_dumps(tmp_path / "served"))
    yield srv
    srv.close()


def test_download_writes_files_and_manifest(tmp_path: Path, server: _Server) -> None:
    dest = tmp_path / "data" / "imdb"
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert download_imdb(dest, progress=False, base_url=server.url, retries=0) == dest
    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [BASICS_FILE, RATINGS_FILE, MANIFEST_FILE]
    )
    manifest = json.loads((dest / MANIFEST_FILE).read_text("utf-8"))
    entries = {e["file"]: e for e in manifest["files"]}
    assert set(entries) == {BASICS_FILE, RATINGS_FILE}
    for name, entry in entries.items():
        served = tmp_path / "served" / name
        assert entry["sha256"] == hashlib.sha256(served.read_bytes()).hexdigest()
        assert entry["size"] == served.stat().st_size
        assert entry["url"] == server.url + name
        when = dt.datetime.fromisoformat(entry["downloaded_at"].replace("Z", "+00:00"))
        assert when.utcoffset() == dt.timedelta(0) and when >= before
    assert read_manifest(dest) == entries
    # Present, valid dumps are not fetched again.
    n = len(server.requests)
    download_imdb(dest, progress=False, base_url=server.url, retries=0)
    assert len(server.requests) == n


def test_download_rejects_a_bad_header_and_keeps_nothing(
    tmp_path: Path, gzip_dumps: GzipDumps
) -> None:
    served = gzip_dumps(tmp_path / "served", {RATINGS_FILE: "id\trating\tvotes\ntt0114709\t8\t9\n"})
    srv = _Server(served)
    dest = tmp_path / "imdb"
    try:
        with pytest.raises(DataValidationError, match=r"title.ratings.tsv.gz, line 1"):
            download_imdb(dest, progress=False, base_url=srv.url, retries=0)
    finally:
        srv.close()
    assert not (dest / RATINGS_FILE).exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    assert set(read_manifest(dest)) == {BASICS_FILE}  # the good file is recorded


def test_download_without_network_names_urls_and_folder(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dest = tmp_path / "imdb"
    with pytest.raises(DownloadError) as err:
        download_imdb(dest, progress=False, base_url=f"http://127.0.0.1:{port}", retries=0)
    message = str(err.value)
    assert f"http://127.0.0.1:{port}/{BASICS_FILE}" in message
    assert f"http://127.0.0.1:{port}/{RATINGS_FILE}" in message
    assert str(dest) in message and "\n" not in message
    assert not dest.exists()  # created for the download, removed again when it failed empty
