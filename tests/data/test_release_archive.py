"""Installing zips fetched by hand (``import_zip``): checked against the catalogue, then installed.

Failure tests end by listing ``data_dir``: nothing partial (half-extracted folder) may be left behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from movielens_lessons.data.release_archive import import_zip, infer_release
from movielens_lessons.data.releases import RELEASES, Release
from movielens_lessons.errors import (
    ArchiveError,
    ChecksumError,
    DataNotFoundError,
    DataQualityWarning,
)

from .release_zips import HEX, MEMBERS, NAME, listing, make_zip, md5_hex, release_for


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def catalogued(monkeypatch: pytest.MonkeyPatch) -> Callable[[Release], Release]:
    def add(rel: Release) -> Release:
        monkeypatch.setitem(RELEASES, rel.name, rel)
        return rel

    return add


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_import_zip_by_file_name(tmp_path: Path, data_dir: Path, catalogued) -> None:
    data = make_zip(extra={f"{NAME}/junk.csv": b"x"})
    catalogued(release_for(data))
    src = _write(tmp_path / "downloads" / f"{NAME}.zip", data)
    folder = import_zip(src, data_dir)
    assert folder == data_dir / NAME
    assert listing(folder) == sorted(MEMBERS)
    assert listing(data_dir) == [NAME]
    assert src.read_bytes() == data  # the user's file is left alone


def test_import_zip_infers_the_release_from_its_folder(
    tmp_path: Path, data_dir: Path, catalogued
) -> None:
    data = make_zip()
    rel = catalogued(release_for(data))
    src = _write(tmp_path / "download (3).zip", data)
    assert infer_release(src) == rel
    assert listing(import_zip(src, data_dir)) == sorted(MEMBERS)


def test_import_zip_with_explicit_name(tmp_path: Path, data_dir: Path, catalogued) -> None:
    data = make_zip()
    catalogued(release_for(data))
    src = _write(tmp_path / "ml-1m.zip", data)  # misnamed: the file name would say ml-1m
    with pytest.raises(ChecksumError, match="expected 5,917,549 bytes for ml-1m"):
        import_zip(src, data_dir)
    assert listing(import_zip(src, data_dir, name=NAME)) == sorted(MEMBERS)


def test_import_zip_of_an_unknown_release(tmp_path: Path, data_dir: Path) -> None:
    src = _write(tmp_path / "whatever.zip", make_zip(folder="odd-folder"))
    with pytest.raises(
        ArchiveError,
        match=r"cannot tell which release .* \(top-level entries: "
        r"odd-folder\); give its name \(--name\)",
    ):
        import_zip(src, data_dir)
    assert listing(data_dir) == []


def test_import_zip_hash_mismatch(tmp_path: Path, data_dir: Path, catalogued) -> None:
    data = make_zip()
    catalogued(release_for(data, sha256="cd" * 32))
    src = _write(tmp_path / f"{NAME}.zip", data)
    with pytest.raises(ChecksumError) as err:
        import_zip(src, data_dir)
    assert str(err.value).startswith(f"{src}: sha256 {hashlib.sha256(data).hexdigest()}, expected")
    assert listing(data_dir) == []
    assert src.exists()


@pytest.mark.parametrize(
    ("content", "error", "fragment"),
    [
        (b"<!doctype html><html>Not Found</html>", ArchiveError, "is an HTML page, not a zip"),
        (b"\x1f\x8b\x08gzip", ArchiveError, "is not a zip file"),
        (make_zip({"ratings.csv": b"x"}), ArchiveError, f"lacks {NAME}/movies.csv"),
    ],
)
def test_import_zip_bad_files(
    tmp_path: Path, data_dir: Path, catalogued, content: bytes, error: type, fragment: str
) -> None:
    # Hash and size pinned to the bad bytes, so it is the archive checks that must fail.
    catalogued(release_for(content))
    src = _write(tmp_path / f"{NAME}.zip", content)
    with pytest.raises(error, match=fragment):
        import_zip(src, data_dir)
    assert listing(data_dir) == []


def test_import_unpinned_zip_warns_without_sidecar(
    tmp_path: Path, data_dir: Path, catalogued
) -> None:
    data = make_zip()
    catalogued(release_for(None))
    src = _write(tmp_path / f"{NAME}.zip", data)
    with pytest.warns(DataQualityWarning, match="NOT verified against a hash"):
        folder = import_zip(src, data_dir)
    assert listing(folder) == sorted(MEMBERS)


def test_import_unpinned_zip_uses_sidecar(
    tmp_path: Path, data_dir: Path, catalogued, recwarn: pytest.WarningsRecorder
) -> None:
    data = make_zip()
    catalogued(release_for(None))
    src = _write(tmp_path / f"{NAME}.zip", data)
    sidecar = _write(tmp_path / f"{NAME}.zip.md5", f"MD5 ({NAME}.zip) = {HEX}\n".encode())
    with pytest.raises(ChecksumError, match=f"md5 {md5_hex(data)}, expected {HEX}"):
        import_zip(src, data_dir)
    assert listing(data_dir) == []
    sidecar.write_text(f"{md5_hex(data)}  {NAME}.zip\n")
    assert listing(import_zip(src, data_dir)) == sorted(MEMBERS)
    assert not [w for w in recwarn if issubclass(w.category, DataQualityWarning)]


def test_import_missing_file(tmp_path: Path, data_dir: Path) -> None:
    with pytest.raises(DataNotFoundError, match="no such file"):
        import_zip(tmp_path / "ml-1m.zip", data_dir)
