"""Model quality measured the way a user would: `split`, `train`, `recommend`/`predict`, `evaluate` (CLI).

Two protocols on ml-latest-small, K = 10, all ratings as interactions, train items excluded:
P1 = per-user random 75/25 (seed 42), P2 = per-user temporal 80/20 (each user's latest 20 %).
Every step is a `movielens-lessons` subprocess; the train step's peak memory is its own ru_maxrss.
Models train with their constructor defaults plus the per-protocol settings of the benchmark config
(``[models.NAME.protocols.P]`` of the protocol with the same strategy, e.g. the ranker's label window).

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/quality_cli.py [--models ease,als] [--out DIR]

Prints a Markdown table (NDCG@10, recall@10, coverage, Gini, novelty, RMSE for explicit models, fit
seconds, train peak MiB) and writes it with the raw JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROTOCOLS = {
    "P1": ["--strategy", "user-random", "--test-size", "0.25", "--seed", "42"],
    "P2": ["--strategy", "user-temporal", "--test-size", "0.2"],
}
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "ml-latest-small.toml"


def protocol_params(config, strategy: str, model: str) -> list[str]:
    """``--param KEY=VALUE`` arguments for ``model`` from ``config``'s protocol with ``strategy``."""
    names = [p.name for p in config.protocols if p.strategy == strategy]
    args: list[str] = []
    for m in config.models:
        if m.name == model and names:
            for key, value in m.protocol_params.get(names[0], {}).items():
                text = value if isinstance(value, str) else json.dumps(value)  # tables as JSON
                args += ["--param", f"{key}={text}"]
    return args


def run_child(*args: str) -> tuple[str, float]:
    """Run the CLI and return (stdout, peak MiB) using wait4 for the child's own peak memory."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "movielens_lessons", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"movielens-lessons {' '.join(args)} failed:\n{err}")
    return out, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="", help="comma-separated names (default: every model)")
    parser.add_argument("--out", type=Path, default=None, help="folder for splits, models, results")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="per-protocol settings")
    parser.add_argument(
        "--param", action="append", default=[], help="KEY=VALUE for every model trained (repeatable)"
    )
    args = parser.parse_args()

    from movielens_lessons.data.locate import release_dir
    from movielens_lessons.experiments.config_loading import load_config
    from movielens_lessons.models.registry import MODELS, is_available

    config = load_config(args.config)
    names = [m for m in (args.models.split(",") if args.models else MODELS) if m]
    out = args.out or Path(tempfile.mkdtemp(prefix="quality-cli-"))
    out.mkdir(parents=True, exist_ok=True)
    folder = release_dir("ml-latest-small")
    ratings, movies = folder / "ratings.csv", folder / "movies.csv"
    rows = []
    for protocol, split_args in PROTOCOLS.items():
        split_dir = out / "splits" / protocol
        run_child("split", "--ratings", str(ratings), *split_args, "--out", str(split_dir))
        train, test = split_dir / "train.csv", split_dir / "test.csv"
        for name in names:
            if not is_available(name):
                print(f"skip {name}: its extra is not installed", file=sys.stderr)
                continue
            model_dir = out / "models" / protocol / name
            recs = out / "recs" / protocol / f"{name}.csv"
            t0 = time.perf_counter()
            _, peak = run_child(
                "train",
                name,
                "--ratings",
                str(train),
                "--movies",
                str(movies),
                "--out",
                str(model_dir),
                *protocol_params(config, split_args[1], name),
                *[a for kv in args.param for a in ("--param", kv)],
            )
            train_wall = time.perf_counter() - t0
            meta = json.loads((model_dir / "model.json").read_text())
            run_child(
                "recommend",
                "--model",
                str(model_dir),
                "--users-from",
                str(test),
                "--k",
                str(args.k),
                "--out",
                str(recs),
            )
            report, _ = run_child(
                "evaluate",
                "--train",
                str(train),
                "--test",
                str(test),
                "--recs",
                str(recs),
                "--k",
                str(args.k),
                "--items",
                str(movies),
                "--json",
            )
            result = json.loads(report)
            row = {
                "protocol": protocol,
                "model": name,
                "fit_s": meta["fit_seconds"],
                "train_wall_s": round(train_wall, 2),
                "train_peak_mib": round(peak, 1),
                **result,
            }
            if meta["feedback"] == "explicit":
                pred = out / "pred" / protocol / f"{name}.csv"
                run_child(
                    "predict", "--model", str(model_dir), "--pairs", str(test), "--out", str(pred)
                )
                rating, _ = run_child(
                    "evaluate", "--test", str(test), "--predictions", str(pred), "--json"
                )
                row.update({f"rating_{k}": v for k, v in json.loads(rating).items()})
            rows.append(row)
            print(
                f"{protocol} {name}: ndcg@{args.k}={_get(row, 'ndcg', args.k):.4f}", file=sys.stderr
            )
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    table = markdown(rows, args.k)
    (out / "results.md").write_text(table)
    print(table)
    print(f"\n(results and artifacts in {out})")


def _get(row: dict, metric: str, k: int) -> float:
    value = row.get(f"{metric}@{k}", row.get(metric))
    if isinstance(value, dict):
        value = value.get("mean", value.get("value"))
    return float("nan") if value is None else float(value)


def markdown(rows: list[dict], k: int) -> str:
    head = (
        f"| protocol | model | NDCG@{k} | recall@{k} | coverage@{k} | Gini@{k} | novelty@{k} "
        "| RMSE | fit s | train peak MiB |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        rmse = r.get("rating_rmse")
        lines.append(
            f"| {r['protocol']} | {r['model']} | {_get(r, 'ndcg', k):.4f} | {_get(r, 'recall', k):.4f}"
            f" | {_get(r, 'coverage', k):.4f} | {_get(r, 'gini', k):.4f} | {_get(r, 'novelty', k):.2f}"
            f" | {'' if rmse is None else f'{rmse:.4f}'} | {r['fit_s']:.2f} | {r['train_peak_mib']:.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
