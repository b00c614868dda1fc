"""The results store: every benchmark run appended to one embedded DuckDB file (``runs/results.duckdb``).

Tables: ``runs`` (one row per run: id, times, dataset, config and environment as JSON, output folder) and
``results`` (one row per run × protocol × model × metric: mean and CI bounds; costs are stored as metrics
``fit_seconds``, ``recommend_seconds``, ``peak_memory_mb`` with k NULL). ``runs compare A B`` joins the two.
Only complete runs are stored: a run that fails as a whole leaves just ``<run>.failed/errors.log``
(:mod:`movielens_lessons.experiments.benchmark`), so every row here has its run folder and results.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from movielens_lessons.errors import ConfigError, DataNotFoundError

STORE_NAME = "results.duckdb"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ, wall_seconds DOUBLE, name VARCHAR,
    dataset VARCHAR, quick BOOLEAN, out_dir VARCHAR, n_models INTEGER, n_failed INTEGER,
    n_skipped INTEGER, config JSON, environment JSON);
CREATE TABLE IF NOT EXISTS results (
    run_id VARCHAR, protocol VARCHAR, model VARCHAR, status VARCHAR, metric VARCHAR, k INTEGER,
    mean DOUBLE, ci_low DOUBLE, ci_high DOUBLE);
"""
_COSTS = ("fit_seconds", "recommend_seconds", "predict_seconds", "peak_memory_mb", "rmse", "mae")


def _connect(path: str | os.PathLike[str], read_only: bool = False):
    import duckdb

    p = Path(path)
    if read_only and not p.is_file():
        raise DataNotFoundError(f"{p}: no results store yet; run movielens-lessons benchmark first")
    p.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(p), read_only=read_only)
    if not read_only:
        con.execute(_SCHEMA)
    return con


def _num(v: Any) -> float | None:
    if v is None or v is pd.NA:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def result_rows(run_id: str, board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard in long form: ``run_id, protocol, model, status, metric, k, mean, ci_*``."""
    rows: list[tuple[Any, ...]] = []  # k, ci_low and ci_high are None for the costs
    metric_cols = [c for c in board.columns if "@" in c and not c.endswith(("_ci_low", "_ci_high"))]
    for r in board.to_dict("records"):
        base = (run_id, r["protocol"], r["model"], r["status"])
        for c in metric_cols:
            name, _, k = c.partition("@")
            rows.append((*base, name, int(k), _num(r[c]), _num(r.get(f"{c}_ci_low")),
                         _num(r.get(f"{c}_ci_high"))))
        for c in _COSTS:
            if c in r:
                rows.append((*base, c, None, _num(r[c]), None, None))
    return pd.DataFrame(rows, columns=["run_id", "protocol", "model", "status", "metric", "k",
                                       "mean", "ci_low", "ci_high"])


def append_run(store: str | os.PathLike[str], run_info: dict[str, Any], board: pd.DataFrame,
               config: dict[str, Any], environment: dict[str, Any]) -> None:
    """Add one run (its leaderboard in long form) to the store, creating the file if needed."""
    with _transaction(store) as con:
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_info["run_id"], run_info["started_at"], run_info["wall_seconds"],
             run_info["name"], run_info["dataset"], run_info["quick"], run_info["out_dir"],
             len(board), int((board["status"] == "failed").sum()),
             int((board["status"] == "skipped").sum()), json.dumps(config),
             json.dumps(environment, default=str)],
        )
        rows = result_rows(run_info["run_id"], board)  # noqa: F841 - read by DuckDB by name
        con.execute("INSERT INTO results SELECT * FROM rows")


def remove_run(store: str | os.PathLike[str], run_id: str) -> None:
    """Delete one run and its results (undoes :func:`append_run` when the run folder could not be
    moved into place, so the store never lists a run without its folder)."""
    with _transaction(store) as con:
        con.execute("DELETE FROM results WHERE run_id = ?", [run_id])
        con.execute("DELETE FROM runs WHERE run_id = ?", [run_id])


@contextmanager
def _transaction(store: str | os.PathLike[str]) -> Iterator[Any]:
    """A connection inside one transaction: committed if the block succeeds, rolled back if not."""
    con = _connect(store)
    try:
        con.execute("BEGIN")
        yield con
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        con.close()


def has_run(store: str | os.PathLike[str], run_id: str) -> bool:
    """Whether ``run_id`` is in the store (False when there is no store file yet)."""
    if not Path(store).is_file():
        return False
    con = _connect(store, read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM runs WHERE run_id = ?", [run_id]).fetchone()
        return bool(row and row[0])
    finally:
        con.close()


def list_runs(store: str | os.PathLike[str]) -> pd.DataFrame:
    """Every run, newest first: id, start, wall seconds, name, dataset, quick, model counts, folder."""
    con = _connect(store, read_only=True)
    try:
        return con.execute("""
            SELECT r.run_id, r.started_at, round(r.wall_seconds, 1) AS wall_seconds, r.name,
                   r.dataset, r.quick, r.n_models, r.n_failed, r.n_skipped, r.out_dir
            FROM runs r ORDER BY r.started_at DESC, r.run_id DESC""").df()
    finally:
        con.close()


def resolve_run_id(store: str | os.PathLike[str], run: str) -> str:
    """The full id of ``run``: an exact id, a unique prefix, or ``latest`` / ``previous``."""
    runs = list_runs(store)["run_id"].tolist()
    if run in ("latest", "previous"):
        idx = 0 if run == "latest" else 1
        if len(runs) <= idx:
            raise ConfigError(f"the store has {len(runs)} run(s); there is no {run!r} run")
        return runs[idx]
    if run in runs:
        return run
    matches = [r for r in runs if r.startswith(run)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"no run {run!r} in {store}; see movielens-lessons runs list")
    raise ConfigError(f"run {run!r} is ambiguous: {', '.join(matches[:5])}")


def compare_runs(store: str | os.PathLike[str], run_a: str, run_b: str,
                 metrics: list[str] | None = None) -> pd.DataFrame:
    """Per protocol, model, metric and k: the value in A, in B and ``delta = B − A``."""
    a, b = resolve_run_id(store, run_a), resolve_run_id(store, run_b)
    con = _connect(store, read_only=True)
    try:
        frame = con.execute("""
            SELECT coalesce(x.protocol, y.protocol) AS protocol, coalesce(x.model, y.model) AS model,
                   coalesce(x.metric, y.metric) AS metric, coalesce(x.k, y.k) AS k,
                   x.mean AS value_a, y.mean AS value_b, y.mean - x.mean AS delta
            FROM (SELECT * FROM results WHERE run_id = ?) x
            FULL OUTER JOIN (SELECT * FROM results WHERE run_id = ?) y
              ON x.protocol = y.protocol AND x.model = y.model AND x.metric = y.metric
             AND x.k IS NOT DISTINCT FROM y.k
            ORDER BY protocol, model, metric, k""", [a, b]).df()
    finally:
        con.close()
    if metrics:
        frame = frame[frame["metric"].isin(metrics)]
    frame.attrs["run_a"], frame.attrs["run_b"] = a, b
    return frame.reset_index(drop=True)
