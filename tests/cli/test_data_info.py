"""``movielens-lessons data info``: JSON for machines, a table for people, one-line errors."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movielens_lessons.cli import app

from .runner import run_cli as _run_cli

FIXTURES = Path(__file__).parents[1] / "data" / "fixtures"
runner = CliRunner()


def _run(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    return _run_cli("data", "info", *args, data_dir=data_dir)


@pytest.mark.realdata
def test_json_matches_the_raw_files(real_data_dir: Path) -> None:
    result = _run("ml-latest-small", "--json", data_dir=real_data_dir)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)  # stdout is exactly one JSON object

    folder = real_data_dir / "ml-latest-small"
    with open(folder / "ratings.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(folder / "movies.csv", encoding="utf-8", newline="") as f:
        n_movies = sum(1 for _ in csv.DictReader(f))
    with open(folder / "tags.csv", encoding="utf-8", newline="") as f:
        n_tags = sum(1 for _ in csv.DictReader(f))
    ratings = [float(r["rating"]) for r in rows]
    assert summary["ratings"] == len(rows) == 100_836
    assert summary["users"] == len({r["userId"] for r in rows}) == 610
    assert summary["rated_movies"] == len({r["movieId"] for r in rows}) == 9_724
    assert summary["movies"] == n_movies == 9_742
    assert summary["tags"] == n_tags == 3_683
    assert (
        (summary["rating_min"], summary["rating_max"]) == (min(ratings), max(ratings)) == (0.5, 5.0)
    )


def test_json_with_data_dir_option() -> None:
    result = runner.invoke(app, ["data", "info", "ml-1m", "--data-dir", str(FIXTURES), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    lines = (FIXTURES / "ml-1m" / "ratings.dat").read_text().split()
    assert summary["ratings"] == len(lines)
    assert summary["users"] == len({ln.split("::")[0] for ln in lines})
    assert summary["users_with_demographics"] == len(
        (FIXTURES / "ml-1m" / "users.dat").read_text().split()
    )


def test_table_for_people_on_a_ratings_file() -> None:
    path = FIXTURES / "ml-20m" / "ratings.csv"
    result = runner.invoke(app, ["data", "info", str(path)])
    assert result.exit_code == 0, result.output
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    table = {}
    for line in result.stdout.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if len(cells) == 2:
            table[cells[0]] = cells[1]
    assert table["ratings"] == f"{len(rows):,}"
    assert table["users (with ratings)"] == str(len({r["userId"] for r in rows}))
    assert table["highest rating"] == f"{max(float(r['rating']) for r in rows):g}"


def test_missing_release_and_missing_file_are_one_line_and_non_zero(tmp_path: Path) -> None:
    for args in (["ml-1m", "--data-dir", str(tmp_path)], [str(tmp_path / "absent.csv")]):
        result = _run(*args)
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.stderr
    assert "absent.csv" in lines[0] and "not found" in lines[0]


def test_bad_file_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,2,3,4\n1,two,3,4\n")
    result = _run(str(path), "--json")
    assert result.returncode != 0 and result.stdout == ""
    line = result.stderr.strip()
    assert "\n" not in line
    assert str(path) in line and "line 3" in line and "'movieId'" in line and "'two'" in line
