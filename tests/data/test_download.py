"""Verified downloads against a real HTTP server on 127.0.0.1 serving zips built in the release layout.

Every failure test ends by listing ``data_dir``: nothing partial (temp file, half-extracted folder,
unverified zip) may be left behind.
"""

from __future__ import annotations

import hashlib
import http.server
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests

from movielens_lessons.data import releases
from movielens_lessons.data.download import download_release, ensure_release
from movielens_lessons.data.releases import Release
from movielens_lessons.errors import (
    ArchiveError,
    ChecksumError,
    DataNotFoundError,
    DownloadError,
)

from .release_zips import HEX, MEMBERS, NAME, listing, make_zip, md5_hex, release_for

# --- helpers: a local server --------------------------------------------------------------------


Route = bytes | Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass
class Server:
    base: str
    routes: dict[str, Route] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def serve(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return f"{self.base}{path}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        state: Server = self.server.state  # type: ignore[attr-defined]
        state.hits[self.path] = state.hits.get(self.path, 0) + 1
        route = state.routes.get(self.path)
        if route is None:
            self.send_error(404, "Not Found")
        elif isinstance(route, bytes):
            send_bytes(self, route)
        else:
            route(self)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


def send_bytes(
    handler: http.server.BaseHTTPRequestHandler,
    data: bytes,
    length: int | None = None,
    content_type: str = "application/zip",
) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data) if length is None else length))
    handler.end_headers()
    handler.wfile.write(data)


