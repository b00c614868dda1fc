"""``benchmark``, ``runs list`` / ``runs compare`` and ``tune`` on the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import tomllib
from typer.testing import CliRunner

from movielens_lessons.cli import app
from movielens_lessons.experiments.config_loading import config_from_dict

TINY = Path(__file__).resolve().parents[1] / "experiments" / "tiny.toml"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "movielens_lessons", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300, check=False)


@pytest.fixture(scope="module")
def ratings_file(tmp_path_factory) -> Path:
    from movielens_lessons.data.synth import synthesize

    folder = tmp_path_factory.mktemp("synth")
    data = synthesize(80, 60, 1500, seed=11)
    path = folder / "ratings.csv"
    data.ratings.to_csv(path, index=False)
    return path


def test_benchmark_quick_writes_the_run_folder_and_the_store(ratings_file, tmp_path) -> None:
    out = tmp_path / "runs" / "first"
    result = _cli("benchmark", "--config", str(TINY), "--dataset", str(ratings_file), "--out",
                  str(out), "--quick", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| model | ndcg@5" in result.stdout  # quick: K = 5 only, primary metric follows
    assert "user-temporal" in result.stdout and "user-random" in result.stdout
    board = pd.read_csv(out / "leaderboard.csv")
    assert set(board["model"]) == {"most-popular", "ease", "bias-baseline"}
    assert (board["status"] == "ok").all()
    for name in ("report.html", "config.toml", "environment.json"):
        assert (out / name).is_file()
    assert (out / "models" / "user-random" / "ease" / "model.json").is_file()
    assert (out / "recommendations" / "user-temporal" / "bias-baseline.csv").is_file()
    resolved = tomllib.loads((out / "config.toml").read_text())
    assert resolved["evaluation"]["k"] == [5] and "quick" not in resolved
    assert (tmp_path / "runs" / "results.duckdb").is_file()

    listed = _cli("runs", "list", "--store", str(tmp_path / "runs" / "results.duckdb"),
                  cwd=tmp_path)
    assert listed.returncode == 0 and "first" in listed.stdout


def test_a_failed_run_leaves_only_the_log_its_error_names(tmp_path) -> None:
    from movielens_lessons.experiments.store import append_run

    runs = tmp_path / "runs"
    board = pd.DataFrame({"protocol": ["p"], "model": ["ease"], "status": ["ok"],
                          "ndcg@10": [0.3], "fit_seconds": [1.0]})
    append_run(runs / "results.duckdb", {
        "run_id": "done-run", "started_at": "2024-01-01T00:00:00+00:00", "wall_seconds": 1.0,
        "name": "n", "dataset": "d", "quick": False, "out_dir": str(runs / "done-run")},
        board, {}, {})
    result = _cli("benchmark", "--config", str(TINY), "--dataset", "missing.csv", "--out",
                  "runs/bad", "--quick", "--no-download", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == (
        "error: run bad failed while loading the data: missing.csv: file not found; "
        "no run folder was kept; traceback in runs/bad.failed/errors.log"), result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in runs.iterdir()) == ["bad.failed", "results.duckdb"]
    assert "Traceback" in (runs / "bad.failed" / "errors.log").read_text()

    listed = _cli("runs", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "done-run" in listed.stdout and "bad" not in listed.stdout
    assert "1 failed run(s), not in the store" in listed.stderr
    assert str(Path("runs") / "bad.failed" / "errors.log") in listed.stderr


def test_runs_compare_prints_deltas(tmp_path) -> None:
    from movielens_lessons.experiments.store import append_run

    store = tmp_path / "results.duckdb"
    for run_id, value in (("a-run", 0.2), ("b-run", 0.25)):
        board = pd.DataFrame({"protocol": ["p"], "model": ["ease"], "status": ["ok"],
                              "ndcg@10": [value], "fit_seconds": [1.0]})
        append_run(store, {"run_id": run_id, "started_at": "2024-01-01T00:00:00+00:00",
                           "wall_seconds": 1.0, "name": "n", "dataset": "d", "quick": False,
                           "out_dir": "x"}, board, {}, {})
    result = CliRunner().invoke(app, ["runs", "compare", "a-run", "b-run", "--store", str(store)])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if "ndcg" in ln)
    assert "0.2000" in line and "0.2500" in line and "0.0500" in line


def test_tune_writes_a_fragment(ratings_file, tmp_path) -> None:
    frag = tmp_path / "ease.toml"
    result = CliRunner().invoke(app, ["tune", "ease", "--trials", "2", "--config", str(TINY),
                                      "--dataset", str(ratings_file), "--out", str(frag)])
    assert result.exit_code == 0, result.output
    table = tomllib.loads(frag.read_text())["models"]["ease"]
    assert "regularization" in table and table["tuned_validation"].startswith("ndcg@10 ")


def test_tune_keeps_the_tuned_protocols_own_settings(ratings_file, tmp_path, monkeypatch) -> None:
    """Unsearched settings come from the first protocol's view of the model, overrides included."""
    from movielens_lessons.experiments import tuning

    config = tmp_path / "cfg.toml"
    config.write_text(
        TINY.read_text()
        + "\n[models.ease.protocols.user-temporal]\nmax_items = 40\n"
        + "[models.ease.protocols.user-random]\nmax_items = 7\n"
    )
    seen = {}

    def fake_tune(model, data, protocol, **kwargs):
        seen.update(protocol=protocol.name, fixed=kwargs["fixed_params"])
        raise SystemExit(0)

    monkeypatch.setattr(tuning, "tune", fake_tune)
    CliRunner().invoke(app, ["tune", "ease", "--trials", "2", "--config", str(config),
                             "--dataset", str(ratings_file)])
    assert seen == {"protocol": "user-temporal", "fixed": {"max_items": 40}}
    seen.clear()
    CliRunner().invoke(app, ["tune", "ease", "--trials", "2", "--config", str(config),
                             "--dataset", str(ratings_file), "--protocol", "user-random"])
    assert seen == {"protocol": "user-random", "fixed": {"max_items": 7}}


