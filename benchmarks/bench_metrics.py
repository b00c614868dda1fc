"""Benchmark: the full metric set for 160,000 users × K = 100 against 5 million test interactions.

End to end from DataFrames (train, test, recommendations in long format) to ``evaluate()``'s summary with
bootstrap intervals, Gini and novelty included; then ``ranx`` computing its subset (precision, recall, nDCG,
MRR, hit rate @K) from the same DataFrames, in the same run. By default ranx runs on every user, so no
extrapolation is involved; ``--ranx-users N`` runs it on a random N users instead and extrapolates its time
linearly — the output says so.

ranx compiles its metrics with numba on first use. That compile is not part of evaluating: ranx is first
warmed up on a tiny input (the first 50 users) in the same process, that warm-up is reported separately,
and only the run after it is timed (so the compile is never multiplied by an extrapolation either).

Each side runs in its own forked process (same input frames, inherited copy-on-write), so that its peak
memory can be measured on its own: the peak resident memory above what the process held at its start.

    python benchmarks/bench_metrics.py                      # the issue's size, ranx on all users
    python benchmarks/bench_metrics.py --users 20000 --test 600000   # quick
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import sys
import time
import traceback

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.evaluation.evaluate import evaluate
from movielens_lessons.evaluation.files import union_ids
from movielens_lessons.evaluation.sampled import first_in_row
from movielens_lessons.recommendations import Recommendations


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_forked(fn, *args, warm_up=None):
    """``fn(*args)`` in a forked child: ``(value, seconds, peak MiB above the child's start, warm-up s)``.

    ``warm_up()`` (optional) runs first in the child, untimed. Then the child resets its peak-RSS mark
    (``/proc/self/clear_refs``), so the peak is that of ``fn`` alone; where that is not possible the
    figure falls back to ``ru_maxrss`` minus the RSS at the start.
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        try:
            t = time.perf_counter()
            if warm_up is not None:
                warm_up()
            warm_s = time.perf_counter() - t
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")  # reset VmHWM to the current RSS
            except OSError:
                pass
            start = _status_mib("VmRSS") or peak_rss_mib()
            t = time.perf_counter()
            value = fn(*args)
            seconds = time.perf_counter() - t
            peak = _status_mib("VmHWM") or peak_rss_mib()
            payload = pickle.dumps(("ok", value, seconds, peak - start, warm_s))
        except BaseException:  # report it in the parent
            payload = pickle.dumps(("error", traceback.format_exc(), 0.0, 0.0, 0.0))
        with os.fdopen(w, "wb") as f:
            f.write(payload)
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    status, value, seconds, peak, warm_s = pickle.loads(data)
    if status != "ok":
        raise RuntimeError(f"{getattr(fn, '__name__', fn)} failed in its child process:\n{value}")
    return value, seconds, peak, warm_s


def make_frames(n_users: int, n_items: int, n_test: int, n_train: int, k: int, seed: int):
    """Zipf-like popularity; every user gets test items; recommendations mix popular and random items."""
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, n_items + 1) ** 0.8
    pop /= pop.sum()

    def interactions(n: int) -> pd.DataFrame:
        users = np.concatenate([np.arange(n_users), rng.integers(0, n_users, n - n_users)])
        items = rng.choice(n_items, size=n, p=pop)
        df = pd.DataFrame({C.USER: users + 1, C.ITEM: items + 1})
        return df.drop_duplicates([C.USER, C.ITEM], ignore_index=True).assign(
            **{C.RATING: np.float32(4.0), C.TIMESTAMP: np.int64(0)})

    train, test = interactions(n_train), interactions(n_test)
    # lists: half from the popular head, half uniform, distinct within a user (argsort of random keys
    # over a per-user candidate pool would be too slow; draw 2K and keep the first K distinct)
    cand = np.where(rng.random((n_users, 2 * k)) < 0.5, rng.choice(n_items, (n_users, 2 * k), p=pop),
                    rng.integers(0, n_items, (n_users, 2 * k)))
    keep = first_in_row(cand)
    rank = np.cumsum(keep, axis=1)
    sel = keep & (rank <= k)
    r, c = np.nonzero(sel)
    recs = pd.DataFrame({C.USER: r + 1, C.ITEM: cand[r, c] + 1, C.RANK: rank[r, c],
                         C.SCORE: (k + 1 - rank[r, c]).astype(np.float32)})
    return train, test, recs


def ours(train_df, test_df, recs_df, k: int, n_bootstrap: int):
    """Every metric from the three DataFrames; returns (summary, n_users, stage seconds)."""
    stages: dict[str, float] = {}
    t = time.perf_counter()
    user_ids = union_ids(train_df[C.USER].to_numpy(), test_df[C.USER].to_numpy())
    item_ids = union_ids(train_df[C.ITEM].to_numpy(), test_df[C.ITEM].to_numpy())
    train = Dataset.from_frame(train_df, user_ids=user_ids, item_ids=item_ids)
    test = Dataset.from_frame(test_df, user_ids=user_ids, item_ids=item_ids)
    stages["Dataset.from_frame ×2"] = time.perf_counter() - t
    t = time.perf_counter()
    recs = Recommendations.from_frame(recs_df, user_ids, item_ids, k=k)
    stages["Recommendations.from_frame"] = time.perf_counter() - t
    t = time.perf_counter()
    result = evaluate(recs, test, train, k=(k,), n_bootstrap=n_bootstrap)
    stages["evaluate()"] = time.perf_counter() - t
    return result.summary, result.n_users, stages


