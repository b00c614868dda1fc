"""One benchmark run end to end: data → splits → models → leaderboard → report → results store.

The run folder holds everything needed to read and redo the run::

    config.toml          the resolved configuration (``--quick`` applied): rerun with --config
    environment.json     versions, threads, machine, commit
    run.json             run id, times, dataset fingerprint, each protocol's split sizes and fingerprints
    leaderboard.csv/json metric means with CI bounds, costs, p vs best
    per_user.csv.gz      every per-user value (the figures and paired tests are drawn from it)
    report.html          self-contained report; figures/*.png the same figures
    splits/P/{train,test}.csv, recommendations/P/MODEL.csv, models/P/MODEL/   (P = protocol)
    explanations/P/MODEL.json   gain importance and one recommendation's feature contributions, for
                         models with ``feature_importance()`` (the XGBoost models)
    errors.log           tracebacks of the models that failed (each is a ``failed`` leaderboard row)

A run folder exists only complete: the run is written to a hidden staging folder beside it
(``.<run>.partial-*``), recorded in the results store, and then renamed into place. A run that fails as
a whole (data that cannot be loaded, a full disk, a bug outside a model) discards the staging folder
and leaves only ``<run>.failed/errors.log`` (:func:`failed_log_path`: its one-line message, then the
traceback), which the :class:`~movielens_lessons.errors.RunFailedError` names; the store and ``runs
list`` never see it. A single model that fails does not fail the run.

Reproducibility: splits, bootstrap resamples and paired tests are seeded from the config; every model
with a ``random_state`` gets the config's ``seed`` unless its table sets one. Two runs of the same config
give the same leaderboard metrics (checked: all 336 metric values of two ``--quick`` runs on
ml-latest-small were equal, with implicit's ALS on all cores). What can differ: timings and memory, and,
in principle, the last float bits of multithreaded native code whose reduction order depends on the
thread count (OpenBLAS in EASE / PureSVD, implicit's ALS with ``num_threads=0``, LightFM or BPR with
``num_threads > 1``, which are Hogwild-style and *not* deterministic); pin ``OMP_NUM_THREADS`` /
``OPENBLAS_NUM_THREADS`` and keep ``num_threads = 1`` for BPR and LightFM (their defaults) to rule that
out. ``environment.json`` records the thread pools that ran.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, MovieLensError, RunFailedError
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.environment import environment
from movielens_lessons.experiments.leaderboard import build_leaderboard, write_leaderboard
from movielens_lessons.experiments.runner import (
    ProtocolRun,
    one_line,
    per_user_frame,
    run_protocols,
)
from movielens_lessons.experiments.store import STORE_NAME, append_run, has_run, remove_run

Progress = Callable[[str], None]

_FAILED = ".failed"  # suffix of the folder beside a failed run's would-be folder
_ERRORS_LOG = "errors.log"


@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` produced."""

    run_id: str
    out_dir: Path
    config: BenchmarkConfig
    leaderboard: pd.DataFrame
    protocols: list[ProtocolRun]
    run_info: dict[str, Any]
    store: Path | None


