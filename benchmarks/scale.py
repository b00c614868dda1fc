"""Scale: the main job's stages on ML-32M-sized synthetic data, on one machine and on Spark local[2].

At each size (a fraction of ML-32M: 200,000 users, 87,000 movies, 32 M ratings; users and ratings
scale with the fraction, the catalogue stays 87,000 movies) the synthetic release is made once by
``data synth`` (kept in ``--workdir``), then each engine runs the user-temporal 80/20 protocol in a
fresh process:

- ``local``: load (reader + ``Dataset``), split, ``als`` (the ``implicit`` library) fit and top-10
  for every test user, ``ease`` with ``max_items`` pruning (the Gram matrix of the most popular
  movies) fit and top-10, evaluation (the Spark metric set, 1,000 bootstrap samples), and ``ease``
  over the whole catalogue, which refuses when its Gram matrices cannot fit in memory;
- ``spark``: session start, read, keep-latest + split, ``spark-als-implicit`` fit, top-10 in Spark
  (``recommend_in_spark``), evaluation in Spark (``evaluate_spark_result``, same metrics).

Both ALS models run at rank 64 for 15 iterations. Each stage reports wall seconds and the peak
resident memory of the whole process tree during the stage (JVM and Python workers included;
sampled every 0.25 s, so a shorter spike can be missed). With two sizes, each stage's time is
extrapolated to 10x the larger one by the power law through the two points and its memory by the
straight line; a stage whose extrapolated peak passes this machine's memory is where one machine
stops (Spark's are not extrapolated: its JVM grows its heap up to ``--driver-memory`` and spills to
disk past it, so its resident size shows what it was given, not what it needs). Ratios are Spark / local for the stages both engines have, measured in the same run.

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/scale.py [--sizes 0.25,1] \\
        [--engines local,spark] [--workdir DIR] [--out scale.json] [--ease-items 20000]

The full run (sizes 0.25 and 1) takes about an hour on 2 cores; ``--sizes 0.02`` is a smoke test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FULL = (200_000, 87_000, 32_000_000)
RANK, ITERATIONS = 64, 15
GIB = 2**30


def _mark(stage: str, event: str, **extra: object) -> None:
    """One line for the parent: a stage starts or ends (its clock is the parent's too)."""
    print(json.dumps({"stage": stage, "event": event, "t": time.time(), **extra}), flush=True)


class _Stage:
    def __init__(self, name: str) -> None:
        self.name = name
        self.extra: dict[str, object] = {}

    def __enter__(self) -> _Stage:
        _mark(self.name, "start")
        return self

    def __exit__(self, *exc: object) -> None:
        _mark(self.name, "end", **self.extra)


# --- the engines, each in its own process -----------------------------------------------------------


def _local(folder: Path, ease_items: int) -> None:
    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.split_registry import split
    from movielens_lessons.errors import MovieLensError
    from movielens_lessons.evaluation import evaluate
    from movielens_lessons.models.registry import create_model
    from movielens_lessons.spark.metric_names import SPARK_METRICS

    with _Stage("load") as s:
        data = load_dataset(folder)
        s.extra["n"] = data.n_interactions
    with _Stage("split"):
        parts = split(data, "user-temporal", test_size=0.2)
        train, test = parts.train, parts.test
        del data, parts
    users = test.user_ids[test.active_users]
    with _Stage("als.fit"):
        als = create_model("als", n_factors=RANK, n_epochs=ITERATIONS)
        als.fit(train)
    with _Stage("als.recommend") as s:
        recs = als.recommend(users, k=10)
        s.extra["users"] = len(users)
    with _Stage("evaluate") as s:
        result = evaluate(recs, test, train, k=(10,), metrics=SPARK_METRICS, n_bootstrap=1000)
        s.extra["ndcg@10"] = round(float(result.value("ndcg", 10)), 4)
    del als, recs
    with _Stage("ease.fit") as s:
        ease = create_model("ease", max_items=ease_items)
        ease.fit(train)
        s.extra["items"] = ease_items
    with _Stage("ease.recommend"):
        recs = ease.recommend(users, k=10)
    del ease, recs
    with _Stage("ease.all-items") as s:
        try:
            create_model("ease").fit(train)
            s.extra["outcome"] = "fitted"
        except MovieLensError as exc:  # the memory check refuses before allocating
            s.extra["outcome"] = str(exc)


def _spark(folder: Path, driver_memory: str) -> None:
    from movielens_lessons import columns as C
    from movielens_lessons.models.registry import create_model
    from movielens_lessons.models.spark.distributed import recommend_in_spark
    from movielens_lessons.spark.duplicates import keep_latest
    from movielens_lessons.spark.metric_names import SPARK_METRICS
    from movielens_lessons.spark.metrics import evaluate_spark_result
    from movielens_lessons.spark.readers import read_source
    from movielens_lessons.spark.session import spark_session
    from movielens_lessons.spark.splits import split

    with _Stage("session"):
        spark = spark_session("local[2]", {"spark.driver.memory": driver_memory})
    with _Stage("load") as s:
        raw = read_source(spark, folder).persist()
        s.extra["n"] = raw.count()
    with _Stage("split"):
        data, _ = keep_latest(raw)
        train, test = split(data, "user-temporal", test_size=0.2)
        train, test = train.persist(), test.persist()
        train.count(), test.count()
        raw.unpersist()
    with _Stage("als.fit"):
        als = create_model("spark-als-implicit", n_factors=RANK, n_epochs=ITERATIONS)
        als.fit_spark(train)
    with _Stage("als.recommend") as s:
        recs = recommend_in_spark(als, test.select(C.USER).distinct(), k=10, seen=train).persist()
        s.extra["rows"] = recs.count()
    with _Stage("evaluate") as s:
        result = evaluate_spark_result(recs, test, train, k=(10,), metrics=SPARK_METRICS,
                                       n_bootstrap=1000)
        s.extra["ndcg@10"] = round(float(result.value("ndcg", 10)), 4)


# --- the parent: data, processes, memory, table ----------------------------------------------------


def _sizes(fraction: float) -> tuple[int, int, int]:
    users, items, ratings = FULL
    return max(100, round(users * fraction)), items, max(1000, round(ratings * fraction))


def _synthesize(workdir: Path, fraction: float) -> tuple[Path, float]:
    users, items, ratings = _sizes(fraction)
    folder = workdir / f"f{fraction:g}" / "ml-latest-small"
    if (folder / "ratings.csv").exists():
        return folder, float("nan")
    clock = time.perf_counter()
    subprocess.run([sys.executable, "-m", "movielens_lessons", "data", "synth", "--out", str(folder),
                    "--users", str(users), "--items", str(items), "--ratings", str(ratings),
                    "--seed", "0"], check=True)
    return folder, time.perf_counter() - clock


def _run_engine(engine: str, folder: Path, args: argparse.Namespace) -> dict[str, dict]:
    """Run one engine in a child process, sampling its process tree's memory; per stage: seconds,
    peak GiB and what the stage reported."""
    from movielens_lessons.experiments.memory import tree_rss

    cmd = [sys.executable, __file__, "--child", engine, "--data", str(folder),
           "--ease-items", str(args.ease_items), "--driver-memory", args.driver_memory]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            rss = tree_rss(child.pid)
            if rss:
                samples.append((time.time(), rss))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    stages: dict[str, dict] = {}
    assert child.stdout is not None
    for line in child.stdout:
        if not line.startswith("{"):
            continue
        mark = json.loads(line)
        stage = stages.setdefault(mark.pop("stage"), {})
        stage[mark.pop("event")] = mark.pop("t")
        stage.update(mark)
        if "end" in stage:
            print(f"  {engine:5s} {next(reversed(stages))}: {stage['end'] - stage['start']:.1f} s",
                  flush=True)
    child.wait()
    done.set()
    thread.join()
    out = {}
    for name, stage in stages.items():
        if "end" not in stage:
            out[name] = {"failed": True}
            continue
        inside = [rss for t, rss in samples if stage["start"] - 0.25 <= t <= stage["end"] + 0.25]
        out[name] = {"seconds": stage["end"] - stage["start"],
                     "peak_gib": max(inside, default=0) / GIB,
                     **{k: v for k, v in stage.items() if k not in ("start", "end")}}
    if child.returncode != 0:
        out["exit"] = {"failed": True, "returncode": child.returncode}
    return out


def _memory_gib() -> float:
    with open("/proc/meminfo") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("MemTotal"))
    return kib / 2**20


