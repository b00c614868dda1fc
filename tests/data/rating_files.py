"""Helpers shared by the reader and validation tests: small rating files, and one-line error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

HEADER = "userId,movieId,rating,timestamp\n"


def write_file(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """``text`` written to ``tmp_path / name`` in ``encoding``."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def one_line(exc: pytest.ExceptionInfo) -> str:
    """The raised error's message, asserted to be a single line."""
    message = str(exc.value)
    assert "\n" not in message
    return message
