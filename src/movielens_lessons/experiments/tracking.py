"""Optional MLflow logging of a benchmark run (``--mlflow``), into a local file store.

One MLflow run per (protocol, model): its parameters, every leaderboard metric and cost, and the run
folder's ``leaderboard.csv`` and ``report.html`` as artifacts of a parent run. MLflow is not a dependency;
without it ``--mlflow`` is a one-line error saying how to install it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from movielens_lessons.errors import ConfigError
from movielens_lessons.experiments.config import BenchmarkConfig


def import_mlflow():
    """The ``mlflow`` module, or a ConfigError saying how to install it."""
    try:
        import mlflow
    except ImportError:
        raise ConfigError("--mlflow needs the mlflow package; run: pip install mlflow") from None
    return mlflow


def log_to_mlflow(out_dir: Path, run_info: dict[str, Any], board: pd.DataFrame,
                  config: BenchmarkConfig, tracking_dir: Path | None = None) -> None:
    """Log the run to ``file:<tracking_dir>`` (default: ``mlruns/`` next to the run folder)."""
    mlflow = import_mlflow()
    tracking = tracking_dir or out_dir.resolve().parent / "mlruns"
    mlflow.set_tracking_uri(tracking.resolve().as_uri())
    mlflow.set_experiment(f"movielens-lessons/{config.name}")
    with mlflow.start_run(run_name=run_info["run_id"]):
        mlflow.log_params({"dataset": config.dataset, "seed": config.seed,
                           "k": ",".join(map(str, config.k)), "quick": run_info["quick"]})
        for name in ("leaderboard.csv", "report.html", "config.toml", "environment.json"):
            if (out_dir / name).is_file():
                mlflow.log_artifact(str(out_dir / name))
        for row in board.to_dict("records"):
            with mlflow.start_run(run_name=f"{row['protocol']}/{row['model']}", nested=True):
                mlflow.set_tags({"protocol": row["protocol"], "model": row["model"],
                                 "status": row["status"]})
                params = json.loads(row["params"]) if row.get("params") else {}
                if params:
                    mlflow.log_params({k: str(v) for k, v in params.items()})
                metrics = {str(k).replace("@", "_at_"): float(v) for k, v in row.items()
                           if isinstance(v, float) and math.isfinite(v) and k != "rank"}
                if metrics:
                    mlflow.log_metrics(metrics)