def test_tune_help_shows_the_table_name() -> None:
    # rich reads "[...]" in help text as markup and drops it unless escaped
    result = CliRunner().invoke(app, ["tune", "--help"], env={"COLUMNS": "300", "NO_COLOR": "1"})
    assert result.exit_code == 0
    assert "[models.MODEL.protocols.PROTOCOL] table" in result.output


def test_tune_for_a_protocol_writes_its_table(ratings_file, tmp_path) -> None:
    frag = tmp_path / "ease.toml"
    result = CliRunner().invoke(app, ["tune", "ease", "--trials", "2", "--config", str(TINY),
                                      "--dataset", str(ratings_file), "--out", str(frag),
                                      "--protocol", "user-random"])
    assert result.exit_code == 0, result.output
    text = frag.read_text()
    models = tomllib.loads(text)["models"]
    assert list(models["ease"]) == ["protocols"]
    assert list(models["ease"]["protocols"]["user-random"]) == ["regularization"]
    # the fragment pasted into the config is valid there
    config_from_dict({**tomllib.loads(TINY.read_text()), "models": models})


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["benchmark", "--config", "missing.toml"], "missing.toml: configuration file not found"),
        (["runs", "list", "--store", "none.duckdb"], "no results store"),
        (["tune", "random", "--config", str(TINY), "--dataset", "x.csv"], "nothing to tune"),
        (["tune", "ease", "--config", str(TINY), "--dataset", "x.csv"], "x.csv"),
        (["tune", "ease", "--trials", "0", "--config", str(TINY)], "--trials"),
        (["tune", "ease", "--config", str(TINY), "--protocol", "P9"],
         "no protocol 'P9' in the configuration"),
    ],
)
def test_errors_are_one_line(args, needle, tmp_path) -> None:
    result = _cli(*args, cwd=tmp_path)
    assert result.returncode != 0
    # progress lines may come first; the error is one line, the last, and never a traceback
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert sum(ln.startswith("error: ") for ln in lines) == 1
    assert needle in lines[-1]


def test_bad_config_key_is_named(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[dataset]\nname = "x"\n[evaluation]\nkk = [10]\n[models.ease]\n')
    result = _cli("benchmark", "--config", str(bad), cwd=tmp_path)
    assert result.returncode != 0
    assert "unknown key evaluation.kk" in result.stderr and "Traceback" not in result.stderr


def test_mlflow_without_the_package_is_a_one_line_error(tmp_path) -> None:
    import importlib.util

    if importlib.util.find_spec("mlflow") is not None:
        pytest.skip("mlflow is installed")
    result = _cli("benchmark", "--config", str(TINY), "--mlflow", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --mlflow needs the mlflow package; run: pip install mlflow")
