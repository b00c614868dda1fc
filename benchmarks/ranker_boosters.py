"""Does the ranker's booster matter? Its parameters and bagging, judged on a validation split.

For a protocol of the benchmark config (default ``user-random``, P1) and the ranker's settings there,
it builds the ranker's rows once, as ``tune`` would see them: a label window carved from the
validation split's training part (what ``fit`` learns from) and the validation split itself
(retrievers on the whole training part, labels = the validation items). Then, for each booster
setting of ``--grid``, it trains

- as ``fit`` does (``--bag 0``): 5 folds of users, each stopped early, then one refit for the median
  best round; or
- bagged (``--bag B``): the 5 fold boosters of ``B`` fold assignments (seeds 0 … B−1), each cut at
  its own best round, their margins averaged (5·B boosters, no refit),

and prints NDCG@10 of the validation users (every validation item counts, candidates or not) at
shrink 0 (the prior's order) / 0.5 / 0.75 / 1. ``--test`` repeats it on the protocol's test split:
read it only once a setting has been chosen on validation.

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/ranker_boosters.py \\
        [--protocol user-random] [--grid '{"max_depth": [3, 6]}'] [--bag 3] [--test]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np

from movielens_lessons.evaluation.ranking import ndcg
from movielens_lessons.models.xgboost_ranker import shrink_corrections

SHRINKS = (0.0, 0.5, 0.75, 1.0)
N_FOLDS = 5


def world(model, history, window) -> dict:
    """The ranker's rows for ``history`` → ``window`` plus ``relevant``: window positives (CSR, one row
    per row group)."""
    rows = model.label_rows(history, window)
    positives = window.subset(window.positive_mask)
    rows["relevant"] = positives.implicit()[rows["users"]]
    return rows


def ndcg_at_10(score: np.ndarray, w: dict) -> float:
    """Mean NDCG@10 over the groups of ``w`` when each ranks its candidates by ``score``."""
    order = np.lexsort((-score, w["rows"]))
    rows = w["rows"][order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    ends = np.r_[starts[1:], len(order)]
    rec = np.full((len(w["users"]), 10), -1, dtype=np.int64)
    for a, b in zip(starts, ends, strict=True):
        top = w["items"][order[a : min(b, a + 10)]]
        rec[rows[a], : len(top)] = top
    return float(ndcg(rec, w["relevant"], ks=(10,)).mean())


def matrix(w: dict, mask: np.ndarray, names: list[str], labels: bool = True):
    import xgboost as xgb

    return xgb.DMatrix(
        w["x"][mask],
        label=w["labels"][mask] if labels else None,
        qid=w["rows"][mask] if labels else None,
        base_margin=None if w["prior"] is None else w["prior"][mask],
        feature_names=names,
    )


def fold_boosters(params: dict, w: dict, names: list[str], seed: int, n_users: int) -> list:
    """The ``N_FOLDS`` boosters of one fold assignment of ``w``'s users, each at its best round."""
    import xgboost as xgb

    has_pos = np.bincount(w["rows"], weights=w["labels"]) > 0
    row_user = w["users"][w["rows"]]
    users = np.unique(row_user[has_pos[w["rows"]]])
    fold_of = np.full(n_users, -1)
    fold_of[np.random.default_rng(seed).permutation(users)] = np.arange(len(users)) % N_FOLDS
    boosters = []
    for f in range(N_FOLDS):
        held = (fold_of == f)[row_user]
        b = xgb.train(
            params | {"seed": seed},
            matrix(w, has_pos[w["rows"]] & ~held, names),
            num_boost_round=400,
            evals=[(matrix(w, has_pos[w["rows"]] & held, names), "e")],
            early_stopping_rounds=40,
            verbose_eval=False,
        )
        boosters.append(b[: b.best_iteration + 1])
    return boosters


def margins(model, params: dict, window: dict, target: dict, bag: int, n_users: int) -> np.ndarray:
    """The target rows' margins from boosters trained on ``window``'s rows."""
    from movielens_lessons.models.ranker_training import stack_rows, train_booster

    names = model.feature_names_
    every = np.ones(len(target["labels"]), dtype=bool)
    if bag == 0:
        booster, _ = train_booster(
            params,
            stack_rows([window]),
            names,
            n_users=n_users,
            n_folds=N_FOLDS,
            eval_fraction=0.2,
            n_estimators=400,
            early_stopping_rounds=40,
            random_state=int(model.random_state),
            nthread=int(params["nthread"]),
        )
        return booster.predict(matrix(target, every, names, labels=False), output_margin=True)
    test = matrix(target, every, names, labels=False)
    return np.mean(
        [
            b.predict(test, output_margin=True)
            for s in range(bag)
            for b in fold_boosters(params, window, names, s, n_users)
        ],
        axis=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--protocol", default="user-random", help="a protocol of the benchmark config"
    )
    parser.add_argument("--grid", default="{}", help='JSON {"xgboost param": [values, ...]}')
    parser.add_argument("--bag", type=int, default=0, help="fold assignments averaged (0: as fit)")
    parser.add_argument(
        "--test", action="store_true", help="also score on the protocol's test split"
    )
    args = parser.parse_args()

    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.splits import split
    from movielens_lessons.errors import ConfigError
    from movielens_lessons.experiments.config import default_config_path, load_config
    from movielens_lessons.experiments.tuning import validation_split
    from movielens_lessons.models.ranker_labels import label_window
    from movielens_lessons.models.xgboost_ranker import XGBoostRanker

    config = load_config(default_config_path())
    try:
        protocol = config.protocol(args.protocol)
        grid = json.loads(args.grid)
    except (ConfigError, json.JSONDecodeError) as err:
        parser.error(f"--protocol / --grid: {err}")
    settings = config.model("xgboost-ranker").params_for(protocol.name)
    model = XGBoostRanker(**settings)
    data = load_dataset(config.dataset)

    def worlds(train, target) -> tuple[dict, dict]:
        history, window = label_window(
            train, model.validation, model.validation_fraction, model.random_state
        )
        return world(model, history, window), world(model, train, target)

    t0 = time.perf_counter()
    train, valid, _ = validation_split(data, protocol)
    sets = {"validation": worlds(train, valid)}
    if args.test:
        sp = split(data, protocol.strategy, **protocol.params)
        sets["test"] = worlds(sp.train, sp.test)
    print(
        f"{protocol.name}, ranker {settings}, bag {args.bag}; rows built in "
        f"{time.perf_counter() - t0:.0f} s; NDCG@10 at shrink {', '.join(map(str, SHRINKS))}"
    )
    base = model._booster_params() | {"nthread": 2}
    for combo in itertools.product(*grid.values()):
        setting = dict(zip(grid, combo, strict=True))
        t = time.perf_counter()
        line = []
        for name, (window, target) in sets.items():
            m = margins(model, base | setting, window, target, args.bag, data.n_users)
            scores = [
                ndcg_at_10(shrink_corrections(m, target["prior"], s), target) for s in SHRINKS
            ]
            line.append(f"{name} " + " / ".join(f"{v:.4f}" for v in scores))
        print(
            f"{json.dumps(setting)}: {'; '.join(line)} ({time.perf_counter() - t:.0f} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
