"""``movielens-lessons split``: split a ratings file into train/test CSVs and report the leakage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import typer

from movielens_lessons import columns as C
from movielens_lessons.cli.app import app
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import STRATEGIES, resolve_strategy, split_all
from movielens_lessons.data.splits import Split
from movielens_lessons.errors import ConfigError


def _ratings_frame(ds: Dataset) -> pd.DataFrame:
    """``ds`` in the ``ratings.csv`` layout; ratings as in MovieLens files (``4.0``, ``3.5``)."""
    frame = ds.to_frame()
    if C.RATING in frame.columns:
        # float32 → float64 would print 3.700000047683716; rounding restores the source's decimals.
        frame[C.RATING] = np.round(frame[C.RATING].to_numpy(np.float64), 4)
    return frame[[c for c in C.RATINGS_COLUMNS if c in frame.columns]]


def _write_split(result: Split, folder: Path, source: str) -> dict:
    """Write each part's CSV and ``split.json`` into ``folder``; return the JSON summary."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for stem, part in result.parts().items():
        _ratings_frame(part).to_csv(folder / f"{stem}.csv", index=False)
        counts[stem] = len(part)
    summary = {
        "source": source,
        "strategy": result.strategy,
        "params": result.params,
        "counts": counts,
        "leakage": result.leakage.to_dict(),
    }
    (folder / "split.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _option(param: str) -> str:
    return "--" + param.replace("_", "-")


def _as_cli_message(message: str, params: dict) -> str:
    """Reword a library ConfigError in terms of CLI options (``--test-size``, not ``test_size``)."""
    for key in params:
        message = message.replace(f"parameter {key!r}", f"option {_option(key)}")
        if message.startswith(f"{key} "):
            message = _option(key) + message[len(key):]
    head, sep, accepted = message.partition("; it takes: ")
    if sep:
        message = f"{head}; it takes: " + ", ".join(_option(p) for p in accepted.split(", "))
    return message


@app.command("split")
def split_command(
    ratings: Path = typer.Option(..., "--ratings", help="A ratings.csv (userId,movieId,rating,timestamp)."),
    strategy: str = typer.Option(..., "--strategy", help=f"One of: {', '.join(STRATEGIES)}."),
    out: Path = typer.Option(..., "--out", help="Folder for train.csv, test.csv, ... and split.json."),
    test_size: float | None = typer.Option(None, "--test-size", help="Test share, in (0, 1)."),
    leave_last: int | None = typer.Option(
        None, "--leave-last", help="user-temporal: each user's last N interactions go to test."
    ),
    at: str | None = typer.Option(
        None, "--at", help="temporal: cut date (ISO, UTC) or epoch seconds; from then on is test."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (random strategies; default 42)."),
    validation_size: float | None = typer.Option(
        None, "--validation-size", help="Share of the TRAIN part carved out as validation."
    ),
    min_train: int | None = typer.Option(
        None, "--min-train", help="user-random / user-temporal: rows each user keeps in train."
    ),
    n_splits: int | None = typer.Option(None, "--n-splits", help="user-kfold: number of folds."),
    test_users: float | None = typer.Option(
        None, "--test-users", help="strong-generalization: share of users held out."
    ),
    fold_in: float | None = typer.Option(
        None, "--fold-in", help="strong-generalization: share of a held-out user's data given as history."
    ),
) -> None:
    """Split interactions into train/test (and validation or fold-in) and print the leakage report."""
    from movielens_lessons.data.readers import read_ratings_csv  # lazy: pandas/pyarrow reading

    name = strategy.strip().lower().replace("_", "-")
    given = {
        "test_size": test_size,
        "leave_last": leave_last,
        "at": at,
        "seed": seed,
        "validation_size": validation_size,
        "min_train": min_train,
        "n_splits": n_splits,
        "test_users": test_users,
        "fold_in": fold_in,
    }
    params = {k: v for k, v in given.items() if v is not None}
    try:
        # Names first, before reading the file: a typo should fail fast.
        resolve_strategy(name, params)
        frame = read_ratings_csv(ratings)
        dataset = Dataset.from_frame(frame, name=ratings.stem, source=str(ratings))
        results = split_all(dataset, name, **params)
    except ConfigError as exc:  # name the CLI option, not the Python parameter
        raise ConfigError(_as_cli_message(str(exc), params)) from exc

    if len(results) == 1:
        summary = _write_split(results[0], out, str(ratings))
        typer.echo(f"{name} split of {ratings} → {out}: " + ", ".join(
            f"{stem} {n:,}" for stem, n in summary["counts"].items()))
        for line in results[0].leakage.lines():
            typer.echo(f"  {line}")
        return

    folds = []
    for k, result in enumerate(results, start=1):
        summary = _write_split(result, out / f"fold-{k}", str(ratings))
        folds.append({"fold": k, "counts": summary["counts"], "leakage": summary["leakage"]})
        typer.echo(f"fold {k} → {out / f'fold-{k}'}: " + ", ".join(
            f"{stem} {n:,}" for stem, n in summary["counts"].items()))
        for line in result.leakage.lines():
            typer.echo(f"  {line}")
    params = {k: v for k, v in results[0].params.items() if k != "fold"}
    top = {"source": str(ratings), "strategy": name, "params": params, "folds": folds}
    out.mkdir(parents=True, exist_ok=True)
    (out / "split.json").write_text(json.dumps(top, indent=2) + "\n", encoding="utf-8")
