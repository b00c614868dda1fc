"""Our ``als`` / ``bpr`` (and ``item-knn``) against calling the ``implicit`` library directly.

Same data (ml-latest-small, all ratings as interactions), same hyperparameters (our defaults), same
process, alternating runs (ABBA order); prints the median fit time, wall and process-CPU, and the ratios
(target: the wrappers add at most 15 % to the library's own fit time), the median time to recommend 10
items to every training user, and the peak memory each fit adds, measured in fresh subprocesses (Linux:
the ``VmHWM`` high-water mark is reset just before the fit). On a loaded machine single fits vary by
2× in wall time; the CPU-time ratio is the steadier one.

What counts: the wrapper's time is the whole public ``create_model(name).fit(dataset)`` (input
checks, the seen-items matrix, the confidence matrix, the fingerprint, exporting the factors); the
direct time is only the library's ``model.fit(user_items)`` on a matrix prepared beforehand. Both run
with BLAS limited to one thread, as implicit recommends (the wrapper does this itself). ``item-knn`` is
our own NumPy/SciPy code (not a wrapper), compared with implicit's ``CosineRecommender`` /
``BM25Recommender`` with the same K (implicit counts the item itself among its K neighbours, so it gets
K + 1).

    python benchmarks/bench_implicit_wrappers.py [--data-dir DIR] [--repeats 5] [--models als,bpr]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.loading import load_dataset
from movielens_lessons.models.registry import create_model

RELEASE = "ml-latest-small"
TARGET = 1.15


# --- the two ways to fit each model ------------------------------------------------------------------


def _direct_model(name: str, params: dict):
    """The ``implicit`` object a user would build by hand with the same hyperparameters."""
    if name == "als":
        from implicit.cpu.als import AlternatingLeastSquares

        # implicit's own confidence is alpha·w; ours is 1 + alpha·w: the same work per iteration
        return AlternatingLeastSquares(
            factors=params["n_factors"],
            regularization=params["regularization"],
            alpha=params["alpha"],
            use_cg=params["use_cg"],
            iterations=params["n_epochs"],
            calculate_training_loss=False,
            num_threads=params["num_threads"],
            random_state=params["random_state"],
        )
    if name == "bpr":
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(
            factors=params["n_factors"],
            learning_rate=params["learning_rate"],
            regularization=params["regularization"],
            iterations=params["n_epochs"],
            num_threads=params["num_threads"],
            verify_negative_samples=params["verify_negative_samples"],
            random_state=params["random_state"],
        )
    if name == "item-knn":
        from implicit.nearest_neighbours import BM25Recommender, CosineRecommender

        k = params["n_neighbors"] + 1
        if params["similarity"] == "bm25":
            return BM25Recommender(K=k, K1=params["bm25_k1"], B=params["bm25_b"])
        return CosineRecommender(K=k)
    raise ValueError(f"no direct implicit counterpart for {name!r}")


def _user_items(name: str, params: dict, ds: Dataset):
    """The writable user × item CSR the direct call is given (prepared outside the timing)."""
    weighting = params.get("weighting", "binary") if name == "als" else "binary"
    return ds.implicit(weighting).copy()


def _fit_direct(name: str, params: dict, user_items) -> object:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        model = _direct_model(name, params)
        model.fit(user_items, show_progress=False)
    return model


def _fit_wrapper(name: str, ds: Dataset):
    return create_model(name).fit(ds)


def _timed(fn: Callable[[], object]) -> tuple[tuple[float, float], object]:
    """``((wall seconds, process CPU seconds), fn())``.

    CPU time (all threads of this process) is the steadier measure of work on a shared, loaded machine;
    wall time is what a user waits.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - wall, time.process_time() - cpu), out


# --- memory, in a fresh process per measurement ------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset this process's RSS high-water mark (Linux ≥ 4.0); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def child(name: str, variant: str, data_dir: str | None) -> None:
    """Fit once and print the MiB the fit added on top of the resident set before it (JSON)."""
    import resource

    ds = load_dataset(RELEASE, data_dir=data_dir)
    params = create_model(name).get_params()
    user_items = _user_items(name, params, ds)
    ds.fingerprint()  # the dataset's own caches are not the fit's cost (either way)
    ds.item_counts()
    before = _status_kib("VmRSS")
    exact = _reset_peak() and before is not None
    if variant == "wrapper":
        _fit_wrapper(name, ds)
    else:
        _fit_direct(name, params, user_items)
    if exact:
        peak = _status_kib("VmHWM") or 0
        added = (peak - before) / 1024
    else:  # fall back to the lifetime peak (includes loading the data)
        added = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"added_mib": round(added, 1), "exact": exact}))


