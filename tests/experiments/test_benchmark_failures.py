"""A benchmark run that fails as a whole leaves no run folder, only ``<run>.failed/errors.log``; the
store never lists it; a run that completes is moved into place whole."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from movielens_lessons.errors import ConfigError, DataNotFoundError, RunFailedError
from movielens_lessons.experiments import benchmark
from movielens_lessons.experiments.benchmark import (
    default_out_dir,
    failed_log_path,
    failed_logs,
    run_benchmark,
)
from movielens_lessons.experiments.store import append_run, list_runs


def _cheap(tiny_config, models=("most-popular",), protocols=1):
    """The tiny config cut to ``models`` on its first ``protocols`` protocols."""
    return replace(tiny_config, models=tuple(m for m in tiny_config.models if m.name in models),
                   protocols=tiny_config.protocols[:protocols])


def _seed_store(store: Path) -> None:
    board = pd.DataFrame({"protocol": ["p"], "model": ["ease"], "status": ["ok"],
                          "ndcg@10": [0.3], "fit_seconds": [1.0]})
    append_run(store, {"run_id": "earlier", "started_at": "2024-01-01T00:00:00+00:00",
                       "wall_seconds": 1.0, "name": "n", "dataset": "d", "quick": False,
                       "out_dir": str(store.parent / "earlier")}, board, {}, {})


def _entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_unloadable_dataset_leaves_only_the_named_errors_log(tiny_config, tmp_path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    store = runs / "results.duckdb"
    _seed_store(store)
    config = replace(_cheap(tiny_config), dataset=str(tmp_path / "no-such-ratings.csv"))
    with pytest.raises(RunFailedError) as info:
        run_benchmark(config, runs / "r1", download=False, report=False)
    err = info.value
    log = runs / "r1.failed" / "errors.log"
    assert err.log == log == failed_log_path(runs / "r1")
    message = str(err)
    assert "\n" not in message and message.startswith("run r1 failed while loading the data: ")
    assert "no-such-ratings.csv: file not found" in message and str(log) in message
    assert isinstance(err.__cause__, DataNotFoundError) and err.exit_code == 1
    # no run folder, no staging folder: only the store that was there and the failed run's log
    assert _entries(runs) == ["r1.failed", "results.duckdb"]
    assert _entries(runs / "r1.failed") == ["errors.log"]
    text = log.read_text()
    assert text.splitlines()[0] == message.split("; no run folder")[0]
    assert "Traceback (most recent call last)" in text and "DataNotFoundError" in text
    # the store still holds only the completed run
    assert list(list_runs(store)["run_id"]) == ["earlier"]
    assert failed_logs(runs) == [log]


def test_failure_after_the_models_ran_keeps_their_tracebacks_in_the_log(
        tiny_config, synth_data, tmp_path, monkeypatch) -> None:
    # pure-svd fails inside the run (logged per model); then the run itself fails
    config = _cheap(tiny_config, ("most-popular", "pure-svd"))
    config = replace(config, models=tuple(replace(m, params={"n_factors": 0})
                                          if m.name == "pure-svd" else m for m in config.models))

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(benchmark, "write_leaderboard", broken)
    with pytest.raises(RunFailedError, match=r"while writing the leaderboard: .*No space left"):
        run_benchmark(config, tmp_path / "r2", dataset=synth_data, report=False)
    assert _entries(tmp_path) == ["r2.failed"]  # no store either: nothing was recorded
    text = (tmp_path / "r2.failed" / "errors.log").read_text()
    assert "OSError" in text and "Earlier, models that failed inside the run" in text
    assert "pure-svd" in text


def test_store_failure_keeps_no_folder_and_no_row(tiny_config, synth_data, tmp_path,
                                                  monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(benchmark, "append_run", broken)
    with pytest.raises(RunFailedError, match=r"while recording the run in .*RuntimeError"):
        run_benchmark(_cheap(tiny_config), tmp_path / "r3", dataset=synth_data, report=False)
    assert _entries(tmp_path) == ["r3.failed"]


def test_a_failed_rename_takes_the_run_back_out_of_the_store(tiny_config, synth_data, tmp_path,
                                                             monkeypatch) -> None:
    real_replace = os.replace

    def replace_but_not_the_run(src, dst):
        if Path(src).name.startswith(".r4.partial-"):  # model saves still go through
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_but_not_the_run)
    store = tmp_path / "results.duckdb"
    _seed_store(store)
    with pytest.raises(RunFailedError, match="while moving the run folder"):
        run_benchmark(_cheap(tiny_config), tmp_path / "r4", dataset=synth_data, report=False)
    assert list(list_runs(store)["run_id"]) == ["earlier"]
    assert _entries(tmp_path) == ["r4.failed", "results.duckdb"]


def test_interrupt_discards_the_partial_run_without_a_log(tiny_config, synth_data, tmp_path,
                                                          monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(benchmark, "run_protocols", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(_cheap(tiny_config), tmp_path / "r5", dataset=synth_data, report=False)
    assert _entries(tmp_path) == []


def test_existing_folder_is_refused_before_any_work(tiny_config, synth_data, tmp_path) -> None:
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="taken: already exists"):
        run_benchmark(_cheap(tiny_config), out, dataset=synth_data, report=False)
    assert _entries(tmp_path) == ["taken"] and _entries(out) == ["notes.txt"]


def test_run_id_already_in_the_store_is_refused_before_any_work(tiny_config, synth_data,
                                                                 tmp_path) -> None:
    _seed_store(tmp_path / "results.duckdb")
    with pytest.raises(ConfigError, match="already holds a run 'earlier'"):
        run_benchmark(_cheap(tiny_config), tmp_path / "earlier", dataset=synth_data, report=False)
    assert _entries(tmp_path) == ["results.duckdb"]


def test_successful_run_is_moved_into_place_whole(tiny_config, synth_data, tmp_path) -> None:
    runs = tmp_path / "runs"
    out = runs / "ok"
    out.mkdir(parents=True)  # an empty folder may be named as the run folder
    # an earlier failed attempt at the same folder: its log is out of date once the run stands
    failed_log_path(out).parent.mkdir()
    failed_log_path(out).write_text("old failure\n")
    result = run_benchmark(_cheap(tiny_config, ("most-popular", "ease")), out, dataset=synth_data)
    assert result.out_dir == out and result.run_id == "ok"
    assert _entries(runs) == ["ok", "results.duckdb"]  # no staging folder, no stale log
    for name in ("config.toml", "environment.json", "run.json", "leaderboard.csv",
                 "leaderboard.json", "per_user.csv.gz", "report.html"):
        assert (out / name).is_file(), name
    assert list(list_runs(result.store)["run_id"]) == ["ok"]
    assert result.run_info["out_dir"] == str(out.resolve())
    # paths written while staging name the final folder
    assert f"--config {out / 'config.toml'}" in (out / "report.html").read_text()
    assert f"--config {out / 'config.toml'}" in (out / "config.toml").read_text()
    for run in result.protocols[0].models:
        assert run.artifact_path is not None and run.artifact_path.is_dir()
        assert run.artifact_path.parent.parent.parent == out
        assert run.recommendations_path is not None and run.recommendations_path.is_file()


def test_default_folder_skips_names_of_failed_runs(tmp_path) -> None:
    first = default_out_dir(tmp_path)
    failed_log_path(first).parent.mkdir()
    second = default_out_dir(tmp_path)
    # unless the clock ticked over in between, the same stamp gets a suffix
    assert second != first and not failed_log_path(second).parent.exists()
