"""``movielens-lessons data list | download | import``: output for machines, one-line errors for people."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movielens_lessons.cli import app, main
from movielens_lessons.data.releases import FORMAT_CSV, RELEASES, Release

from .runner import run_cli as _run_cli


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return _run_cli(*args, env=env)


def run_main(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run ``main()`` (the console script, error handling included) in-process: subprocesses are slow."""
    monkeypatch.setattr(sys, "argv", ["movielens-lessons", *args])
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # main() replaces it
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out, err)


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def fake_release_folder(data_dir: Path, name: str) -> Path:
    """A release folder holding (empty) copies of every required member, as `data list` checks."""
    rel = RELEASES[name]
    folder = data_dir / rel.folder
    folder.mkdir(parents=True)
    for member in rel.required:
        (folder / member).write_text("")
    return folder


# --- data list -----------------------------------------------------------------------------------


def test_list_json_reflects_the_catalogue_and_the_disk(tmp_path: Path) -> None:
    folder = fake_release_folder(tmp_path, "ml-10m")
    result = CliRunner().invoke(app, ["data", "list", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert list(rows) == list(RELEASES)
    for name, rel in RELEASES.items():
        row = rows[name]
        assert row["size_bytes"] == rel.size
        assert row["format"] == rel.format
        assert row["url"] == rel.url
        assert row["present"] is (name == "ml-10m")
    assert rows["ml-10m"]["path"] == str(folder)  # folder ml-10M100K, not the release name
    assert rows["ml-1m"]["path"] is None
    assert rows["ml-1m"]["size_mb"] == pytest.approx(5.9)
    assert rows["ml-1m"]["hash"] == "sha256"
    assert rows["ml-10m"]["hash"] == "md5"
    assert rows["ml-latest"]["hash"] == "md5 (sidecar)"
    assert rows["ml-latest"]["size_mb"] is None


@pytest.mark.realdata
def test_list_json_finds_the_real_small_release(
    real_data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_main(
        capsys, monkeypatch, "data", "list", "--json", "--data-dir", str(real_data_dir)
    )
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["ml-latest-small"]["present"] is True
    assert rows["ml-latest-small"]["path"] == str(real_data_dir / "ml-latest-small")


def test_list_table_for_people(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["data", "list", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for name in RELEASES:
        assert name in result.stdout
    assert "unknown" in result.stdout  # ml-10m and ml-latest have no pinned size
    assert "4.9 MB" in result.stdout  # ml-100k


# --- data download -------------------------------------------------------------------------------


def _refused_proxy() -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_download_offline_is_one_line(tmp_path: Path) -> None:
    # A proxy that refuses connections stands in for "no network" without touching the internet.
    proxy = _refused_proxy()
    env = {
        "HTTPS_PROXY": proxy,
        "HTTP_PROXY": proxy,
        "https_proxy": proxy,
        "http_proxy": proxy,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    data_dir = tmp_path / "data"
    result = run_cli(
        "data", "download", "ml-100k", "--data-dir", str(data_dir), "--no-progress", env=env
    )
    line = assert_one_line_error(result)
    assert line.startswith(
        "error: cannot download https://files.grouplens.org/datasets/movielens/ml-100k.zip ("
    )
    assert "`movielens-lessons data import ml-100k.zip`" in line
    assert line.endswith(f"or extract it into {data_dir / 'ml-100k'}/")
    assert result.stdout == ""
    assert not data_dir.exists()  # created for the download, removed again when it failed


def test_download_present_release_prints_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = fake_release_folder(tmp_path, "ml-1m")
    before = sorted(os.listdir(folder))
    result = run_main(capsys, monkeypatch, "data", "download", "ml-1m", "--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(folder)
    assert "already in" in result.stderr
    assert sorted(os.listdir(folder)) == before
    assert sorted(os.listdir(tmp_path)) == ["ml-1m"]


def test_download_unknown_release_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_main(capsys, monkeypatch, "data", "download", "ml-3m", "--data-dir", str(tmp_path))
    line = assert_one_line_error(result)
    assert "unknown MovieLens release 'ml-3m'" in line
    assert "ml-latest-small" in line


# --- data import ---------------------------------------------------------------------------------


def test_import_html_page_is_one_line(tmp_path: Path) -> None:
    src = tmp_path / "ml-1m.zip"
    src.write_bytes(b"<!DOCTYPE html><html><body>403 Forbidden</body></html>")
    data_dir = tmp_path / "data"
    line = assert_one_line_error(run_cli("data", "import", str(src), "--data-dir", str(data_dir)))
    assert line == (
        f"error: {src} is an HTML page, not a zip (got '<!DOCTYPE html><html><body>403 Forbidden'"
        " ...); the server sent an error or login page instead of the file"
    )
    assert not data_dir.exists()


def test_import_wrong_zip_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "ml-1m.zip"
    with zipfile.ZipFile(src, "w") as archive:
        archive.writestr("ml-1m/ratings.dat", "1::1193::5::978300760\n")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    result = run_main(capsys, monkeypatch, "data", "import", str(src), "--data-dir", str(data_dir))
    line = assert_one_line_error(result)
    assert line.startswith(f"error: {src}: size {src.stat().st_size:,} bytes, expected 5,917,549")
    assert os.listdir(data_dir) == []


def test_import_good_zip_prints_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("ml-cli/ratings.csv", "userId,movieId,rating,timestamp\n1,1,4.0,1\n")
        archive.writestr("ml-cli/movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n")
    data = buffer.getvalue()
    rel = Release(
        name="ml-cli",
        folder="ml-cli",
        format=FORMAT_CSV,
        required=("ratings.csv", "movies.csv"),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    monkeypatch.setitem(RELEASES, rel.name, rel)
    src = tmp_path / "download.zip"
    src.write_bytes(data)
    data_dir = tmp_path / "data"
    result = CliRunner().invoke(
        app, ["data", "import", str(src), "--name", "ml-cli", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(data_dir / "ml-cli")
    assert sorted(os.listdir(data_dir / "ml-cli")) == ["movies.csv", "ratings.csv"]


def test_download_ctrl_c_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from movielens_lessons.cli import data_fetch

    def interrupted(*args: object, **kwargs: object) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(data_fetch, "download_release", interrupted)
    result = run_main(capsys, monkeypatch, "data", "download", "ml-1m", "--data-dir", str(tmp_path))
    line = assert_one_line_error(result)
    assert line == (
        "error: download of https://files.grouplens.org/datasets/movielens/ml-1m.zip interrupted; "
        f"nothing partial was kept in {tmp_path}"
    )
