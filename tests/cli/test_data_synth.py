"""``movielens-lessons data synth``: writes loadable files; bad sizes are one-line errors."""

from __future__ import annotations

import subprocess

import pandas as pd
import pytest

from movielens_lessons import columns as C

from .runner import run_cli as _run_cli


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return _run_cli("data", "synth", *args)


def test_synth_writes_the_four_files_deterministically(tmp_path):
    args = ["--users", "40", "--items", "60", "--ratings", "900", "--seed", "7"]
    first = _run(*args, "--out", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    assert "900 ratings" in first.stderr
    for name in ("ratings", "movies", "tags", "links"):
        assert (tmp_path / "a" / f"{name}.csv").is_file()
    ratings = pd.read_csv(tmp_path / "a" / "ratings.csv")
    assert len(ratings) == 900 and ratings[C.USER].nunique() == 40
    assert len(pd.read_csv(tmp_path / "a" / "movies.csv")) == 60

    second = _run(*args, "--out", str(tmp_path / "b"))
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "a" / "ratings.csv").read_bytes() == (
        tmp_path / "b" / "ratings.csv"
    ).read_bytes()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--users", "0"], "users must be a positive integer"),
        (["--items", "-3"], "items must be a positive integer"),
        (["--users", "10", "--items", "5", "--ratings", "51"], "more than users × items"),
        (["--users", "10", "--items", "5", "--ratings", "5"], "fewer than users"),
        (["--start", "2010-01-01", "--end", "2005-01-01"], "must be after start"),
    ],
)
def test_bad_values_are_one_line_config_errors(tmp_path, args, fragment):
    result = _run(*args, "--out", str(tmp_path / "x"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()