def _extrapolate(small: dict, large: dict, n_small: int, n_large: int, factor: float
                 ) -> tuple[float, float]:
    """(seconds, GiB) at ``factor`` × the large size: power law for time, a line for memory."""
    ratio = n_large / n_small
    t1, t2 = max(small["seconds"], 1e-3), max(large["seconds"], 1e-3)
    exponent = math.log(t2 / t1) / math.log(ratio)
    seconds = t2 * factor**exponent
    slope = (large["peak_gib"] - small["peak_gib"]) / (n_large - n_small)
    return seconds, large["peak_gib"] + slope * n_large * (factor - 1)


def _report(results: dict, fractions: list[float], factor: float) -> None:
    from rich.console import Console
    from rich.table import Table

    machine = _memory_gib()
    table = Table(title=f"Stages per size (peak = whole process tree; this machine: {machine:.1f} GiB, "
                        f"{os.cpu_count()} cores)")
    table.add_column("engine")
    table.add_column("stage")
    for fraction in fractions:
        n = _sizes(fraction)[2]
        table.add_column(f"{n / 1e6:g}M s", justify="right")
        table.add_column(f"{n / 1e6:g}M GiB", justify="right")
    if len(fractions) >= 2:
        table.add_column(f"{factor:g}x s (extrap.)", justify="right")
        table.add_column(f"{factor:g}x GiB (extrap.)", justify="right")
    table.add_column("spark/local s", justify="right")
    for engine in ("local", "spark"):
        per_size = [results.get(f"{f:g}", {}).get(engine, {}) for f in fractions]
        names = list(dict.fromkeys(n for stages in per_size for n in stages if n != "exit"))
        for name in names:
            row = [engine, name]
            for stages in per_size:
                cell = stages.get(name, {})
                row += ([f"{cell['seconds']:.1f}", f"{cell['peak_gib']:.2f}"] if "seconds" in cell
                        else ["-", "-"])
            if len(fractions) >= 2:
                a, b = per_size[-2].get(name, {}), per_size[-1].get(name, {})
                if "seconds" in a and "seconds" in b:
                    seconds, gib = _extrapolate(a, b, _sizes(fractions[-2])[2],
                                                _sizes(fractions[-1])[2], factor)
                    if engine == "spark":
                        # the JVM grows its heap up to the driver memory and then spills to disk:
                        # its resident size says what it was given, not what it needs
                        row += [f"{seconds:.0f}", "heap-bound"]
                    else:
                        stop = " STOPS" if gib > machine else ""
                        row += [f"{seconds:.0f}", f"{gib:.1f}{stop}"]
                else:
                    row += ["-", "-"]
            mine = per_size[-1].get(name, {})
            peer = results.get(f"{fractions[-1]:g}", {}).get("local", {}).get(name, {})
            both = engine == "spark" and "seconds" in mine and "seconds" in peer
            row.append(f"{mine['seconds'] / peer['seconds']:.1f}" if both else "")
            table.add_row(*row)
    Console(width=200).print(table)
    for fraction in fractions:
        for engine, stages in results.get(f"{fraction:g}", {}).items():
            notes = {n: {k: v for k, v in s.items() if k not in ("seconds", "peak_gib")}
                     for n, s in stages.items()}
            notes = {n: v for n, v in notes.items() if v}
            if notes:
                print(f"{_sizes(fraction)[2] / 1e6:g}M {engine}: {json.dumps(notes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0.25,1", help="fractions of ML-32M's size, ascending")
    parser.add_argument("--engines", default="local,spark")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keeps the synthetic releases for the next run (default: a temp folder)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    parser.add_argument("--ease-items", type=int, default=20_000,
                        help="EASE's max_items (the most popular movies it keeps)")
    parser.add_argument("--driver-memory", default="12g", help="Spark's driver (= local JVM) heap")
    parser.add_argument("--factor", type=float, default=10.0, help="extrapolate to this × the largest")
    parser.add_argument("--report", type=Path, default=None,
                        help="print the table of a JSON written by --out, running nothing")
    parser.add_argument("--child", choices=["local", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "local":
        return _local(args.data, args.ease_items)
    if args.child == "spark":
        return _spark(args.data, args.driver_memory)

    if args.report is not None:
        results = json.loads(args.report.read_text())
        return _report(results, sorted(float(f) for f in results), args.factor)
    fractions = sorted(float(f) for f in args.sizes.split(","))
    engines = [e for e in args.engines.split(",") if e]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        results: dict[str, dict] = {}
        for fraction in fractions:
            users, items, ratings = _sizes(fraction)
            print(f"size {fraction:g}: {users:,} users x {items:,} movies, {ratings:,} ratings",
                  flush=True)
            folder, made = _synthesize(workdir, fraction)
            if not math.isnan(made):
                print(f"  synthesized in {made:.0f} s", flush=True)
            results[f"{fraction:g}"] = {e: _run_engine(e, folder, args) for e in engines}
            if args.out:
                args.out.write_text(json.dumps(results, indent=1))
        _report(results, fractions, args.factor)


if __name__ == "__main__":
    main()