def cut_off(data: bytes) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """Promise all of ``data`` in Content-Length, send half, close the connection."""

    def route(handler: http.server.BaseHTTPRequestHandler) -> None:
        send_bytes(handler, data[: len(data) // 2], length=len(data))
        handler.wfile.flush()
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    return route


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (the timeout test) is expected, not a server bug


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A threaded HTTP server on 127.0.0.1; ``releases.BASE_URL`` points at its ``/datasets``."""
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    state = Server(base=f"http://127.0.0.1:{httpd.server_port}")
    httpd.state = state  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setattr(releases, "BASE_URL", f"{state.base}/datasets")
    yield state
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


def zip_path(rel: Release) -> str:
    return f"/datasets/{rel.name}.zip"


def fetch(rel: Release, data_dir: Path, **kwargs: object) -> Path:
    kwargs = {"progress": False, "retries": 0, "timeout": 5.0, **kwargs}
    return download_release(rel, data_dir, **kwargs)  # type: ignore[arg-type]


# --- good downloads ------------------------------------------------------------------------------


def test_good_download_extracts_only_the_members(server: Server, data_dir: Path) -> None:
    data = make_zip(extra={f"{NAME}/junk.csv": b"x", "__MACOSX/._ratings.csv": b"y"})
    rel = release_for(data)
    url = server.serve(zip_path(rel), data)

    folder = fetch(rel, data_dir)

    assert rel.url == url
    assert folder == data_dir / NAME
    assert listing(folder) == sorted(MEMBERS)  # no junk.csv, no checksums.txt (absent = fine)
    for member, content in MEMBERS.items():
        assert (folder / member).read_bytes() == content
    assert listing(data_dir) == [NAME, f"{NAME}.zip"]  # the verified zip is cached
    assert (data_dir / f"{NAME}.zip").read_bytes() == data


def test_cached_zip_is_reused_without_the_network(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    folder = fetch(rel, data_dir)
    (folder / "stale.txt").write_text("from an older install")
    del server.routes[zip_path(rel)]  # the server would now answer 404

    again = fetch(rel, data_dir)

    assert server.hits[zip_path(rel)] == 1
    assert listing(again) == sorted(MEMBERS)  # the folder was replaced as a whole
    assert listing(data_dir) == [NAME, f"{NAME}.zip"]


def test_keep_zip_false_leaves_only_the_folder(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    fetch(rel, data_dir, keep_zip=False)
    assert listing(data_dir) == [NAME]


def test_progress_bar_goes_to_stderr(
    server: Server, data_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data = make_zip()
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    fetch(rel, data_dir, progress=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert "100%" in err


def test_missing_optional_member_is_fine(server: Server, data_dir: Path) -> None:
    members = {k: v for k, v in MEMBERS.items() if k != "README.txt"}
    data = make_zip(members)
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    assert listing(fetch(rel, data_dir)) == sorted(members)


def test_retry_after_an_interrupted_transfer(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data)
    first = cut_off(data)

    def flaky(handler: http.server.BaseHTTPRequestHandler) -> None:
        (first if server.hits[zip_path(rel)] == 1 else lambda h: send_bytes(h, data))(handler)

    server.serve(zip_path(rel), flaky)
    folder = fetch(rel, data_dir, retries=1)
    assert server.hits[zip_path(rel)] == 2
    assert listing(folder) == sorted(MEMBERS)


# --- failures: one clear error, nothing left -----------------------------------------------------


def test_hash_mismatch(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data, sha256="ab" * 32)
    url = server.serve(zip_path(rel), data)
    with pytest.raises(ChecksumError) as err:
        fetch(rel, data_dir)
    message = str(err.value)
    assert url in message
    assert f"sha256 {hashlib.sha256(data).hexdigest()}, expected {'ab' * 32}" in message
    assert "\n" not in message
    assert listing(data_dir) == []


def test_size_mismatch(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data, size=len(data) + 1)  # right hash, wrong size
    url = server.serve(zip_path(rel), data)
    with pytest.raises(ChecksumError) as err:
        fetch(rel, data_dir)
    assert url in str(err.value)
    assert f"size {len(data):,} bytes, expected {len(data) + 1:,}" in str(err.value)
    assert listing(data_dir) == []


def test_truncated_zip(server: Server, data_dir: Path) -> None:
    truncated = make_zip()[:-200]  # loses the central directory
    rel = release_for(truncated)  # hash and size of the truncated bytes: the zip check must fail
    url = server.serve(zip_path(rel), truncated)
    with pytest.raises(ArchiveError) as err:
        fetch(rel, data_dir)
    assert url in str(err.value)
    assert "truncated" in str(err.value)
    assert listing(data_dir) == []


def test_html_page_instead_of_zip(server: Server, data_dir: Path) -> None:
    page = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>login</body></html>"
    rel = release_for(make_zip())
    url = server.serve(zip_path(rel), lambda h: send_bytes(h, page, content_type="text/html"))
    with pytest.raises(ArchiveError) as err:
        fetch(rel, data_dir)
    assert f"{url} is an HTML page, not a zip (got '<!DOCTYPE html" in str(err.value)
    assert listing(data_dir) == []


def test_interrupted_transfer(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data)
    url = server.serve(zip_path(rel), cut_off(data))
    with pytest.raises(DownloadError) as err:
        fetch(rel, data_dir)
    assert type(err.value) is DownloadError
    assert f"cannot download {url} (connection closed mid-transfer" in str(err.value)
    assert f"{len(data) // 2:,} of {len(data):,} bytes" in str(err.value)
    assert listing(data_dir) == []


def test_keyboard_interrupt_during_transfer(
    server: Server, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_zip()
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    seen_mid_transfer: list[list[str]] = []
    original = requests.models.Response.iter_content

    def interrupted(self: requests.Response, *args: object, **kwargs: object) -> Iterator[bytes]:
        chunks = original(self, *args, **kwargs)
        yield next(chunks)
        yield next(chunks)
        seen_mid_transfer.append(listing(data_dir))
        raise KeyboardInterrupt

    monkeypatch.setattr(requests.models.Response, "iter_content", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fetch(rel, data_dir)
    # pooch was writing to a temporary file next to the target, and removed it on the interrupt
    assert len(seen_mid_transfer) == 1 and len(seen_mid_transfer[0]) == 1
    assert seen_mid_transfer[0][0] != f"{NAME}.zip"
    assert listing(data_dir) == []


def test_keyboard_interrupt_during_extraction_keeps_only_the_verified_zip(
    server: Server, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_zip()
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    real_copy = shutil.copyfileobj
    calls: list[int] = []

    def copy_then_interrupt(*args: object, **kwargs: object) -> None:
        calls.append(1)
        real_copy(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(shutil, "copyfileobj", copy_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        fetch(rel, data_dir)
    assert calls == [1]
    assert listing(data_dir) == [f"{NAME}.zip"]  # no .tmp- folder, no half-extracted release
    monkeypatch.setattr(shutil, "copyfileobj", real_copy)
    assert listing(fetch(rel, data_dir)) == sorted(MEMBERS)
    assert server.hits[zip_path(rel)] == 1


def test_missing_required_member(server: Server, data_dir: Path) -> None:
    data = make_zip({"ratings.csv": b"userId,movieId\n"})
    rel = release_for(data)
    url = server.serve(zip_path(rel), data)
    with pytest.raises(ArchiveError) as err:
        fetch(rel, data_dir)
    assert f"{url} lacks {NAME}/movies.csv" in str(err.value)
    assert listing(data_dir) == []


def test_http_404_names_the_url_and_the_way_out(server: Server, data_dir: Path) -> None:
    rel = release_for(make_zip())
    with pytest.raises(DownloadError) as err:
        fetch(rel, data_dir)
    assert str(err.value) == (
        f"cannot download {rel.url} (HTTP 404 Not Found): download it by hand and run "
        f"`movielens-lessons data import {NAME}.zip`, or extract it into {data_dir / NAME}/"
    )
    assert listing(data_dir) == []


def test_timeout(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data)

    def slow(handler: http.server.BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)
        send_bytes(handler, data)

    server.serve(zip_path(rel), slow)
    with pytest.raises(DownloadError, match=r"no answer within 0\.2 s"):
        fetch(rel, data_dir, timeout=0.2)
    assert listing(data_dir) == []


def test_offline_one_line_and_no_data_dir_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connection refused, like no network
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(releases, "BASE_URL", f"http://127.0.0.1:{port}/datasets")
    rel = release_for(make_zip())
    target = tmp_path / "not-yet"
    with pytest.raises(DownloadError) as err:
        fetch(rel, target)
    assert str(err.value) == (
        f"cannot download {rel.url} (connection refused): download it by hand and run "
        f"`movielens-lessons data import {NAME}.zip`, or extract it into {target / NAME}/"
    )
    assert not target.exists()


# --- md5 sidecars (ml-latest) --------------------------------------------------------------------


@pytest.mark.parametrize("style", ["bsd", "gnu"])
def test_download_verified_against_sidecar(server: Server, data_dir: Path, style: str) -> None:
    data = make_zip()
    rel = release_for(None)  # like ml-latest: no pinned hash or size
    md5 = md5_hex(data)
    sidecar = f"MD5 ({NAME}.zip) = {md5}\n" if style == "bsd" else f"{md5}  {NAME}.zip\n"
    server.serve(zip_path(rel), data)
    assert server.serve(zip_path(rel) + ".md5", sidecar.encode()) == rel.md5_url
    assert listing(fetch(rel, data_dir)) == sorted(MEMBERS)
    assert server.hits[zip_path(rel) + ".md5"] == 1


def test_download_sidecar_mismatch(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(None)
    server.serve(zip_path(rel), data)
    server.serve(zip_path(rel) + ".md5", f"{HEX}  {NAME}.zip".encode())
    with pytest.raises(ChecksumError) as err:
        fetch(rel, data_dir)
    assert f"md5 {md5_hex(data)}, expected {HEX} (from {rel.md5_url})" in str(err.value)
    assert listing(data_dir) == []


def test_download_sidecar_missing(server: Server, data_dir: Path) -> None:
    rel = release_for(None)
    server.serve(zip_path(rel), make_zip())
    with pytest.raises(DownloadError, match=r"cannot download \S+\.zip\.md5 \(HTTP 404"):
        fetch(rel, data_dir)
    assert listing(data_dir) == []


# --- checksums.txt inside the zip (ml-32m) -------------------------------------------------------


def _with_checksums(members: dict[str, bytes], listed: dict[str, bytes]) -> bytes:
    lines = "".join(f"{md5_hex(content)}  {name}\n" for name, content in listed.items())
    return make_zip({**members, "checksums.txt": lines.encode()})


def test_checksums_txt_verified(server: Server, data_dir: Path) -> None:
    data = _with_checksums(MEMBERS, MEMBERS)
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    assert listing(fetch(rel, data_dir)) == sorted([*MEMBERS, "checksums.txt"])


def test_checksums_txt_catches_a_corrupted_member(server: Server, data_dir: Path) -> None:
    published = {**MEMBERS, "movies.csv": b"movieId,title,genres\n10,Heat (1995),Crime\n"}
    data = _with_checksums(MEMBERS, published)  # movies.csv differs from what checksums.txt says
    rel = release_for(data)
    url = server.serve(zip_path(rel), data)
    with pytest.raises(ChecksumError) as err:
        fetch(rel, data_dir)
    assert str(err.value) == (
        f"{url}: md5 of {NAME}/movies.csv is {md5_hex(MEMBERS['movies.csv'])}, expected "
        f"{md5_hex(published['movies.csv'])} (from the zip's checksums.txt)"
    )
    assert listing(data_dir) == []


# --- ensure_release -------------------------------------------------------------------------------


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(requests.Session, "request", refuse)


def test_ensure_release_uses_an_existing_folder(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = release_for(make_zip())
    folder = data_dir / NAME
    folder.mkdir()
    for member in rel.required:
        (folder / member).write_text("as the user left it")
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    _no_network(monkeypatch)
    assert ensure_release(rel, data_dir) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert listing(data_dir) == [NAME]


@pytest.mark.realdata
def test_ensure_release_uses_the_real_small_release(
    real_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = real_data_dir / "ml-latest-small"
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    top_before = listing(real_data_dir)
    _no_network(monkeypatch)
    assert ensure_release("ml-latest-small", real_data_dir) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert listing(real_data_dir) == top_before


def test_ensure_release_without_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _no_network(monkeypatch)
    target = tmp_path / "nothing-here"
    with pytest.raises(DataNotFoundError) as err:
        ensure_release("ml-1m", target, download=False)
    message = str(err.value)
    assert "https://files.grouplens.org/datasets/movielens/ml-1m.zip" in message
    assert "`movielens-lessons data import ml-1m.zip`" in message
    assert f"extract it into {target / 'ml-1m'}/" in message
    assert "missing ratings.dat, movies.dat, users.dat" in message
    assert not target.exists()


def test_ensure_release_downloads_what_is_missing(server: Server, data_dir: Path) -> None:
    data = make_zip()
    rel = release_for(data)
    server.serve(zip_path(rel), data)
    (data_dir / NAME).mkdir()
    (data_dir / NAME / "ratings.csv").write_text("partial")  # movies.csv missing: not present
    folder = ensure_release(replace(rel), data_dir, progress=False)
    assert listing(folder) == sorted(MEMBERS)
    assert server.hits[zip_path(rel)] == 1
