"""Why a sequence model does or does not pay on a data set: how much order there is to learn, and how
each model does on the very next item versus the whole held-out future.

On the benchmark config's user-temporal protocol (each user's last 20 % of ratings is the test part):

1. Order in the training part: ratings per user, and the share of each user's consecutive ratings
   that share a timestamp, or come within a minute / an hour of each other (bulk rating of past
   favourites, not a viewing sequence).
2. Each model (the parameters of ``experiments/ml-latest-small-neural.toml``) scored on the full
   test part (NDCG@10, the leaderboard's number) and on the *next* item only: the test ratings at
   each user's earliest test timestamp (HR@10 and NDCG@10) — the target a next-item model is trained
   for.
3. NDCG@10 on the full test part by tercile of the user's training history length.
   ``--seeds 1,2``: ``sasrec`` again with other seeds (its spread from the initialisation alone).
4. ``--fractions 0.25,0.5``: a learning curve, ``sasrec`` and ``ease`` trained on a seeded share of the
   training users (every user still evaluated who was trained on), to see which gains more from data.

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/sequence_signal.py [--models ease,sasrec]
        [--seeds 1,2] [--fractions 0.25,0.5] [--out signal.json]

About 5 minutes on 2 cores for the default models (``sasrec``'s fit is most of it), plus ~3 minutes
per fraction. Prints Markdown tables; ``--out`` keeps the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.loading import load_dataset
from movielens_lessons.evaluation import evaluate
from movielens_lessons.experiments.config_loading import load_config
from movielens_lessons.experiments.runner import make_split
from movielens_lessons.models.registry import create_model

DEFAULT_MODELS = "most-popular,item-knn,als,ease,sasrec"
NEURAL_CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "ml-latest-small-neural.toml"


def order_facts(train: Dataset) -> dict[str, float]:
    """Ratings per user and the gaps between each user's consecutive ratings (seconds)."""
    users, stamps = train.users, train.timestamps
    assert stamps is not None, "the sequence signal needs timestamps"
    order = np.lexsort((stamps, users))
    u, t = users[order], stamps[order].astype(np.int64)
    same_user = u[1:] == u[:-1]
    gaps = (t[1:] - t[:-1])[same_user]
    counts = np.bincount(users, minlength=train.n_users)
    counts = counts[counts > 0]
    return {
        "users": len(counts),
        "ratings": len(users),
        "median_ratings_per_user": float(np.median(counts)),
        "share_gap_0s": float(np.mean(gaps == 0)),
        "share_gap_le_60s": float(np.mean(gaps <= 60)),
        "share_gap_le_1h": float(np.mean(gaps <= 3600)),
        "share_gap_gt_1d": float(np.mean(gaps > 86_400)),
    }


def next_item_part(test: Dataset) -> Dataset:
    """The test rows at each user's earliest test timestamp (ties all count as 'the next item')."""
    users, stamps = test.users, test.timestamps
    assert stamps is not None
    first = np.full(test.n_users, np.iinfo(np.int64).max)
    np.minimum.at(first, users, stamps.astype(np.int64))
    return test.subset(np.flatnonzero(stamps == first[users]), name=f"{test.name}-next")


def ndcg_hr(model, test: Dataset, train: Dataset) -> dict:
    """NDCG@10 and HR@10 of ``model`` on every user of ``test``."""
    users = test.user_ids[test.active_users]
    result = evaluate(
        model.recommend(users, k=10), test, train, k=10, metrics=["ndcg", "hit_rate"], n_bootstrap=0
    )
    return {"ndcg@10": result.value("ndcg"), "hr@10": result.value("hit_rate")}


def model_params(config, name: str, protocol: str) -> dict:
    """The benchmark config's parameters of ``name`` for ``protocol`` (none when it is not there)."""
    known = {m.name for m in config.models}
    return config.model(name).params_for(protocol) if name in known else {}


