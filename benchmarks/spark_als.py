"""ALS on Spark against the single-machine ALS models, on the benchmark config's protocols.

For each protocol it fits, in one process and on the same split: ``spark-als`` and the project's
``explicit-als`` (RMSE and MAE on the test ratings), ``spark-als-implicit`` and the ``implicit``
library's ``als`` (NDCG@10 and recall@10 of every test user's top 10); fit seconds of each and the
ratios Spark / single-machine. Spark's start-up (the first session of the process) is timed on its
own and not charged to either model. ``--param`` sets a Spark model's parameter (``NAME.KEY=VALUE``),
``--validation`` scores on ``tune``'s validation split instead of the test split (use it to choose).

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/spark_als.py [--protocol user-random] \\
        [--param spark-als-implicit.n_factors=32] [--validation] [--only spark-als]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--protocol", action="append", default=None, help="protocol(s) of the config (default: all)"
    )
    parser.add_argument("--param", action="append", default=[], help="NAME.KEY=VALUE")
    parser.add_argument("--validation", action="store_true", help="score on the validation split")
    parser.add_argument("--only", choices=["spark-als", "spark-als-implicit"], default=None,
                        help="one Spark model (and its single-machine peer) only")
    args = parser.parse_args()

    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.split_registry import split
    from movielens_lessons.evaluation import evaluate
    from movielens_lessons.experiments.config_loading import default_config_path, load_config
    from movielens_lessons.experiments.tuning import validation_split
    from movielens_lessons.models.registry import create_model, parse_param
    from movielens_lessons.spark.session import spark_session

    overrides: dict[str, dict] = {}
    for entry in args.param:
        name, _, kv = entry.partition(".")
        key, value = parse_param(kv)
        overrides.setdefault(name, {})[key] = value
    config = load_config(default_config_path())
    data = load_dataset(config.dataset)
    clock = time.perf_counter()
    spark_session()
    print(f"{data!r}; Spark session started in {time.perf_counter() - clock:.1f} s")
    pairs = [(s, peer) for s, peer in (("spark-als", "explicit-als"), ("spark-als-implicit", "als"))
             if args.only in (None, s)]
    for protocol_name in args.protocol or [p.name for p in config.protocols]:
        protocol = config.protocol(protocol_name)
        if args.validation:
            train, test, _ = validation_split(data, protocol)
        else:
            parts = split(data, protocol.strategy, **protocol.params)
            train, test = parts.train, parts.test
        frame = test.to_frame()
        users = test.user_ids[test.active_users]
        for spark_name, local_name in pairs:
            fits, quality = {}, {}
            for name in (spark_name, local_name):
                params = overrides.get(name) or (
                    config.model(name).params_for(protocol_name)
                    if name in {m.name for m in config.models} else {}
                )
                model = create_model(name, **params)
                clock = time.perf_counter()
                model.fit(train)
                fits[name] = time.perf_counter() - clock
                if model.feedback == "explicit":
                    pred = model.predict(frame["userId"].to_numpy(), frame["movieId"].to_numpy())
                    err = pred - frame["rating"].to_numpy()
                    quality[name] = (float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err))))
                    label = f"RMSE {quality[name][0]:.4f}  MAE {quality[name][1]:.4f}"
                else:
                    res = evaluate(model.recommend(users, k=10), test, train, k=(10,),
                                   metrics=["ndcg", "recall"], n_bootstrap=0)  # fmt: skip
                    quality[name] = (res.value("ndcg", 10), res.value("recall", 10))
                    label = f"NDCG@10 {quality[name][0]:.4f}  recall@10 {quality[name][1]:.4f}"
                print(f"{protocol_name:14} {name:19} fit {fits[name]:6.1f} s  {label}", flush=True)
            ratio = quality[spark_name][0] / quality[local_name][0]
            print(f"{protocol_name:14} {spark_name} / {local_name}: fit {fits[spark_name] / fits[local_name]:.1f}×,"
                  f" {'RMSE' if spark_name == 'spark-als' else 'NDCG@10'} {ratio:.3f}×", flush=True)


if __name__ == "__main__":
    main()
