"""``movielens-lessons split`` run as a real process: files written, partition, report, errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C

from .runner import run_cli as _run_cli


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return _run_cli(*args)


@pytest.fixture
def ratings_csv(tmp_path: Path) -> Path:
    """A small ratings.csv in MovieLens format: 40 users, 5-24 ratings each, half-star ratings."""
    rng = np.random.default_rng(11)
    rows = []
    for u in range(1, 41):
        k = int(rng.integers(5, 25))
        for i in rng.choice(200, size=k, replace=False):
            rows.append(
                (
                    u,
                    int(i) + 1,
                    float(rng.integers(1, 11)) / 2,
                    978_300_000 + int(rng.integers(0, 10**7)),
                )
            )
    path = tmp_path / "ratings.csv"
    pd.DataFrame(rows, columns=list(C.RATINGS_COLUMNS)).to_csv(path, index=False)
    return path


def read_sorted(*paths: Path) -> pd.DataFrame:
    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    return frame.sort_values([C.USER, C.ITEM]).reset_index(drop=True)


def test_user_temporal_split_writes_a_partition(ratings_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli(
        "split",
        "--ratings",
        str(ratings_csv),
        "--strategy",
        "user-temporal",
        "--test-size",
        "0.25",
        "--validation-size",
        "0.2",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    parts = [out / "train.csv", out / "validation.csv", out / "test.csv"]
    pd.testing.assert_frame_equal(read_sorted(*parts), read_sorted(ratings_csv))

    # Same layout as the source: header, integer ids and timestamps, ratings like 4.0 / 3.5.
    text = (out / "train.csv").read_text().splitlines()
    assert text[0] == "userId,movieId,rating,timestamp"
    assert all(len(line.split(",")[2].split(".")) == 2 for line in text[1:])

    # Each user's test rows are no older than their training rows.
    train, test = pd.read_csv(out / "train.csv"), pd.read_csv(out / "test.csv")
    latest = train.groupby(C.USER)[C.TIMESTAMP].max()
    earliest = test.groupby(C.USER)[C.TIMESTAMP].min()
    assert (earliest >= latest.reindex(earliest.index)).all()

    summary = json.loads((out / "split.json").read_text())
    assert summary["strategy"] == "user-temporal"
    assert summary["params"]["test_size"] == 0.25
    assert summary["counts"] == {
        "train": len(train),
        "test": len(test),
        "validation": len(pd.read_csv(out / "validation.csv")),
    }
    assert summary["leakage"]["overlap"] == 0
    assert summary["leakage"]["per_user_future_leak"] == 0
    assert "pairs in both train and test: 0" in done.stdout


def test_user_kfold_writes_one_folder_per_fold(ratings_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "folds"
    done = run_cli(
        "split",
        "--ratings",
        str(ratings_csv),
        "--strategy",
        "user-kfold",
        "--n-splits",
        "3",
        "--seed",
        "5",
        "--out",
        str(out),
    )
    assert done.returncode == 0, done.stderr
    source = read_sorted(ratings_csv)
    tests = [out / f"fold-{k}" / "test.csv" for k in (1, 2, 3)]
    pd.testing.assert_frame_equal(read_sorted(*tests), source)  # the test folds partition the data
    for k in (1, 2, 3):
        fold = out / f"fold-{k}"
        pd.testing.assert_frame_equal(read_sorted(fold / "train.csv", fold / "test.csv"), source)
    summary = json.loads((out / "split.json").read_text())
    assert [f["fold"] for f in summary["folds"]] == [1, 2, 3]
    assert summary["params"] == {"n_splits": 3, "seed": 5}


def test_bad_strategy_is_one_error_line(ratings_csv: Path, tmp_path: Path) -> None:
    done = run_cli(
        "split",
        "--ratings",
        str(ratings_csv),
        "--strategy",
        "by-vibes",
        "--out",
        str(tmp_path / "x"),
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "by-vibes" in lines[0] and "user-temporal" in lines[0]
    assert not (tmp_path / "x").exists()


def test_option_the_strategy_does_not_take_names_the_option(
    ratings_csv: Path, tmp_path: Path
) -> None:
    done = run_cli(
        "split",
        "--ratings",
        str(ratings_csv),
        "--strategy",
        "random",
        "--leave-last",
        "1",
        "--out",
        str(tmp_path / "x"),
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "--leave-last" in lines[0]
