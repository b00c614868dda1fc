"""Checksum files: ``.md5`` sidecars (BSD or GNU format) and ``checksums.txt`` (one digest per member)."""

from __future__ import annotations

import re
from pathlib import Path

from movielens_lessons.errors import ChecksumError

#: Hash algorithms by hex-digest length, for ``checksums.txt`` lines that do not name theirs.
_ALG_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}
_BSD_LINE = re.compile(r"^(?P<alg>[A-Za-z0-9-]+)\s*\((?P<name>.+)\)\s*=\s*(?P<hex>[0-9a-fA-F]+)$")
_GNU_LINE = re.compile(r"^(?P<hex>[0-9a-fA-F]{32,128})(?:\s+\*?(?P<name>.+))?$")


# --- checksum files ----------------------------------------------------------------------------


def parse_digest_lines(text: str) -> list[tuple[str, str | None]]:
    """``(hex, file name or None)`` for every line of a checksum file, BSD or GNU format.

    BSD: ``MD5 (ml-latest.zip) = <hex>``; GNU (``md5sum``): ``<hex>  ml-latest.zip`` (``*`` marks binary
    mode); a bare ``<hex>`` line has no name. Blank lines and ``#`` comments are skipped.
    """
    entries: list[tuple[str, str | None]] = []
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        match = _BSD_LINE.match(line) or _GNU_LINE.match(line)
        if match is None:
            continue
        name = match.group("name")
        entries.append((match.group("hex").lower(), None if name is None else name.strip()))
    return entries


def parse_md5_sidecar(text: str, filename: str | None = None, *, source: str = "sidecar") -> str:
    """The MD5 hex digest in a ``.md5`` sidecar (BSD or GNU format).

    With several entries, the one naming ``filename`` wins; a single entry is taken whatever it names.
    Raises :class:`ChecksumError` (naming ``source``) when no MD5 can be read.
    """
    entries = [(hexd, name) for hexd, name in parse_digest_lines(text) if len(hexd) == 32]
    if filename is not None:
        named = [hexd for hexd, name in entries if name and Path(name).name == filename]
        if named:
            return named[0]
    if len(entries) == 1:
        return entries[0][0]
    head = text.strip()[:60]
    wanted = f" for {filename}" if filename else ""
    raise ChecksumError(
        f"{source}: no MD5{wanted} found (got {head!r}); expected 'MD5 ({filename or 'file'}) = <hex>'"
        f" or '<hex>  {filename or 'file'}'"
    )


def parse_checksums(text: str, folder: str | None = None) -> dict[str, str]:
    """``{member: hex}`` from a GNU-format ``checksums.txt``, paths made relative to ``folder``."""
    out: dict[str, str] = {}
    for hexd, name in parse_digest_lines(text):
        if name is None:
            continue
        name = name.replace("\\", "/").removeprefix("./")
        if folder:
            name = name.removeprefix(f"{folder}/")
        out[name] = hexd
    return out


def algorithm_for(hexd: str) -> str | None:
    """The hash algorithm a hex digest of this length comes from (md5, sha1, sha256), or ``None``."""
    return _ALG_BY_LENGTH.get(len(hexd))
