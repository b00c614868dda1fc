"""Loading benchmark: ``pandas.read_csv`` vs our validated reader vs reader + Dataset build (with CSR).

Run ``python benchmarks/bench_load.py [--quick] [--workdir DIR] [--repeat N]``. Data: (a) the real
``ml-latest-small/ratings.csv`` under ``$MOVIELENS_DATA_DIR`` and (b) a synthetic ``ratings.csv`` of 25 M
ratings (162,000 users × 59,000 movies; ``--quick``: 2.5 M ratings, 16,200 users) made by
``movielens_lessons.data.synth``, generated once into ``--workdir`` (default: a temporary folder) and reused
from there. Each step runs in a fresh subprocess that reports its own wall time and peak resident memory
(``ru_maxrss``: tracemalloc misses NumPy/Arrow buffers); ``import MiB`` is that process's peak just before
the step, so ``peak - import`` is what the step itself needed. Ratios compare to pandas in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FULL = (162_000, 59_000, 25_000_000)
QUICK = (16_200, 59_000, 2_500_000)
STEPS = ("pandas", "reader", "reader+build")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(step: str, path: str) -> dict[str, float]:
    """Run one step in this (fresh) process; the parent reads the JSON it prints."""
    if step == "pandas":
        import pandas as pd

        base = _peak_mib()
        t0 = time.perf_counter()
        frame = pd.read_csv(path)
        out = {"seconds": time.perf_counter() - t0, "rows": len(frame)}
    elif step == "synth":
        from movielens_lessons.data.synth import synthesize, write_movielens

        n_users, n_items, n_ratings = (int(x) for x in Path(path).name.split("-")[1:])
        base = _peak_mib()
        t0 = time.perf_counter()
        data = synthesize(n_users, n_items, n_ratings, seed=0)
        t1 = time.perf_counter()
        write_movielens(data, path)
        out = {"seconds": time.perf_counter() - t0, "generate_s": t1 - t0,
               "write_s": time.perf_counter() - t1, "rows": len(data.ratings)}  # fmt: skip
    else:
        from movielens_lessons.data.dataset import Dataset
        from movielens_lessons.data.readers import read_ratings_csv

        base = _peak_mib()
        t0 = time.perf_counter()
        frame = read_ratings_csv(path)
        out = {"read_s": time.perf_counter() - t0, "rows": len(frame)}
        if step == "reader+build":
            t1 = time.perf_counter()
            ds = Dataset.from_frame(frame)
            ds.implicit()
            out["build_s"] = time.perf_counter() - t1
        out["seconds"] = time.perf_counter() - t0
    out.update(peak_mib=_peak_mib(), import_mib=base)
    return out


def _measure(step: str, path: Path, repeat: int) -> dict[str, float]:
    """Best (fastest) of ``repeat`` fresh subprocesses; peak memory is the largest seen."""
    runs = []
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--_step", step, str(path)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if proc.returncode:
            raise SystemExit(f"step {step} on {path} failed:\n{proc.stderr}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    best["peak_mib"] = max(r["peak_mib"] for r in runs)
    return best


def _synthetic(workdir: Path, sizes: tuple[int, int, int]) -> tuple[Path, dict[str, float] | None]:
    folder = workdir / "synth-{}-{}-{}".format(*sizes)
    ratings = folder / "ratings.csv"
    if ratings.is_file():
        return ratings, None
    return ratings, _measure("synth", folder, 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2.5 M synthetic ratings, not 25 M")
    parser.add_argument("--workdir", type=Path, help="cache folder for the synthetic files")
    parser.add_argument("--repeat", type=int, default=1, help="runs per step; the fastest counts")
    parser.add_argument("--_step", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._step:
        print(json.dumps(_child(*args._step)))
        return

    sizes = QUICK if args.quick else FULL
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench_load_")
        workdir = Path(tmp.name)
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    try:
        datasets: list[tuple[str, Path]] = []
        real = Path(os.environ.get("MOVIELENS_DATA_DIR", "data")) / "ml-latest-small" / "ratings.csv"
        if real.is_file():
            datasets.append(("ml-latest-small", real))
        else:
            print(f"(skipping the real data: {real} not found; set MOVIELENS_DATA_DIR)")
        synth_path, gen = _synthetic(workdir, sizes)
        if gen is not None:
            print(
                f"generated {gen['rows']:,} synthetic ratings ({sizes[0]:,} users × {sizes[1]:,} movies): "
                f"synthesize {gen['generate_s']:.1f} s + write CSVs {gen['write_s']:.1f} s, "
                f"peak {gen['peak_mib']:.0f} MiB"
            )
        datasets.append((f"synthetic {sizes[2] / 1e6:g}M", synth_path))
        _report(datasets, args.repeat)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _report(datasets: list[tuple[str, Path]], repeat: int) -> None:
    header = (f"{'data':<18} {'step':<13} {'rows':>11} {'seconds':>8} {'read s':>7} {'build s':>8} "
              f"{'peak MiB':>9} {'import MiB':>10} {'x pandas s':>10} {'x pandas MiB':>12}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for label, path in datasets:
        results = {step: _measure(step, path, repeat) for step in STEPS}
        ref = results["pandas"]
        for step, r in results.items():
            # Memory ratio on what the step itself needed (peak minus the interpreter and imports).
            mem_ratio = (r["peak_mib"] - r["import_mib"]) / max(ref["peak_mib"] - ref["import_mib"], 1)
            print(
                f"{label:<18} {step:<13} {r['rows']:>11,} {r['seconds']:>8.2f} "
                f"{r.get('read_s', float('nan')):>7.2f} {r.get('build_s', float('nan')):>8.2f} "
                f"{r['peak_mib']:>9.0f} {r['import_mib']:>10.0f} "
                f"{r['seconds'] / ref['seconds']:>10.2f} {mem_ratio:>12.2f}"
            )


if __name__ == "__main__":
    main()
