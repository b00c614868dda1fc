"""``train MODEL --config FILE [--protocol NAME]``: a leaderboard row's parameters in one command,
and the note for models whose settings depend on the evaluation protocol (the ranker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from movielens_lessons.cli import app

from ..models.contract import cluster_frame
from .runner import run_cli

CONFIG = """
name = "tiny"
seed = 7

[dataset]
name = "ml-latest-small"

[[protocols]]
name = "user-temporal"
strategy = "user-temporal"
test_size = 0.2

[[protocols]]
name = "user-random"
strategy = "user-random"
test_size = 0.25
seed = 42

[models.ease]
tuned_by = "movielens-lessons tune ease"
tuned_validation = "ndcg@10 0.1 -> 0.2"
regularization = 50.0

[models.ease.protocols.user-random]
regularization = 80.0

[models.item-knn]
n_neighbors = 7
similarity = "cosine"
shrinkage = 3.5

[models.item-knn.protocols.user-random]
n_neighbors = 5

[models.xgboost-ranker]
retrievers = "most-popular,item-knn"
n_candidates = 8
n_estimators = 5
n_folds = 2

[models.xgboost-ranker.protocols.user-random]
validation = "random"

[quick.params.ease]
max_items = 15
"""

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(ratings.csv, config.toml) in one module-wide folder."""
    folder = tmp_path_factory.mktemp("train-config")
    ratings = folder / "ratings.csv"
    cluster_frame().to_csv(ratings, index=False)
    config = folder / "config.toml"
    config.write_text(CONFIG)
    return ratings, config


def train(files: tuple[Path, Path], out: Path, *args: str):
    """``train`` in-process (fast); returns the Click result (stdout and stderr apart)."""
    ratings, _ = files
    result = runner.invoke(app, ["train", *args, "--ratings", str(ratings), "--out", str(out)])
    assert result.exit_code == 0, (result.stderr, result.exception)
    return result


def saved_params(folder: Path) -> dict:
    return json.loads((folder / "model.json").read_text())["params"]


def test_config_params_for_ease_with_and_without_a_protocol(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, config = files
    base = train(files, tmp_path / "base", "ease", "--config", str(config))
    assert saved_params(tmp_path / "base")["regularization"] == 50.0  # metadata keys dropped
    assert f"params from {config}: [models.ease]" in base.stderr
    assert "per-protocol settings for ease (user-random); add --protocol" in base.stderr
    on_random = train(files, tmp_path / "random", "ease", "--config", str(config),
                      "--protocol", "user-random")
    assert saved_params(tmp_path / "random") == {
        "regularization": 80.0, "min_item_count": 1, "max_items": None}
    assert "[models.ease.protocols.user-random] (regularization)" in on_random.stderr
    assert "add --protocol" not in on_random.stderr


def test_config_params_for_item_knn_and_param_wins(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, config = files
    train(files, tmp_path / "temporal", "item-knn", "--config", str(config),
          "--protocol", "user-temporal")
    params = saved_params(tmp_path / "temporal")
    assert (params["n_neighbors"], params["similarity"], params["shrinkage"]) == (7, "cosine", 3.5)
    result = train(files, tmp_path / "random", "item-knn", "--config", str(config),
                   "--protocol", "user-random", "--param", "shrinkage=0", "--param", "n_neighbors=3")
    params = saved_params(tmp_path / "random")
    assert (params["n_neighbors"], params["similarity"], params["shrinkage"]) == (3, "cosine", 0)
    assert "--param shrinkage, n_neighbors" in result.stderr


def test_quick_uses_the_configs_quick_params(files: tuple[Path, Path], tmp_path: Path) -> None:
    _, config = files
    train(files, tmp_path / "m", "ease", "--config", str(config), "--protocol", "user-random",
          "--quick")
    assert saved_params(tmp_path / "m") == {
        "regularization": 80.0, "min_item_count": 1, "max_items": 15}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ease", "--protocol", "user-random"], "--protocol picks settings from a benchmark config"),
        (["svd", "--config", "{config}"], "model 'svd' is not in this config; its models: ease, "
                                          "item-knn, xgboost-ranker"),
        (["ease", "--config", "{config}", "--protocol", "weekly"],
         "no protocol 'weekly' in the configuration {config}; configured: user-temporal, "
         "user-random"),
        (["ease", "--config", "{config}", "--param", "alpha=1"], "unknown parameter 'alpha'"),
    ],
)
def test_config_errors_are_one_line(
    files: tuple[Path, Path], tmp_path: Path, args: list[str], message: str
) -> None:
    ratings, config = files
    args = [a.replace("{config}", str(config)) for a in args]
    result = run_cli("train", *args, "--ratings", str(ratings), "--out", str(tmp_path / "m"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert message.replace("{config}", str(config)) in result.stderr
    assert not (tmp_path / "m").exists()


def test_ranker_notes_its_label_window_unless_it_was_chosen(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("xgboost")
    _, config = files
    cheap = ("--config", str(config))
    default = train(files, tmp_path / "default", "xgboost-ranker", *cheap)
    note = [line for line in default.stderr.splitlines() if "label window" in line]
    assert len(note) == 1
    assert note[0].startswith("note: xgboost-ranker's label window is validation='temporal': "
                              "each user's latest ratings, \"what comes next\"")
    assert (f"--config {config} --protocol user-random (its leaderboard settings), or at least "
            "--param validation=random") in note[0]
    assert saved_params(tmp_path / "default")["validation"] == "temporal"

    on_random = train(files, tmp_path / "random", "xgboost-ranker", *cheap,
                      "--protocol", "user-random")
    assert "label window" not in on_random.stderr
    assert saved_params(tmp_path / "random")["validation"] == "random"
    by_param = train(files, tmp_path / "param", "xgboost-ranker", *cheap,
                     "--param", "validation=random")
    assert "label window" not in by_param.stderr


def test_ranker_note_without_a_config_points_at_the_shipped_one(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("xgboost")
    ratings, _ = files
    result = run_cli("train", "xgboost-ranker", "--ratings", str(ratings), "--out",
                     str(tmp_path / "m"), "--param", "n_estimators=2", "--param", "n_folds=2",
                     "--param", "retrievers=most-popular", "--param", "n_candidates=5")
    assert result.returncode == 0, result.stderr
    assert "validation='temporal'" in result.stderr
    assert "ml-latest-small.toml --protocol user-random" in result.stderr
    assert "--param validation=random" in result.stderr