def user_subset(data: Dataset, users: np.ndarray) -> Dataset:
    """``data``'s rows of the internal ``users``."""
    return data.subset(np.flatnonzero(np.isin(data.users, users)), name=f"{data.name}-subset")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--fractions", default="", help="learning curve: shares of training users")
    parser.add_argument(
        "--seeds", default="", help="also fit sasrec with each of these random_state values"
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--config", type=Path, default=NEURAL_CONFIG, help="models' parameters")
    args = parser.parse_args()
    config = load_config(args.config)
    protocol = next(p for p in config.protocols if p.strategy == "user-temporal")
    split = make_split(load_dataset(config.dataset), protocol)
    train, test = split.train, split.test
    nxt = next_item_part(test)
    report: dict = {"protocol": protocol.name, "order": order_facts(train), "models": {}}
    facts = report["order"]
    print(f"## Order in the training part ({facts['ratings']:,} ratings, {facts['users']} users)\n")
    for key, value in facts.items():
        print(f"- {key}: {value:.3f}" if isinstance(value, float) else f"- {key}: {value}")

    lengths = np.bincount(train.users, minlength=train.n_users)
    tested = test.active_users
    edges = np.quantile(lengths[tested], [1 / 3, 2 / 3])
    terciles = np.digitize(lengths[tested], edges, right=True)
    buckets = {
        f"T{b + 1} ({int(lengths[tested][terciles == b].min())}-"
        f"{int(lengths[tested][terciles == b].max())} ratings)": user_subset(
            test, tested[terciles == b]
        )
        for b in range(3)
    }

    print("\n## Whole test part vs the next item (user-temporal, K = 10)\n")
    head = (
        "| model | fit s | NDCG@10 all | NDCG@10 next | HR@10 next | " + " | ".join(buckets) + " |"
    )
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    runs = [(name, None) for name in args.models.split(",")]
    runs += [("sasrec", int(seed)) for seed in args.seeds.split(",") if seed]
    for name, seed in runs:
        params = model_params(config, name, protocol.name)
        label = name if seed is None else f"{name} seed={seed}"
        if seed is not None:
            params = {**params, "random_state": seed}
        start = time.perf_counter()
        model = create_model(name, **params).fit(train)
        fit = time.perf_counter() - start
        row = {
            "fit_s": fit,
            "all": ndcg_hr(model, test, train),
            "next": ndcg_hr(model, nxt, train),
            "by_history": {
                b: ndcg_hr(model, part, train)["ndcg@10"] for b, part in buckets.items()
            },
        }
        report["models"][label] = row
        cells = [f"{v:.4f}" for v in row["by_history"].values()]
        print(
            f"| {label} | {fit:.1f} | {row['all']['ndcg@10']:.4f} | {row['next']['ndcg@10']:.4f} "
            f"| {row['next']['hr@10']:.4f} | " + " | ".join(cells) + " |",
            flush=True,
        )

    if args.fractions:
        print("\n## Learning curve: a share of the training users (NDCG@10, their own test rows)\n")
        print("| share of users | users | " + " | ".join(("ease", "sasrec")) + " |")
        print("|---|---|---|---|")
        report["learning_curve"] = {}
        rng = np.random.default_rng(config.seed)
        shuffled = rng.permutation(train.active_users)
        for fraction in [float(f) for f in args.fractions.split(",")] + [1.0]:
            users = np.sort(shuffled[: max(1, round(fraction * len(shuffled)))])
            sub_train, sub_test = user_subset(train, users), user_subset(test, users)
            cells = {}
            for name in ("ease", "sasrec"):
                model = create_model(name, **model_params(config, name, protocol.name)).fit(
                    sub_train
                )
                cells[name] = ndcg_hr(model, sub_test, sub_train)["ndcg@10"]
            report["learning_curve"][str(fraction)] = {"users": len(users), **cells}
            print(f"| {fraction:g} | {len(users)} | {cells['ease']:.4f} | {cells['sasrec']:.4f} |",
                  flush=True)  # fmt: skip

    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
        print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