def default_out_dir(root: str | os.PathLike[str] = "runs") -> Path:
    """``runs/<UTC timestamp>`` (``-2``, ``-3``... appended if that run, or a failed one, exists)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(root) / stamp
    n = 2
    while out.exists() or failed_log_path(out).parent.exists():
        out = Path(root) / f"{stamp}-{n}"
        n += 1
    return out


def failed_log_path(out: str | os.PathLike[str]) -> Path:
    """Where a run meant for ``out`` that failed leaves its traceback: ``<out>.failed/errors.log``.

    A sibling of the run folder, so it is found next to it; its name is never a run id, and it holds
    no ``run.json`` or ``config.toml``, so nothing mistakes it for a run.
    """
    out = Path(out)
    return out.with_name(f"{out.name}{_FAILED}") / _ERRORS_LOG


def failed_logs(root: str | os.PathLike[str]) -> list[Path]:
    """The ``errors.log`` of every failed run in the folder ``root``, newest run id first."""
    return sorted(Path(root).glob(f"*{_FAILED}/{_ERRORS_LOG}"), reverse=True)


def load_benchmark_data(config: BenchmarkConfig, data_dir: str | os.PathLike[str] | None = None,
                        download: bool = True) -> Dataset:
    """The configured dataset (a release name or a ratings file)."""
    from movielens_lessons.data.loading import load_dataset

    return load_dataset(config.dataset, data_dir=data_dir or config.data_dir, download=download,
                        positive_threshold=config.positive_threshold)


def run_benchmark(
    config: BenchmarkConfig,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    dataset: Dataset | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    quick: bool = False,
    store: str | os.PathLike[str] | bool | None = None,
    mlflow: bool = False,
    report: bool = True,
    progress: Progress | None = None,
    spark_master: str | None = None,
) -> BenchmarkResult:
    """Run ``config`` and write the run folder (see the module docstring).

    ``store``: the DuckDB results file (default ``<parent of out_dir>/results.duckdb``; ``False``: none).
    ``dataset`` overrides loading the configured one (tests pass a synthetic Dataset).
    ``report=False`` skips ``report.html`` and the figures (the slowest step on small data).
    ``spark_master``: the master URL of an ``engine = "spark"`` run (over the config's).
    ``out_dir`` must not exist yet, or be an empty folder (``ConfigError`` before any work).
    Any failure after that raises :class:`RunFailedError` and leaves only ``<out_dir>.failed/errors.log``.
    """
    start = time.perf_counter()
    started_at = datetime.now(timezone.utc)
    if quick:
        config = config.quick_version()
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    run_id = out.name
    store_path = _store_path(store, out)
    _check_destination(out, store_path)  # before any work: these need no log, nothing is written
    say = progress or (lambda _: None)

    # The run is written to a hidden staging folder beside ``out`` and renamed into place only when
    # it is complete (and recorded in the store), as ``save_model`` does: whatever stops it, even a
    # kill, never leaves a folder under the run's name that looks like a run.
    stage = out.parent / f".{run_id}.partial-{uuid.uuid4().hex[:8]}"
    step = "creating the run folder"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage.mkdir()  # not mkdtemp: the run folder keeps the usual permissions, not owner-only
        step = "writing the environment and configuration"
        env = environment()
        (stage / "environment.json").write_text(json.dumps(env, indent=2, default=str) + "\n")
        config_dict = config.to_dict()
        header = (f"# Resolved configuration of run {run_id} ({started_at:%Y-%m-%d %H:%M} UTC).\n"
                  f"# Rerun: movielens-lessons benchmark --config {out / 'config.toml'}\n")
        (stage / "config.toml").write_text(header + tomli_w.dumps(config_dict), encoding="utf-8")

        if config.engine == "spark":
            step = "running the job in Spark"  # reading, splitting, models: errors name the step
            if download:
                _ensure_local_release(config, data_dir)
            from movielens_lessons.experiments.spark_engine import run_protocols_spark

            protocols, data_info = run_protocols_spark(config, stage, progress,
                                                       data_dir=data_dir, master=spark_master)
        else:
            if dataset is None:
                step = "loading the data"  # the error names the file or release
                say(f"loading {config.dataset}")
                dataset = load_benchmark_data(config, data_dir, download)
            step = "running the models"
            protocols = run_protocols(config, dataset, stage, progress)
            data_info = {"dataset_name": dataset.name,
                         "dataset_fingerprint": dataset.fingerprint(),
                         "n_interactions": dataset.n_interactions}
        step = "building the leaderboard"
        board = build_leaderboard(config, protocols)
        per_user = per_user_frame(protocols)
        per_user.to_csv(stage / "per_user.csv.gz", index=False, float_format="%.6g")
        train_eval_seconds = time.perf_counter() - start

        run_info: dict[str, Any] = {
            "run_id": run_id, "name": config.name, "dataset": config.dataset,
            "engine": config.engine, **data_info, "started_at": started_at.isoformat(
                timespec="seconds"), "quick": quick, "out_dir": str(out.resolve()),
            "seed": config.seed, "k": list(config.k), "primary_metric": config.primary_metric,
            "alpha": config.alpha, "n_bootstrap": config.n_bootstrap,
            "train_eval_seconds": train_eval_seconds, "wall_seconds": train_eval_seconds,
            "protocols": [p.summary() for p in protocols],
        }
        if report:
            step = "drawing the report"
            say(step)
            from movielens_lessons.experiments.report import write_report

            write_report(stage, config, board, protocols, per_user, run_info, env, run_dir=out)
        step = "writing the leaderboard"
        run_info["wall_seconds"] = time.perf_counter() - start
        write_leaderboard(board, stage, run_info)
        (stage / "run.json").write_text(json.dumps(run_info, indent=2) + "\n", encoding="utf-8")

        if store_path is not None:
            step = f"recording the run in {store_path}"
            append_run(store_path, run_info, board, config_dict, env)
        step = f"moving the run folder to {out}"
        _move_into_place(stage, out, store_path, run_id)
    except Exception as exc:
        raise _run_failed(stage, out, step, started_at, exc) from exc
    except BaseException:  # Ctrl-C: discard the partial run; Click reports "Aborted!"
        shutil.rmtree(stage, ignore_errors=True)
        raise
    _retarget(protocols, stage, out)
    _remove_stale_failure(out)

    if mlflow:
        from movielens_lessons.experiments.tracking import log_to_mlflow

        log_to_mlflow(out, run_info, board, config)
    return BenchmarkResult(run_id, out, config, board, protocols, run_info, store_path)


def _ensure_local_release(config: BenchmarkConfig, data_dir: str | os.PathLike[str] | None
                          ) -> None:
    """Download a release named by the config into the local data folder if it is missing (Spark
    reads it from there); a file, a folder or a cluster URI is read as it is."""
    from movielens_lessons.data.download import ensure_release
    from movielens_lessons.data.releases import RELEASES

    if config.dataset in RELEASES:
        ensure_release(config.dataset, data_dir or config.data_dir)


def _store_path(store: str | os.PathLike[str] | bool | None, out: Path) -> Path | None:
    if store is False:
        return None
    if store is None or store is True:
        return out.resolve().parent / STORE_NAME
    return Path(store)


def _check_destination(out: Path, store: Path | None) -> None:
    """One-line errors for a run folder that cannot be written, raised before any work."""
    if out.name in ("", ".", ".."):
        raise ConfigError(f"{out}: the run folder must have a name (e.g. runs/my-run)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        # never merge into, or replace, a folder we did not write (it could be anything)
        raise ConfigError(f"{out}: already exists; choose another --out or remove it")
    if store is not None and has_run(store, out.name):
        raise ConfigError(f"{store} already holds a run {out.name!r}; choose another --out")


def _move_into_place(stage: Path, out: Path, store: Path | None, run_id: str) -> None:
    """Rename the complete staging folder to ``out`` (same parent: one atomic rename)."""
    try:
        if out.is_dir():
            out.rmdir()  # an empty folder named with --out; rename onto it is not portable
        os.replace(stage, out)
    except BaseException:
        if store is not None:
            remove_run(store, run_id)  # the store lists no run without its folder
        raise


def _run_failed(stage: Path, out: Path, step: str, started_at: datetime,
                exc: Exception) -> RunFailedError:
    """Discard the staging folder, write ``<out>.failed/errors.log`` and return the one-line error."""
    # the per-model tracebacks logged so far go into the one log that is kept
    model_errors = ""
    with contextlib.suppress(OSError):
        model_errors = (stage / "errors.log").read_text(encoding="utf-8")
    shutil.rmtree(stage, ignore_errors=True)
    message = f"run {out.name} failed while {step}: {one_line(exc)}"
    log = failed_log_path(out)
    now = datetime.now(timezone.utc)
    text = (f"{message}\n"
            f"started {started_at:%Y-%m-%d %H:%M:%S} UTC, failed {now:%Y-%m-%d %H:%M:%S} UTC; "
            f"nothing was kept of the run folder {out}\n\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            + (f"\nEarlier, models that failed inside the run:\n{model_errors}"
               if model_errors else ""))
    code = exc.exit_code if isinstance(exc, MovieLensError) else 1
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(text, encoding="utf-8")
    except OSError as log_exc:  # e.g. the runs folder itself is not writable
        return RunFailedError(f"{message}; no run folder was kept (nor a log: {one_line(log_exc)})",
                              None, code)
    return RunFailedError(f"{message}; no run folder was kept; traceback in {log}", log, code)


def _retarget(protocols: list[ProtocolRun], stage: Path, out: Path) -> None:
    """Point the model runs' file paths, written under ``stage``, at the renamed folder."""
    for p in protocols:
        for m in p.models:
            for name in ("recommendations_path", "artifact_path", "explanation_path"):
                path = getattr(m, name)
                if path is not None:
                    setattr(m, name, out / Path(path).relative_to(stage))


def _remove_stale_failure(out: Path) -> None:
    """A run now stands at ``out``: an earlier failed attempt's log there is out of date."""
    log = failed_log_path(out)
    if log.is_file():
        log.unlink()
        with contextlib.suppress(OSError):  # kept if someone put other files there
            log.parent.rmdir()