def _memory(name: str, variant: str, data_dir: str | None) -> dict:
    cmd = [sys.executable, __file__, "--child", name, variant]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the comparison ------------------------------------------------------------------------------


def _recommend_direct(model, user_items, k: int = 10) -> float:
    users = np.arange(user_items.shape[0])
    start = time.perf_counter()
    model.recommend(users, user_items[users], N=k, filter_already_liked_items=True)
    return time.perf_counter() - start  # wall seconds


def compare(name: str, ds: Dataset, repeats: int, data_dir: str | None) -> dict:
    params = create_model(name).get_params()
    user_items = _user_items(name, params, ds)
    # warm-up: imports, the dataset's caches, first-touch allocations
    _fit_wrapper(name, ds)
    _fit_direct(name, params, user_items)
    wrap_t, direct_t, wrap_rec, direct_rec = [], [], [], []
    for rep in range(repeats):
        # ABBA order: neither variant always runs first on a machine whose load drifts
        for variant in ("wrapper", "direct") if rep % 2 == 0 else ("direct", "wrapper"):
            if variant == "wrapper":
                t, ours = _timed(lambda: _fit_wrapper(name, ds))
                wrap_t.append(t)
                t, _ = _timed(ours.recommend)  # every training user, k=10
                wrap_rec.append(t[0])
            else:
                t, lib = _timed(lambda: _fit_direct(name, params, user_items))
                direct_t.append(t)
                direct_rec.append(_recommend_direct(lib, user_items))
    mem_w, mem_d = _memory(name, "wrapper", data_dir), _memory(name, "direct", data_dir)
    fit_w = statistics.median(t[0] for t in wrap_t)
    fit_d = statistics.median(t[0] for t in direct_t)
    cpu_w = statistics.median(t[1] for t in wrap_t)
    cpu_d = statistics.median(t[1] for t in direct_t)
    return {
        "model": name,
        "params": params,
        "fit_wrapper_s": fit_w,
        "fit_direct_s": fit_d,
        "fit_ratio": fit_w / fit_d,
        "fit_wrapper_cpu_s": cpu_w,
        "fit_direct_cpu_s": cpu_d,
        "fit_cpu_ratio": cpu_w / cpu_d,
        "recommend_wrapper_s": statistics.median(wrap_rec),
        "recommend_direct_s": statistics.median(direct_rec),
        "recommend_ratio": statistics.median(wrap_rec) / statistics.median(direct_rec),
        "peak_wrapper_mib": mem_w["added_mib"],
        "peak_direct_mib": mem_d["added_mib"],
        "peak_exact": mem_w["exact"] and mem_d["exact"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MOVIELENS_DATA_DIR"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default=None, help="comma-separated (default: als,bpr[,item-knn])")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.data_dir)
        return 0

    models = ["als", "bpr"]
    item_knn = Path(__file__).resolve().parents[1] / "src/movielens_lessons/models/neighbors/item_knn.py"
    if item_knn.is_file():
        models.append("item-knn")
    if args.models:
        models = [m.strip() for m in args.models.split(",") if m.strip()]

    ds = load_dataset(RELEASE, data_dir=args.data_dir)
    print(f"{ds!r}; {args.repeats} alternating runs each, medians; cpus={os.cpu_count()}")
    header = (
        f"{'model':<9} {'fit ours':>9} {'fit lib':>9} {'ratio':>6} {'cpu ratio':>9}  {'rec ours':>9} "
        f"{'rec lib':>9} {'ratio':>6}  {'peak ours':>10} {'peak lib':>10}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for name in models:
        r = compare(name, ds, args.repeats, args.data_dir)
        results.append(r)
        print(
            f"{name:<9} {r['fit_wrapper_s']:>8.2f}s {r['fit_direct_s']:>8.2f}s "
            f"{r['fit_ratio']:>6.2f} {r['fit_cpu_ratio']:>9.2f}  {r['recommend_wrapper_s']:>8.3f}s "
            f"{r['recommend_direct_s']:>8.3f}s {r['recommend_ratio']:>6.2f}  "
            f"{r['peak_wrapper_mib']:>7.1f}MiB {r['peak_direct_mib']:>7.1f}MiB",
            flush=True,
        )
    print()
    for r in results:
        if r["model"] in ("als", "bpr"):
            verdict = "meets" if max(r["fit_ratio"], r["fit_cpu_ratio"]) <= TARGET else "MISSES"
            print(
                f"{r['model']}: wrapper fit = {r['fit_ratio']:.2f} × implicit's wall time, "
                f"{r['fit_cpu_ratio']:.2f} × its CPU time; {verdict} ≤ {TARGET}"
            )
    if results and not all(r["peak_exact"] for r in results):
        print("note: peak memory is the whole process's peak here (no /proc/self/clear_refs)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
