"""Parsing checksum files: ``.md5`` sidecars in their common formats and ml-32m's ``checksums.txt``."""

from __future__ import annotations

import pytest

from movielens_lessons.data.checksums import parse_checksums, parse_md5_sidecar
from movielens_lessons.errors import ChecksumError

HEX = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "text",
    [
        f"MD5 (ml-latest.zip) = {HEX}\n",
        f"{HEX}  ml-latest.zip\n",
        f"{HEX} *ml-latest.zip",
        f"{HEX.upper()}  ml-latest.zip\r\n",
        f"{HEX}\n",
        f"# md5\n\n{'f' * 32}  ml-latest-small.zip\n{HEX}  ml-latest.zip\n",
        f"MD5 (other.zip) = {'f' * 32}\nMD5 (ml-latest.zip) = {HEX}\n",
    ],
)
def test_parse_md5_sidecar_formats(text: str) -> None:
    assert parse_md5_sidecar(text, "ml-latest.zip") == HEX


@pytest.mark.parametrize(
    "text",
    ["", "<html>404</html>", f"{HEX[:-1]}  ml-latest.zip", f"{HEX}  a.zip\n{'f' * 32}  b.zip"],
)
def test_parse_md5_sidecar_rejects(text: str) -> None:
    with pytest.raises(ChecksumError, match=r"^x\.md5: no MD5 for ml-latest\.zip found"):
        parse_md5_sidecar(text, "ml-latest.zip", source="x.md5")


def test_parse_checksums_strips_folder_prefixes() -> None:
    text = f"{HEX}  ml-32m/ratings.csv\n{'f' * 32}  ./movies.csv\n{'e' * 32}  links.csv\n"
    assert parse_checksums(text, "ml-32m") == {
        "ratings.csv": HEX,
        "movies.csv": "f" * 32,
        "links.csv": "e" * 32,
    }
