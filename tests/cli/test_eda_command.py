"""``movielens-lessons eda``: writes the report for a release; bad input is one line and a non-zero exit."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movielens_lessons.cli import app
from movielens_lessons.data.synth import synthesize, write_movielens

from .runner import run_cli as _run_cli


def _run(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    return _run_cli("eda", *args, data_dir=data_dir)


@pytest.fixture(scope="module")
def small_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a 2,000-rating synthetic ``ml-latest-small/`` in the CSV release format."""
    root = tmp_path_factory.mktemp("data")
    write_movielens(synthesize(60, 200, 2000, seed=3), root / "ml-latest-small")
    return root


def test_writes_the_report(small_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "eda"
    result = _run("ml-latest-small", "--data-dir", str(small_release), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out / "report.html")  # stdout: only the report's path
    assert "Traceback" not in result.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["sections"]["overview"]["ratings"] == 2000
    assert len(summary["figures"]) >= 10
    assert sorted(p.stem for p in (out / "figures").glob("*.png")) == summary["figures"]
    assert (
        (out / "report.md")
        .read_text(encoding="utf-8")
        .startswith("# MovieLens EDA: ml-latest-small")
    )
    # Without --imdb-dir the IMDb section says why it is empty, and the command says so too.
    assert "--imdb-dir" in summary["missing"]["imdb"]
    assert "without data: imdb" in result.stderr


def test_missing_imdb_dir_is_one_line(small_release: Path) -> None:
    result = _run("--out", "unused", "--imdb-dir", "/no/such/imdb", data_dir=small_release)
    assert result.returncode != 0
    assert result.stderr.strip() == "error: --imdb-dir /no/such/imdb: no such folder"


def test_unknown_release_is_one_line(tmp_path: Path) -> None:
    result = _run("ml-nope", "--out", str(tmp_path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown MovieLens release 'ml-nope'")
    assert not (tmp_path / "report.html").exists()


def test_missing_release_is_one_line(tmp_path: Path) -> None:
    result = _run("ml-1m", "--data-dir", str(tmp_path), "--out", str(tmp_path / "o"))
    assert result.returncode != 0
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1


def test_out_is_required() -> None:
    result = CliRunner().invoke(app, ["eda", "ml-latest-small"])
    assert result.exit_code == 2
    assert "--out" in result.output
