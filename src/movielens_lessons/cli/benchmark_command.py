"""``benchmark`` (the main job), ``runs list`` / ``runs compare`` and ``tune``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import typer

from movielens_lessons.cli.app import app, err_console

runs_app = typer.Typer(help="List and compare benchmark runs in the results store.",
                       no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _config(path: Path | None, dataset: str | None):
    from dataclasses import replace

    from movielens_lessons.experiments.config_loading import default_config_path, load_config

    config = load_config(path if path is not None else default_config_path())
    if dataset is not None:
        config = replace(config, dataset=dataset, name=f"{config.name} on {dataset}")
    return config


def _progress(start: float):
    def say(message: str) -> None:
        err_console.print(f"[{time.perf_counter() - start:6.1f}s] {message}", markup=False)

    return say


@app.command("benchmark")
def benchmark_command(
    config: Path | None = typer.Option(
        None, "--config", help="TOML config (default: experiments/ml-latest-small.toml)."
    ),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Release name or ratings file, instead of the config's."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Run folder, new or empty (default: runs/<timestamp>/)."
    ),
    quick: bool = typer.Option(False, "--quick", help="The config's \\[quick] variant: small K grid."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where releases are looked for."),
    no_download: bool = typer.Option(False, "--no-download", help="Fail if the data is missing."),
    store: Path | None = typer.Option(
        None, "--store", help="DuckDB results file (default: results.duckdb next to the run folder)."
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Do not append to the results store."),
    mlflow: bool = typer.Option(False, "--mlflow", help="Also log to MLflow (local file store)."),
    spark_master: str | None = typer.Option(
        None, "--spark-master",
        help="Spark master URL for an engine = \"spark\" config (over its \\[spark] master and "
             "$SPARK_MASTER, over spark-submit's master; default local[*])."),
) -> None:
    """Train and evaluate every configured model on every protocol; write leaderboard and report.

    A config with engine = "spark" runs the whole job in Spark (see docs/spark.md)."""
    from movielens_lessons.experiments.benchmark import run_benchmark
    from movielens_lessons.experiments.leaderboard import markdown_table

    start = time.perf_counter()
    cfg = _config(config, dataset)
    if mlflow:
        from movielens_lessons.experiments.tracking import import_mlflow

        import_mlflow()  # fail before the work, not after it
    result = run_benchmark(cfg, out, data_dir=data_dir, download=not no_download, quick=quick,
                           store=False if no_store else store, mlflow=mlflow,
                           progress=_progress(start), spark_master=spark_master)
    for protocol in result.config.protocols:
        typer.echo(f"\n{protocol.name}\n")
        typer.echo(markdown_table(result.leaderboard, result.config, protocol.name))
    board = result.leaderboard
    skipped = board[board["status"] == "skipped"]
    failed = board[board["status"] == "failed"]
    err_console.print(
        f"\n{result.run_id}: {len(board) - len(skipped) - len(failed)} model runs ok, "
        f"{len(skipped)} skipped, {len(failed)} failed in {result.run_info['wall_seconds']:.0f} s; "
        f"report: {result.out_dir / 'report.html'}", markup=False)
    for r in skipped.drop_duplicates("model").itertuples():
        err_console.print(f"skipped {r.model}: {r.message}", markup=False)


def _store_path(store: Path | None) -> Path:
    from movielens_lessons.experiments.store import STORE_NAME

    return store if store is not None else Path("runs") / STORE_NAME


@runs_app.command("list")
def runs_list(
    store: Path | None = typer.Option(None, "--store", help="Results file (runs/results.duckdb)."),
) -> None:
    """Every run in the results store, newest first; then the logs of runs that failed beside it."""
    from rich.console import Console
    from rich.table import Table

    from movielens_lessons.experiments.benchmark import failed_logs
    from movielens_lessons.experiments.store import list_runs

    path = _store_path(store)
    frame = list_runs(path)
    table = Table("run", "started (UTC)", "wall s", "name", "dataset", "quick", "models", "failed",
                  "skipped")
    r: Any  # a row of list_runs (pandas-stubs type each field as any scalar)
    for r in frame.itertuples():
        table.add_row(r.run_id, str(r.started_at)[:19], f"{r.wall_seconds:.0f}", r.name, r.dataset,
                      "yes" if r.quick else "", str(r.n_models), str(r.n_failed), str(r.n_skipped))
    Console(highlight=False, width=200).print(table)
    # a run that failed as a whole is not in the store (it has no results); its log is the record
    logs = failed_logs(path.parent)
    if logs:
        err_console.print(f"{len(logs)} failed run(s), not in the store; their logs:", markup=False)
        for log in logs:
            err_console.print(f"  {log}", markup=False)


@runs_app.command("compare")
def runs_compare(
    run_a: str = typer.Argument(..., help="Run id (or unique prefix, or 'previous')."),
    run_b: str = typer.Argument(..., help="Run id (or unique prefix, or 'latest')."),
    metric: list[str] = typer.Option(
        [], "--metric", help="Only these metrics (repeat), e.g. ndcg, fit_seconds."
    ),
    store: Path | None = typer.Option(None, "--store", help="Results file (runs/results.duckdb)."),
) -> None:
    """Metric deltas (B − A) per protocol, model, metric and K."""
    from rich.console import Console
    from rich.table import Table

    from movielens_lessons.experiments.store import compare_runs

    frame = compare_runs(_store_path(store), run_a, run_b, metric or None)
    table = Table("protocol", "model", "metric", "k", frame.attrs["run_a"], frame.attrs["run_b"],
                  "delta", title=f"{frame.attrs['run_b']} − {frame.attrs['run_a']}")

    import pandas as pd

    def fmt(v) -> str:
        return "–" if pd.isna(v) else f"{v:.4f}"

    r: Any  # a row of compare_runs (pandas-stubs type each field as any scalar)
    for r in frame.itertuples():
        k = "" if pd.isna(r.k) else str(int(r.k))
        table.add_row(r.protocol, r.model, r.metric, k, fmt(r.value_a), fmt(r.value_b),
                      fmt(r.delta))
    Console(highlight=False, width=200).print(table)


@app.command("tune")
def tune_command(
    model: str = typer.Argument(..., help="Model name (see: movielens-lessons models)."),
    trials: int = typer.Option(
        20, "--trials", help="Optuna trials (a model with a small grid stops once each point is tried)."
    ),
    metric: str = typer.Option("ndcg@10", "--metric", help="METRIC@K to maximise, or rmse / mae."),
    timeout: float | None = typer.Option(None, "--timeout", help="Stop after this many seconds."),
    config: Path | None = typer.Option(
        None, "--config", help="Config giving dataset, protocol and seed (default: the shipped one)."
    ),
    dataset: str | None = typer.Option(None, "--dataset", help="Release or ratings file instead."),
    validation_size: float = typer.Option(
        0.2, "--validation-size", help="Share of each training part held out for validation."
    ),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Where releases are looked for."),
    out: Path | None = typer.Option(None, "--out", help="Write the TOML fragment to this file."),
    protocol: str | None = typer.Option(
        None, "--protocol",
        help="Tune for this protocol of the config (default: the first); the fragment then is a "
             "\\[models.MODEL.protocols.PROTOCOL] table.",  # escaped, or rich reads it as markup
    ),
) -> None:
    """Tune MODEL on a validation split carved from the training data (never the test split)."""
    from movielens_lessons.experiments.benchmark import load_benchmark_data
    from movielens_lessons.experiments.tuning import check_request, shell_command, tune

    start = time.perf_counter()
    check_request(model, metric, trials)  # before loading any data
    cfg = _config(config, dataset)
    say = _progress(start)
    say(f"loading {cfg.dataset}")
    proto = cfg.protocols[0] if protocol is None else cfg.protocol(protocol)
    data = load_benchmark_data(cfg, data_dir)
    fixed = {}
    if any(m.name == model for m in cfg.models):
        # keep settings that are not searched (threads, feature sets) as the config has them on the
        # protocol tuned on, per-protocol overrides included (e.g. the ranker's label window)
        from movielens_lessons.experiments.tuning import SEARCH_SPACES

        searched = _searched_names(SEARCH_SPACES.get(model))
        on_protocol = cfg.model(model).params_for(proto.name)
        fixed = {k: v for k, v in on_protocol.items() if k not in searched}
    result = tune(model, data, proto, trials=trials, metric=metric, timeout=timeout,
                  seed=cfg.seed, validation_size=validation_size, fixed_params=fixed,
                  relevance_threshold=cfg.relevance_threshold,
                  command=shell_command(sys.argv[1:]) if sys.argv[1:2] == ["tune"] else None,
                  progress=say)
    fragment = result.to_toml(protocol=protocol)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(fragment, encoding="utf-8")
    typer.echo(fragment, nl=False)
    err_console.print(
        f"validation {metric}: untuned defaults {result.default_value:.4f} → tuned "
        f"{result.best_value:.4f} ({'improved' if result.improved else 'not improved'})",
        markup=False)


def _searched_names(space) -> set[str]:
    """Parameter names a search space sets (found by running it on a recording stub trial)."""
    if space is None:
        return set()

    class Stub:
        def suggest_int(self, name, low, high, **_):
            return low

        def suggest_float(self, name, low, high, **_):
            return low

        def suggest_categorical(self, name, choices):
            return choices[0]

    return set(space(Stub()))
