"""Any model's settings side by side on ``tune``'s validation split: how defaults are chosen.

For each protocol given, the protocol's training part is cut again (``tune``'s validation split:
the test part is never read) and each setting (a JSON object of constructor parameters) is fitted
on the rest and scored: NDCG@10 and recall@20 of 20 recommendations per validation user, and the
fit time. ``--no-movies`` drops the item features (a user's own log usually has none);
``--data-dir`` reads the config's release from another folder, e.g. synthetic files written by
``movielens-lessons data synth --out DIR/ml-latest-small``, so a choice can be checked on data of
other shapes. ``--test`` scores on the protocol's test split instead: to report a setting once it
has been chosen, never to choose one.

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/validation_grid.py lightfm \\
        '{}' '{"item_features": "none"}' [--protocol user-random] [--no-movies] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a registry name, e.g. lightfm")
    parser.add_argument("settings", nargs="*", default=["{}"], help="JSON parameter objects")
    parser.add_argument(
        "--protocol", action="append", default=None, help="protocol(s) of the config (default: all)"
    )
    parser.add_argument("--no-movies", action="store_true", help="drop the item features")
    parser.add_argument(
        "--data-dir", default=None, help="a folder holding the config's release (e.g. synthetic)"
    )
    parser.add_argument(
        "--validation-size", type=float, default=0.2,
        help="share of each user's training rows held out for validation (tune's 0.2); a smaller "
        "share trains on more of each history, closer to the test split",
    )
    parser.add_argument(
        "--test", action="store_true", help="score on the test split instead (report, never choose)"
    )
    args = parser.parse_args()

    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.split_registry import split
    from movielens_lessons.evaluation import evaluate
    from movielens_lessons.experiments.config_loading import default_config_path, load_config
    from movielens_lessons.experiments.tuning import validation_split
    from movielens_lessons.models.registry import create_model

    try:
        grid = [json.loads(s) for s in args.settings]
    except json.JSONDecodeError as err:
        parser.error(f"a setting is not JSON: {err}")
    config = load_config(default_config_path())
    data = load_dataset(config.dataset, data_dir=args.data_dir)
    if args.no_movies:
        data = data.with_movies(None)
    print(f"{data!r}{' without movies' if args.no_movies else ''}; "
          f"{'test' if args.test else 'validation'} split")
    for name in args.protocol or [p.name for p in config.protocols]:
        protocol = config.protocol(name)
        if args.test:
            parts = split(data, protocol.strategy, **protocol.params)
            train, valid = parts.train, parts.test
        else:
            train, valid, _ = validation_split(data, protocol, args.validation_size)
        users = valid.user_ids[valid.active_users]
        for params in grid:
            clock = time.perf_counter()
            model = create_model(args.model, **params).fit(train)
            fit = time.perf_counter() - clock
            res = evaluate(model.recommend(users, k=20), valid, train, k=(10, 20),
                           metrics=["ndcg", "recall"], n_bootstrap=0)  # fmt: skip
            print(f"{name:14} {json.dumps(params):60} NDCG@10 {res.value('ndcg', 10):.4f}  "
                  f"recall@20 {res.value('recall', 20):.4f}  fit {fit:5.1f} s", flush=True)


if __name__ == "__main__":
    main()
