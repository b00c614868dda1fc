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

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.environment import environment
from movielens_lessons.experiments.leaderboard import build_leaderboard, write_leaderboard
from movielens_lessons.experiments.runner import ProtocolRun, per_user_frame, run_protocols
from movielens_lessons.experiments.store import STORE_NAME, append_run

Progress = Callable[[str], None]


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
    """``runs/<UTC timestamp>`` (``-2``, ``-3``... appended if it already exists)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(root) / stamp
    n = 2
    while out.exists():
        out = Path(root) / f"{stamp}-{n}"
        n += 1
    return out


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
) -> BenchmarkResult:
    """Run ``config`` and write the run folder (see the module docstring).

    ``store``: the DuckDB results file (default ``<parent of out_dir>/results.duckdb``; ``False``: none).
    ``dataset`` overrides loading the configured one (tests pass a synthetic Dataset).
    ``report=False`` skips ``report.html`` and the figures (the slowest step on small data).
    """
    start = time.perf_counter()
    started_at = datetime.now(timezone.utc)
    if quick:
        config = config.quick_version()
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    out.mkdir(parents=True, exist_ok=True)
    run_id = out.name
    say = progress or (lambda _: None)

    env = environment()
    (out / "environment.json").write_text(json.dumps(env, indent=2, default=str) + "\n")
    config_dict = config.to_dict()
    header = (f"# Resolved configuration of run {run_id} ({started_at:%Y-%m-%d %H:%M} UTC).\n"
              f"# Rerun: movielens-lessons benchmark --config {out / 'config.toml'}\n")
    (out / "config.toml").write_text(header + tomli_w.dumps(config_dict), encoding="utf-8")

    if dataset is None:
        say(f"loading {config.dataset}")
        dataset = load_benchmark_data(config, data_dir, download)
    protocols = run_protocols(config, dataset, out, progress)
    board = build_leaderboard(config, protocols)
    per_user = per_user_frame(protocols)
    per_user.to_csv(out / "per_user.csv.gz", index=False, float_format="%.6g")
    train_eval_seconds = time.perf_counter() - start

    run_info: dict[str, Any] = {
        "run_id": run_id, "name": config.name, "dataset": config.dataset,
        "dataset_name": dataset.name, "dataset_fingerprint": dataset.fingerprint(),
        "n_interactions": dataset.n_interactions, "started_at": started_at.isoformat(
            timespec="seconds"), "quick": quick, "out_dir": str(out.resolve()), "seed": config.seed,
        "k": list(config.k), "primary_metric": config.primary_metric, "alpha": config.alpha,
        "n_bootstrap": config.n_bootstrap, "train_eval_seconds": train_eval_seconds,
        "wall_seconds": train_eval_seconds, "protocols": [p.summary() for p in protocols],
    }
    if report:
        say("drawing the report")
        from movielens_lessons.experiments.report import write_report

        write_report(out, config, board, protocols, per_user, run_info, env)
    run_info["wall_seconds"] = time.perf_counter() - start
    write_leaderboard(board, out, run_info)
    (out / "run.json").write_text(json.dumps(run_info, indent=2) + "\n", encoding="utf-8")

    store_path = None
    if store is not False:
        if store is None or store is True:
            store_path = out.resolve().parent / STORE_NAME
        else:
            store_path = Path(store)
        append_run(store_path, run_info, board, config_dict, env)
    if mlflow:
        from movielens_lessons.experiments.tracking import log_to_mlflow

        log_to_mlflow(out, run_info, board, config)
    return BenchmarkResult(run_id, out, config, board, protocols, run_info, store_path)
