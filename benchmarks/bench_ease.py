"""Our EASE (float32 Cholesky, in place) vs the textbook NumPy EASE (float64 ``np.linalg.inv``).

Both variants fit the same data in the same invocation, each in a fresh subprocess so that its peak
memory (``ru_maxrss``) is its own; the script prints fit and recommend seconds, peak memory and the
ratios ours / plain, plus how often the two top-10 lists agree. Target (issue 4): ours fits in at most
60 % of the plain float64-inverse time.

    python benchmarks/bench_ease.py                      # ml-latest-small from $MOVIELENS_DATA_DIR
    python benchmarks/bench_ease.py --synthetic-items 20000 --synthetic-users 60000   # minutes

Thread counts and ``OPENBLAS_CORETYPE`` are taken from the environment as they are.
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

import numpy as np
import pandas as pd
import scipy.sparse as sp

VARIANTS = ("ours", "plain")


# --- the two variants (run inside a child process) -----------------------------------------------


def load_workload(args: argparse.Namespace):
    from movielens_lessons import columns as C
    from movielens_lessons.data.dataset import Dataset
    from movielens_lessons.data.loading import load_dataset

    if args.synthetic_items:
        rng = np.random.default_rng(0)
        # long-tailed item popularity and user activity, like MovieLens
        pop = 1.0 / np.arange(1, args.synthetic_items + 1) ** 0.9
        n = args.synthetic_users * args.synthetic_per_user
        users = rng.integers(0, args.synthetic_users, n)
        items = rng.choice(args.synthetic_items, n, p=pop / pop.sum())
        frame = pd.DataFrame({C.USER: users, C.ITEM: items}).drop_duplicates()
        # every item id present (once more, by a random user), so both variants invert the same matrix
        extra = np.arange(args.synthetic_items)
        extra_users = rng.integers(0, args.synthetic_users, len(extra))
        frame = pd.concat(
            [frame, pd.DataFrame({C.USER: extra_users, C.ITEM: extra})]
        ).drop_duplicates()
        return Dataset.from_frame(frame, name="synthetic")
    return load_dataset("ml-latest-small", data_dir=args.data_dir)


def fit_plain(x: sp.csr_matrix, lam: float) -> np.ndarray:
    """Steck's closed form as usually written: float64 Gram, generic inverse."""
    g = (x.T @ x).toarray().astype(np.float64)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    b[np.diag_indices_from(b)] = 0.0
    return b


def recommend_plain(x: sp.csr_matrix, b: np.ndarray, k: int) -> np.ndarray:
    scores = np.asarray(x @ b)
    scores[x.nonzero()] = -np.inf
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1)


def child(args: argparse.Namespace) -> None:
    from movielens_lessons.models.autoencoders.ease import EASE

    ds = load_workload(args)
    x = sp.csr_matrix(ds.implicit(), dtype=np.float32)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.child == "ours":
        model = EASE(regularization=args.regularization, min_item_count=0)
        start = time.perf_counter()
        model.fit(ds)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        recs = model.recommend(k=args.k)
        rec_s = time.perf_counter() - start
        items = recs.items
    else:
        start = time.perf_counter()
        b = fit_plain(x, args.regularization)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        items = recommend_plain(x, b, args.k)
        rec_s = time.perf_counter() - start
    np.save(args.out, items)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "variant": args.child,
                "n_users": ds.n_users,
                "n_items": ds.n_items,
                "n_interactions": ds.n_interactions,
                "fit_s": fit_s,
                "recommend_s": rec_s,
                "peak_mib": peak / 1024,  # ru_maxrss is KiB on Linux
                "peak_before_fit_mib": rss_before / 1024,
            }
        )
    )


# --- the parent: run both, compare -----------------------------------------------------------------


def run_variant(variant: str, args: argparse.Namespace, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--out", str(out), *forwarded(args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{variant} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def forwarded(args: argparse.Namespace) -> list[str]:
    out = ["--regularization", str(args.regularization), "--k", str(args.k)]
    if args.data_dir:
        out += ["--data-dir", str(args.data_dir)]
    if args.synthetic_items:
        out += [
            "--synthetic-items", str(args.synthetic_items),
            "--synthetic-users", str(args.synthetic_users),
            "--synthetic-per-user", str(args.synthetic_per_user),
        ]  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MOVIELENS_DATA_DIR"))
    parser.add_argument("--regularization", type=float, default=200.0)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1, help="runs per variant (best kept)")
    parser.add_argument("--synthetic-items", type=int, default=0)
    parser.add_argument("--synthetic-users", type=int, default=50_000)
    parser.add_argument("--synthetic-per-user", type=int, default=40)
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    best: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            # alternate the order so that drift in machine load does not favour one variant
            for variant in VARIANTS if rep % 2 == 0 else VARIANTS[::-1]:
                res = run_variant(variant, args, Path(tmp) / f"{variant}.npy")
                if variant not in best or res["fit_s"] < best[variant]["fit_s"]:
                    best[variant] = res
        ours_items = np.load(Path(tmp) / "ours.npy")
        plain_items = np.load(Path(tmp) / "plain.npy")

    ours, plain = best["ours"], best["plain"]
    overlap = np.mean(
        [len(np.intersect1d(a, b)) / args.k for a, b in zip(ours_items, plain_items, strict=True)]
    )
    print(
        f"workload: {ours['n_users']} users × {ours['n_items']} items, "
        f"{ours['n_interactions']} interactions; λ = {args.regularization}; "
        f"best of {args.repeats}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r}"
    )
    print(f"{'variant':<8} {'fit s':>8} {'recommend s':>12} {'peak MiB':>9} {'before fit MiB':>15}")
    for name, res in (("ours", ours), ("plain", plain)):
        print(
            f"{name:<8} {res['fit_s']:8.2f} {res['recommend_s']:12.2f} {res['peak_mib']:9.0f} "
            f"{res['peak_before_fit_mib']:15.0f}"
        )
    fit_ratio = ours["fit_s"] / plain["fit_s"]
    print(
        f"ratio ours/plain: fit {fit_ratio:.2f} (target ≤ 0.60: {'met' if fit_ratio <= 0.6 else 'NOT met'}), "
        f"recommend {ours['recommend_s'] / plain['recommend_s']:.2f}, "
        f"peak memory {ours['peak_mib'] / plain['peak_mib']:.2f}"
    )
    print(f"top-{args.k} agreement (mean share of common items per user): {overlap:.4f}")


if __name__ == "__main__":
    main()
