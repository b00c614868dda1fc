"""What the two-stage ranker costs and what it buys: its fit time as a multiple of EASE's, and its
NDCG@10 as a multiple of EASE's, both measured in the same run on the same split.

For each protocol of the benchmark config it fits EASE (the config's settings) and ``xgboost-ranker``
(the config's settings for that protocol, ``--param`` on top), recommends 10 items to every test user
and prints fit seconds, NDCG@10 and recall@20 of both, and the ratios ranker / EASE. Issue 15's
target on the per-user random protocol: fit ≤ 45 s at NDCG@10 ≥ 1.05× EASE.

``--validation`` scores on ``tune``'s validation split (carved from the protocol's training part)
instead of the test split: use it, never the test, to choose settings; ``--data-dir`` reads the
config's release from another folder (e.g. files written by ``data synth`` into
``DIR/ml-latest-small/``), so that a choice can be checked on data of other shapes; ``--no-movies`` drops the item features.

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/ranker_cost.py \\
        [--protocol user-random] [--param n_bags=1] [--validation] [--data-dir DIR] [--quick]
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--protocol", action="append", default=None, help="protocol(s) of the config (default: all)"
    )
    parser.add_argument(
        "--param", action="append", default=[], help="ranker KEY=VALUE over the config's"
    )
    parser.add_argument("--validation", action="store_true", help="score on the validation split")
    parser.add_argument(
        "--data-dir", default=None, help="a folder holding the config's release (e.g. synthetic)"
    )
    parser.add_argument("--no-movies", action="store_true", help="drop the item features")
    parser.add_argument("--quick", action="store_true", help="the config's [quick] settings")
    args = parser.parse_args()

    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.split_registry import split
    from movielens_lessons.evaluation import evaluate
    from movielens_lessons.experiments.config_loading import default_config_path, load_config
    from movielens_lessons.experiments.tuning import validation_split
    from movielens_lessons.models.registry import create_model, parse_param

    config = load_config(default_config_path())
    if args.quick:
        config = config.quick_version()
    data = load_dataset(config.dataset, data_dir=args.data_dir)
    if args.no_movies:
        data = data.with_movies(None)
    overrides = dict(parse_param(kv) for kv in args.param)
    names = args.protocol or [p.name for p in config.protocols]
    print(f"{data!r}; {'validation' if args.validation else 'test'} split; ranker overrides {overrides}")
    print("protocol        model           fit s   NDCG@10  recall@20")
    for name in names:
        protocol = config.protocol(name)
        if args.validation:
            train, target, _ = validation_split(data, protocol)
        else:
            parts = split(data, protocol.strategy, **protocol.params)
            train, target = parts.train, parts.test
        users = target.user_ids[target.active_users]
        rows = {}
        for model, params in (
            ("ease", config.model("ease").params_for(name)),
            ("xgboost-ranker", config.model("xgboost-ranker").params_for(name) | overrides),
        ):
            recommender = create_model(model, **params)
            clock = time.perf_counter()
            recommender.fit(train)
            fit = time.perf_counter() - clock
            recs = recommender.recommend(users, k=20)
            res = evaluate(recs, target, train, k=(10, 20), metrics=["ndcg", "recall"], n_bootstrap=0)
            rows[model] = (fit, res.value("ndcg", 10), res.value("recall", 20))
            print(f"{name:15} {model:15} {fit:6.1f}   {rows[model][1]:.4f}   {rows[model][2]:.4f}",
                  flush=True)  # fmt: skip
        (ef, en, er), (rf, rn, rr) = rows["ease"], rows["xgboost-ranker"]
        print(f"{name:15} ranker / ease   {rf / ef:5.1f}×   {rn / en:.3f}×   {rr / er:.3f}×", flush=True)


if __name__ == "__main__":
    main()