RANX_METRICS = ("precision", "recall", "ndcg", "mrr", "hit_rate")


def with_ranx(test_df, recs_df, k: int, users: np.ndarray | None):
    """ranx's five metrics from the same frames; returns (values, stage seconds)."""
    import ranx

    stages: dict[str, float] = {}
    t = time.perf_counter()
    if users is not None:
        test_df = test_df[test_df[C.USER].isin(users)]
        recs_df = recs_df[recs_df[C.USER].isin(users)]
    # ranx wants string ids
    qrels_df = pd.DataFrame({"q_id": test_df[C.USER].astype(str).astype(object),
                             "doc_id": test_df[C.ITEM].astype(str).astype(object), "score": 1})
    run_df = pd.DataFrame({"q_id": recs_df[C.USER].astype(str).astype(object),
                           "doc_id": recs_df[C.ITEM].astype(str).astype(object),
                           "score": recs_df[C.SCORE].astype(float)})
    stages["ids to strings"] = time.perf_counter() - t
    t = time.perf_counter()
    qrels = ranx.Qrels.from_df(qrels_df)
    run = ranx.Run.from_df(run_df)
    stages["Qrels/Run.from_df"] = time.perf_counter() - t
    t = time.perf_counter()
    values = ranx.evaluate(qrels, run, [f"{m}@{k}" for m in RANX_METRICS], make_comparable=True)
    stages["ranx.evaluate"] = time.perf_counter() - t
    return {name: float(v) for name, v in values.items()}, stages


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=160_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--test", type=int, default=5_000_000, help="test interactions")
    ap.add_argument("--train", type=int, default=10_000_000, help="train interactions")
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--n-bootstrap", type=int, default=1000)
    ap.add_argument("--ranx-users", type=int, default=0,
                    help="run ranx on a random N users and extrapolate its time linearly "
                         "(default 0: all users, no extrapolation)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    t = time.perf_counter()
    train_df, test_df, recs_df = make_frames(a.users, a.items, a.test, a.train, a.k, a.seed)
    print(f"data: {len(train_df):,} train, {len(test_df):,} test interactions, "
          f"{len(recs_df):,} recommendation rows ({a.users:,} users × K={a.k}); "
          f"generated in {time.perf_counter() - t:.1f} s; process RSS {peak_rss_mib():,.0f} MiB",
          flush=True)

    (summary, n_users, stages), ours_s, ours_mem, _ = run_forked(
        ours, train_df, test_df, recs_df, a.k, a.n_bootstrap)
    print(f"ours : {ours_s:7.2f} s for every metric ({len(summary)} summary rows, "
          f"{a.n_bootstrap} bootstrap resamples) on all {n_users:,} users; peak +{ours_mem:,.0f} MiB: "
          + ", ".join(f"{name} {sec:.1f} s" for name, sec in stages.items()), flush=True)

    sub = None
    if a.ranx_users and a.ranx_users < a.users:
        sub = np.random.default_rng(a.seed).choice(np.arange(1, a.users + 1), a.ranx_users,
                                                   replace=False)
    # warm-up (numba compile) on the first 50 users, in the same process, before the timed run
    few = test_df[C.USER] <= 50, recs_df[C.USER] <= 50
    (ref, ranx_stages), ranx_s, ranx_mem, warm_s = run_forked(
        with_ranx, test_df, recs_df, a.k, sub,
        warm_up=lambda: with_ranx(test_df[few[0]], recs_df[few[1]], a.k, None))
    n_ranx = a.users if sub is None else len(sub)
    ranx_full_s = ranx_s * a.users / n_ranx
    detail = ", ".join(f"{name} {sec:.1f} s" for name, sec in ranx_stages.items())
    warm = (f"(after a {warm_s:.1f} s warm-up on 50 users — numba compile — that is not counted)")
    if sub is None:
        print(f"ranx : {ranx_s:7.2f} s for 5 metrics on all {n_ranx:,} users, measured, no "
              f"extrapolation; peak +{ranx_mem:,.0f} MiB: {detail} {warm}")
    else:
        print(f"ranx : {ranx_s:7.2f} s for 5 metrics on a random {n_ranx:,} of {a.users:,} users; "
              f"peak +{ranx_mem:,.0f} MiB: {detail} {warm}; EXTRAPOLATED linearly to all users: "
              f"{ranx_full_s:.1f} s (an estimate, not a measurement)")
    kind = "measured" if sub is None else "vs ranx's extrapolated time"
    print(f"ratio: ours is {ranx_full_s / ours_s:.1f}× faster than ranx end to end ({kind}; "
          f"target ≥ 5×; ours under 60 s: {'yes' if ours_s < 60 else 'NO'})")
    print(f"peak memory: each side in its own forked process, above the {peak_rss_mib():,.0f} MiB "
          f"that this process holds (input frames): ours +{ours_mem:,.0f} MiB, ranx "
          f"+{ranx_mem:,.0f} MiB")

    def value(name: str) -> float:
        row = summary[(summary["metric"] == name) & (summary["k"] == a.k)]
        return float(row["mean"].iloc[0])

    for name in RANX_METRICS:
        mine, theirs = value(name), ref[f"{name}@{a.k}"]
        note = " (ranx on its subsample)" if sub is not None else f"  |diff| {abs(mine - theirs):.1e}"
        print(f"  {name}@{a.k}: ours {mine:.6f}  ranx {theirs:.6f}{note}")
    for name in ("coverage", "gini", "novelty", "arp", "personalization", "serendipity"):
        print(f"  {name}@{a.k}: {value(name):.6f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
