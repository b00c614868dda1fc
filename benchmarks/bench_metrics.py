"""Benchmark: the full metric set for 160,000 users × K = 100 against 5 million test interactions.

End to end from DataFrames (train, test, recommendations in long format) to ``evaluate()``'s summary with
bootstrap intervals, Gini and novelty included; then ``ranx`` computing its subset (precision, recall, nDCG,
MRR, hit rate @K) from the same DataFrames, in the same run. When ranx on every user would take too long,
it runs on a random subsample of users and its time is extrapolated linearly — the output says so.

    python benchmarks/bench_metrics.py                      # the issue's size
    python benchmarks/bench_metrics.py --users 20000 --test 600000 --ranx-users 0   # quick
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
import pandas as pd

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.evaluation.evaluate import evaluate
from movielens_lessons.evaluation.files import union_ids
from movielens_lessons.recommendations import Recommendations


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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
    order = np.argsort(cand, axis=1, kind="stable")
    s = np.take_along_axis(cand, order, axis=1)
    first = np.ones_like(s, dtype=bool)
    first[:, 1:] = s[:, 1:] != s[:, :-1]
    keep = np.empty_like(first)
    np.put_along_axis(keep, order, first, axis=1)
    rank = np.cumsum(keep, axis=1)
    sel = keep & (rank <= k)
    r, c = np.nonzero(sel)
    recs = pd.DataFrame({C.USER: r + 1, C.ITEM: cand[r, c] + 1, C.RANK: rank[r, c],
                         C.SCORE: (k + 1 - rank[r, c]).astype(np.float32)})
    return train, test, recs


def ours(train_df, test_df, recs_df, k: int, n_bootstrap: int, stages: dict | None = None):
    stages = {} if stages is None else stages
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
    return result


def with_ranx(test_df, recs_df, k: int, users: np.ndarray | None):
    import ranx

    if users is not None:
        test_df = test_df[test_df[C.USER].isin(users)]
        recs_df = recs_df[recs_df[C.USER].isin(users)]
    qrels = ranx.Qrels.from_df(
        pd.DataFrame({"q_id": test_df[C.USER].astype(str).astype(object), "doc_id": test_df[C.ITEM].astype(str).astype(object),
                      "score": 1}))
    run = ranx.Run.from_df(
        pd.DataFrame({"q_id": recs_df[C.USER].astype(str).astype(object), "doc_id": recs_df[C.ITEM].astype(str).astype(object),
                      "score": recs_df[C.SCORE].astype(float)}))
    names = [f"{m}@{k}" for m in ("precision", "recall", "ndcg", "mrr", "hit_rate")]
    return ranx.evaluate(qrels, run, names, make_comparable=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=160_000)
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--test", type=int, default=5_000_000, help="test interactions")
    ap.add_argument("--train", type=int, default=10_000_000, help="train interactions")
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--n-bootstrap", type=int, default=1000)
    ap.add_argument("--ranx-users", type=int, default=20_000,
                    help="users ranx is run on (0: all); its time is extrapolated linearly")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    t = time.perf_counter()
    train_df, test_df, recs_df = make_frames(a.users, a.items, a.test, a.train, a.k, a.seed)
    print(f"data: {len(train_df):,} train, {len(test_df):,} test interactions, "
          f"{len(recs_df):,} recommendation rows ({a.users:,} users × K={a.k}); "
          f"generated in {time.perf_counter() - t:.1f} s", flush=True)
    rss_before = peak_rss_mib()

    # ranx first (its numba compile is warmed on a tiny case so that only evaluation is timed)
    sub = None
    if a.ranx_users and a.ranx_users < a.users:
        sub = np.random.default_rng(a.seed).choice(np.arange(1, a.users + 1), a.ranx_users,
                                                   replace=False)
    with_ranx(test_df[test_df[C.USER] <= 50], recs_df[recs_df[C.USER] <= 50], a.k, None)
    t = time.perf_counter()
    ref = with_ranx(test_df, recs_df, a.k, sub)
    ranx_s = time.perf_counter() - t
    n_ranx = a.users if sub is None else len(sub)
    ranx_full_s = ranx_s * a.users / n_ranx
    peak_after_ranx = peak_rss_mib()

    t = time.perf_counter()
    stages: dict[str, float] = {}
    result = ours(train_df, test_df, recs_df, a.k, a.n_bootstrap, stages)
    ours_s = time.perf_counter() - t
    peak_after_ours = peak_rss_mib()

    print(f"ours : {ours_s:7.2f} s for every metric ({len(result.summary)} summary rows, "
          f"{a.n_bootstrap} bootstrap resamples) on all {result.n_users:,} users: "
          + ", ".join(f"{name} {sec:.1f} s" for name, sec in stages.items()))
    if sub is None:
        print(f"ranx : {ranx_s:7.2f} s for 5 metrics on all {n_ranx:,} users")
    else:
        print(f"ranx : {ranx_s:7.2f} s for 5 metrics on a random {n_ranx:,} of {a.users:,} users; "
              f"EXTRAPOLATED linearly to all users: {ranx_full_s:.1f} s")
    print(f"ratio: ours is {ranx_full_s / ours_s:.1f}× faster than ranx end to end "
          f"(target ≥ 5×; ours under 60 s: {'yes' if ours_s < 60 else 'NO'})")
    print(f"peak memory (ru_maxrss of this process): after data {rss_before:,.0f} MiB, after ranx "
          f"{peak_after_ranx:,.0f} MiB, after ours {peak_after_ours:,.0f} MiB")
    for name in ("precision", "recall", "ndcg", "mrr", "hit_rate"):
        mine = result.value(name, a.k)
        theirs = ref[f"{name}@{a.k}"]
        note = "" if sub is None else " (ranx on its subsample)"
        print(f"  {name}@{a.k}: ours {mine:.6f}  ranx {theirs:.6f}{note}")
    for name in ("coverage", "gini", "novelty", "arp", "personalization", "serendipity"):
        print(f"  {name}@{a.k}: {result.value(name, a.k):.6f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
