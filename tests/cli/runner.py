"""Run the real ``movielens-lessons`` entry point (main()'s error handling included) in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

INHERIT = object()  # keep the caller's MOVIELENS_DATA_DIR


def run_cli(
    *args: str,
    data_dir: Path | object | None = INHERIT,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``data_dir``: a folder to use as ``$MOVIELENS_DATA_DIR``, ``None`` to unset it, or inherit."""
    full_env = {**os.environ, **(env or {})}
    if data_dir is None:
        full_env.pop("MOVIELENS_DATA_DIR", None)
    elif data_dir is not INHERIT:
        full_env["MOVIELENS_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "movielens_lessons", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
