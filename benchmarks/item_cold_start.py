"""Item cold start: can a model recommend the movies that nobody rated in its training data?

On the benchmark config's user-temporal protocol (each user's latest 20 % of ratings is the test
part), some movies are rated only in test parts: every one of their ratings came after the rating
user's training cut-off. The split's id map knows them (as a catalogue knows a new release), but
their training column is empty, so a collaborative model has nothing to place them with. Models that
read item features (``two-tower``'s item tower over genres and decade, ``lightfm`` with genre and
decade features) can still give them a score.

For each model (the parameters of ``experiments/ml-latest-small-neural.toml``, else the constructor
defaults) trained on the training part with the movies table:

- NDCG@10 on the whole test part (the leaderboard's number, for context);
- recall@10 on the cold movies: the test part cut to the cold movies' rows, scored with the same
  ``evaluate`` (users with at least one cold test rating; the top-10 over the whole catalogue);
- the share of top-10 slots, over every test user, that hold a cold movie;
- recall@10 in a "new movies" row: each user's top 10 of the cold movies alone, by the model's
  scores (ties in a seeded random order, so a model that cannot tell them apart scores chance:
  10 / the number of cold movies, printed as its own row).

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/item_cold_start.py
        [--models most-popular,ease,als,lightfm,two-tower] [--out cold.json]

About 5 minutes on 2 cores (``two-tower``'s fit is most of it). Prints a Markdown table; ``--out``
keeps the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from movielens_lessons.data.loading import load_dataset
from movielens_lessons.evaluation import evaluate
from movielens_lessons.evaluation.ranking import recall
from movielens_lessons.evaluation.relevance import relevant_matrix
from movielens_lessons.experiments.config_loading import load_config
from movielens_lessons.experiments.runner import make_split
from movielens_lessons.models.registry import create_model

DEFAULT_MODELS = "most-popular,item-knn,als,ease,lightfm,two-tower"
NEURAL_CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "ml-latest-small-neural.toml"


def model_params(config, name: str, protocol: str) -> dict:
    """The benchmark config's parameters of ``name`` for ``protocol`` (none when it is not there)."""
    known = {m.name for m in config.models}
    return config.model(name).params_for(protocol) if name in known else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=DEFAULT_MODELS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--config", type=Path, default=NEURAL_CONFIG, help="models' parameters")
    args = parser.parse_args()
    config = load_config(args.config)
    protocol = next(p for p in config.protocols if p.strategy == "user-temporal")
    split = make_split(load_dataset(config.dataset), protocol)
    train, test = split.train, split.test
    trained = np.bincount(train.items, minlength=train.n_items) > 0
    cold_rows = np.flatnonzero(~trained[test.items])
    cold_test = test.subset(cold_rows, name=f"{test.name}-cold")
    n_cold_items = len(np.unique(test.items[cold_rows]))
    users = test.user_ids[test.active_users]
    cold_items = np.unique(test.items[cold_rows])  # internal ids
    cold_users = cold_test.active_users
    relevant = relevant_matrix(cold_test)[cold_users]
    tie_break = np.random.default_rng(config.seed).random(len(cold_items))
    report: dict = {
        "protocol": protocol.name,
        "cold_movies": n_cold_items,
        "cold_test_ratings": len(cold_rows),
        "test_ratings": len(test.items),
        "users_with_a_cold_rating": len(cold_test.active_users),
        "test_users": len(users),
        "models": {},
    }
    print(
        f"{n_cold_items:,} movies are rated only in test parts ({len(cold_rows):,} of "
        f"{len(test.items):,} test ratings); {report['users_with_a_cold_rating']} of {len(users)} "
        "test users rated at least one.\n"
    )
    print("| model | fit s | NDCG@10 (all test) | recall@10 on cold movies | top-10 slots holding a "
          "cold movie | recall@10 in a new-movies row |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|")
    chance = recall(
        np.tile(cold_items[np.argsort(tie_break)[:10]], (len(cold_users), 1)), relevant
    ).mean()
    report["chance_row_recall@10"] = float(chance)
    for name in args.models.split(","):
        start = time.perf_counter()
        model = create_model(name, **model_params(config, name, protocol.name)).fit(train)
        fit = time.perf_counter() - start
        recs = model.recommend(users, k=10)
        overall = evaluate(recs, test, train, k=10, metrics=["ndcg"], n_bootstrap=0)
        cold = evaluate(recs, cold_test, train, k=10, metrics=["recall"], n_bootstrap=0)
        slots = recs.items[recs.items >= 0]
        cold_share = float(np.mean(~trained[slots])) if len(slots) else 0.0
        row_scores = model.score(test.user_ids[cold_users], test.item_ids[cold_items])
        order = np.lexsort((np.broadcast_to(tie_break, row_scores.shape), -row_scores), axis=1)
        row_recall = float(recall(cold_items[order[:, :10]], relevant).mean())
        row = {
            "fit_s": fit,
            "ndcg@10": overall.value("ndcg"),
            "cold_recall@10": cold.value("recall"),
            "cold_slot_share": cold_share,
            "new_movies_row_recall@10": row_recall,
        }
        report["models"][name] = row
        print(
            f"| {name} | {fit:.1f} | {row['ndcg@10']:.4f} | {row['cold_recall@10']:.4f} "
            f"| {100 * cold_share:.2f} % | {row_recall:.4f} |",
            flush=True,
        )
    print(f"| chance (a row in random order) | | | | | {chance:.4f} |")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
        print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
