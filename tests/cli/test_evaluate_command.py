"""``movielens-lessons evaluate`` in a subprocess: JSON keys, rating mode, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C

from .runner import run_cli as _run_cli


def run(*args: str) -> subprocess.CompletedProcess:
    return _run_cli("evaluate", *args)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Train/test like the split command writes them, and hand-made recommendations."""
    train = pd.DataFrame(
        {
            C.USER: [1, 1, 2, 3],
            C.ITEM: [10, 20, 10, 30],
            C.RATING: [4.0, 3.0, 5.0, 4.0],
            C.TIMESTAMP: [1, 2, 3, 4],
        }
    )
    test = pd.DataFrame(
        {
            C.USER: [1, 1, 2, 3],
            C.ITEM: [40, 50, 20, 60],
            C.RATING: [5.0, 2.0, 4.0, 3.0],
            C.TIMESTAMP: [5, 6, 7, 8],
        }
    )
    recs = pd.DataFrame({C.USER: [1, 1, 2, 2], C.ITEM: [40, 30, 30, 20], C.RANK: [1, 2, 1, 2]})
    out = {}
    for name, df in (("train", train), ("test", test), ("recs", recs)):
        out[name] = tmp_path / f"{name}.csv"
        df.to_csv(out[name], index=False)
    return out


def test_json_keys_and_values(files):
    p = run(
        "--train",
        str(files["train"]),
        "--test",
        str(files["test"]),
        "--recs",
        str(files["recs"]),
        "--k",
        "2",
        "--json",
        "--n-bootstrap",
        "50",
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    for key in (
        "precision",
        "recall",
        "ndcg",
        "map",
        "mrr",
        "hit_rate",
        "coverage",
        "gini",
        "novelty",
        "arp",
        "personalization",
        "serendipity",
    ):
        assert key in out
    # precision@2 (1/2 + 1/2 + 0)/3 — user 3 has no recommendations and scores 0
    assert out["precision"] == pytest.approx(1 / 3)
    assert out["n_users_without_recs"] == 1 and out["k"] == 2


def test_prediction_mode(files, tmp_path):
    pred = tmp_path / "pred.csv"
    pd.DataFrame({C.USER: [1, 2], C.ITEM: [40, 20], C.PREDICTION: [4.0, 4.0]}).to_csv(
        pred, index=False
    )
    p = run("--test", str(files["test"]), "--predictions", str(pred), "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    # errors 1 and 0 on 2 of 4 test pairs
    assert out["rmse"] == pytest.approx(np.sqrt(0.5)) and out["mae"] == pytest.approx(0.5)
    assert out["coverage"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("userId,movieId\n1,40\n", "missing column 'rank'"),
        ("userId,movieId,rank\n1,40,1\n1,30,1\n", "userId 1 has two items at rank 1"),
        ("userId,movieId,rank\n1,40,1\nx,30,2\n", "line 3"),
        ("userId,movieId,rank\n1,40,1\n1,40,2\n", "movieId 40 twice"),
        ("userId,movieId,rank\n1,40,0\n", "ranks start at 1"),
    ],
)
def test_bad_recommendation_files_get_one_line(files, tmp_path, content, expected):
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    p = run("--train", str(files["train"]), "--test", str(files["test"]), "--recs", str(bad))
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], p.stderr
    assert str(bad) in lines[0]


def test_needs_recs_or_predictions(files):
    p = run("--test", str(files["test"]))
    assert p.returncode != 0 and p.stderr.strip().startswith("error:")


@pytest.mark.realdata
def test_on_a_split_from_the_split_command(real_data_dir, tmp_path):
    ratings = real_data_dir / "ml-latest-small" / "ratings.csv"
    s = subprocess.run(
        [
            sys.executable,
            "-m",
            "movielens_lessons",
            "split",
            "--ratings",
            str(ratings),
            "--strategy",
            "user-random",
            "--out",
            str(tmp_path / "split"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert s.returncode == 0, s.stderr
    train = pd.read_csv(tmp_path / "split" / "train.csv")
    test = pd.read_csv(tmp_path / "split" / "test.csv")
    top = train[C.ITEM].value_counts().index[:10].to_numpy()
    users = test[C.USER].unique()
    recs = pd.DataFrame(
        {
            C.USER: np.repeat(users, 10),
            C.ITEM: np.tile(top, len(users)),
            C.RANK: np.tile(np.arange(1, 11), len(users)),
        }
    )
    recs.to_csv(tmp_path / "recs.csv", index=False)
    p = run(
        "--train",
        str(tmp_path / "split" / "train.csv"),
        "--test",
        str(tmp_path / "split" / "test.csv"),
        "--recs",
        str(tmp_path / "recs.csv"),
        "--items",
        str(real_data_dir / "ml-latest-small" / "movies.csv"),
        "--json",
    )
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["n_users"] == len(users)
    assert 0 < out["ndcg"] < 1 and out["gini"] > 0.9 and 0 < out["ild"] < 1
    assert out["coverage"] == pytest.approx(10 / train[C.ITEM].nunique())
