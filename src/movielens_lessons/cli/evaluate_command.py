"""``movielens-lessons evaluate``: score a recommendations or predictions file against a test split.

Top-K mode (``--train --test --recs``): train and test are read into Datasets over the same id maps (the
union of their ids). Recommended items in neither file are unknown: they fill a slot (they lower precision
and count towards novelty as never-seen items) but are never hits and are outside the training catalogue
(coverage, Gini). Recommended items that occur only in the test file are known and can be hits.
Recommendations for users who are not in the test file are ignored.
Prediction mode (``--test --predictions``): RMSE, MAE and the share of test pairs predicted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer

from movielens_lessons import columns as C
from movielens_lessons.cli.app import app, err_console
from movielens_lessons.errors import ConfigError


def _datasets(train_path: Path, test_path: Path):
    from movielens_lessons.data.dataset import Dataset
    from movielens_lessons.data.readers import read_ratings_csv
    from movielens_lessons.evaluation.files import union_ids

    train_df = read_ratings_csv(train_path)
    test_df = read_ratings_csv(test_path)
    user_ids = union_ids(train_df[C.USER].to_numpy(), test_df[C.USER].to_numpy())
    item_ids = union_ids(train_df[C.ITEM].to_numpy(), test_df[C.ITEM].to_numpy())
    train = Dataset.from_frame(train_df, user_ids=user_ids, item_ids=item_ids, name="train",
                               source=str(train_path))
    test = Dataset.from_frame(test_df, user_ids=user_ids, item_ids=item_ids, name="test",
                              source=str(test_path))
    return train, test


def _top_k(train_path: Path, test_path: Path, recs_path: Path, ks: list[int], items: Path | None,
           threshold: float | None, n_bootstrap: int, seed: int) -> tuple[dict, object]:
    from movielens_lessons.evaluation.evaluate import evaluate
    from movielens_lessons.evaluation.files import read_recommendations_csv
    from movielens_lessons.recommendations import Recommendations

    train, test = _datasets(train_path, test_path)
    recs_df = read_recommendations_csv(recs_path)
    in_map = np.isin(recs_df[C.USER].to_numpy(), train.user_ids)
    recs = Recommendations.from_frame(recs_df[in_map], train.user_ids, train.item_ids, k=max(ks))
    features = None
    if items is not None:
        from movielens_lessons.data.readers import read_movies_csv

        features = read_movies_csv(items)[[C.ITEM, C.GENRES]]
    result = evaluate(recs, test, train, k=ks, relevance_threshold=threshold,
                      item_features=features, n_bootstrap=n_bootstrap, seed=seed)
    out: dict = {"k": ks[0] if len(ks) == 1 else ks, "n_users": result.n_users,
                 "n_users_without_recs": result.n_users_without_recs,
                 # users outside both files are not test users either
                 "n_recommended_users_not_in_test": result.n_recommended_users_not_in_test
                 + len(np.unique(recs_df[C.USER].to_numpy()[~in_map]))}
    ci: dict = {}
    row: Any  # metric str, k Int64, mean/ci_low/ci_high float (pandas-stubs type any scalar)
    for row in result.summary.itertuples(index=False):
        val = None if np.isnan(row.mean) else float(row.mean)
        bounds = [None if np.isnan(x) else float(x) for x in (row.ci_low, row.ci_high)]
        if len(ks) == 1:
            out[row.metric] = val
            ci[row.metric] = bounds
        else:
            out.setdefault(row.metric, {})[str(int(row.k))] = val
            ci.setdefault(row.metric, {})[str(int(row.k))] = bounds
    out["ci95"] = ci
    return out, result


@app.command("evaluate")
def evaluate_command(
    test: Path = typer.Option(..., "--test", help="Test split: userId,movieId,rating,timestamp."),
    train: Path | None = typer.Option(None, "--train", help="Train split (top-K mode)."),
    recs: Path | None = typer.Option(None, "--recs", help="userId,movieId,rank[,score] (top-K)."),
    predictions: Path | None = typer.Option(
        None, "--predictions", help="userId,movieId,prediction (rating mode)."
    ),
    k: list[int] = typer.Option([10], "--k", help="List length(s); repeat for several."),
    items: Path | None = typer.Option(None, "--items", help="movies.csv, for genre diversity (ILD)."),
    relevance_threshold: float | None = typer.Option(
        None, "--relevance-threshold", help="Relevant = test rating ≥ this (default: any)."
    ),
    n_bootstrap: int = typer.Option(1000, "--n-bootstrap", help="Bootstrap resamples for the CIs."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Score top-K recommendations (--train --test --recs) or rating predictions (--test --predictions)."""
    if predictions is not None:
        if recs is not None:
            raise ConfigError("give either --recs (with --train) or --predictions, not both")
        from movielens_lessons.data.dataset import Dataset
        from movielens_lessons.data.readers import read_ratings_csv
        from movielens_lessons.evaluation.files import read_predictions_csv
        from movielens_lessons.evaluation.rating import evaluate_predictions

        test_ds = Dataset.from_frame(read_ratings_csv(test), name="test", source=str(test))
        out = evaluate_predictions(read_predictions_csv(predictions), test_ds,
                                   source=str(predictions))
        result = None
    elif recs is not None:
        if train is None:
            raise ConfigError("--recs needs --train (popularity, catalogue and seen items)")
        if any(kk < 1 for kk in k):
            raise ConfigError(f"--k must be a positive integer; got {', '.join(map(str, k))}")
        out, result = _top_k(train, test, recs, sorted(set(k)), items, relevance_threshold,
                             n_bootstrap, seed)
    else:
        raise ConfigError("give --recs RECS.csv (with --train) or --predictions PRED.csv")

    if as_json:
        typer.echo(json.dumps(_finite(out), allow_nan=False))
        return
    _print_table(out, result)


def _finite(x):
    """NaN → null, recursively: JSON has no NaN."""
    if isinstance(x, dict):
        return {key: _finite(v) for key, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    if isinstance(x, float) and x != x:
        return None
    return x


def _print_table(out: dict, result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if result is None:
        table = Table("metric", "value")
        for key, val in out.items():
            table.add_row(key, "n/a" if val is None or val != val else f"{val:.4g}")
        console.print(table)
        return
    table = Table("metric", "k", "mean", "95% CI")
    for row in result.summary.itertuples(index=False):
        ci = "" if np.isnan(row.ci_low) else f"[{row.ci_low:.4f}, {row.ci_high:.4f}]"
        table.add_row(row.metric, "" if row.k is None or row.k != row.k else str(int(row.k)),
                      f"{row.mean:.4f}", ci)
    console.print(table)
    err_console.print(
        f"{result.n_users} test users scored; {result.n_users_without_recs} had no recommendations "
        f"(scored 0); {out['n_recommended_users_not_in_test']} recommended users not in the test set"
    )
