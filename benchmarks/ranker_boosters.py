"""Does the ranker's booster matter? Its parameters and bagging, judged on a validation split.

For a protocol of the benchmark config (default ``user-random``, P1) and the ranker's settings there,
it builds the ranker's rows once, as ``tune`` would see them: a label window carved from the
validation split's training part (what ``fit`` learns from) and the validation split itself
(retrievers on the whole training part, labels = the validation items). Then, for each booster
setting of ``--grid``, it trains

- as ``fit`` does with ``n_bags = 0`` (``--bag 0``): the ranker's ``n_folds`` (5) folds of users,
  each stopped early, then one refit for the median best round; or
- as ``fit`` does with ``n_bags = B`` (``--bag B``): the fold boosters of ``B`` fold assignments,
  each cut at its own best round, their margins averaged (5·B boosters, no refit),

and prints NDCG@10 of the validation users (every validation item counts, candidates or not) at
shrink 0 (the prior's order) / 0.5 / 0.75 / 1. ``--test`` repeats it on the protocol's test split:
read it only once a setting has been chosen on validation. ``--blend-grid`` instead scores blended
priors alone (``prior = {label: weight}``, no booster) over a grid of weights.

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
from movielens_lessons.models.boosting.ranker.prior import shrink_corrections

SHRINKS = (0.0, 0.5, 0.75, 1.0)


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


def margins(model, params: dict, window: dict, target: dict, bag: int, n_users: int) -> np.ndarray:
    """The target rows' margins from the booster(s) trained on ``window``'s rows as ``fit`` trains
    them with ``n_bags = bag`` (mean over bagged boosters)."""
    import xgboost as xgb

    from movielens_lessons.models.boosting.ranker.training import stack_rows, train_booster

    boosters, _ = train_booster(
        params,
        stack_rows([window]),
        model.feature_names_,
        n_users=n_users,
        n_folds=int(model.n_folds),
        eval_fraction=float(model.eval_fraction),
        n_estimators=int(model.n_estimators),
        early_stopping_rounds=int(model.early_stopping_rounds),
        random_state=int(model.random_state),
        nthread=int(params["nthread"]),
        n_bags=bag,
    )
    dm = xgb.DMatrix(target["x"], base_margin=target["prior"], feature_names=model.feature_names_)
    return np.mean([b.predict(dm, output_margin=True) for b in boosters], axis=0)


def blend(model, weights: dict[str, float], w: dict) -> np.ndarray:
    """The prior ``{label: weight}`` would give ``w``'s rows, computed as the model computes it
    (:func:`~movielens_lessons.models.boosting.ranker.prior.blend_prior`) from their score-ratio features."""
    from movielens_lessons.features.items import slug
    from movielens_lessons.models.boosting.ranker.prior import blend_prior

    columns = [model.feature_names_.index(f"{slug(label)}_score_ratio") for label in weights]
    return blend_prior(w["x"][:, columns], dict(enumerate(weights.values())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--protocol", default="user-random", help="a protocol of the benchmark config"
    )
    parser.add_argument("--grid", default="{}", help='JSON {"xgboost param": [values, ...]}')
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        help="ranker KEY=VALUE over the config's, as train --param",
    )
    parser.add_argument(
        "--bag", type=int, default=None, help="n_bags (default: the config's; 0: one refit)"
    )
    parser.add_argument(
        "--blend-grid",
        default=None,
        help='JSON {"retriever label": [weights]}: score blended priors alone (no booster)',
    )
    parser.add_argument(
        "--test", action="store_true", help="also score on the protocol's test split"
    )
    args = parser.parse_args()

    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.split_registry import split
    from movielens_lessons.errors import ConfigError
    from movielens_lessons.experiments.config_loading import default_config_path, load_config
    from movielens_lessons.experiments.tuning import validation_split
    from movielens_lessons.models.boosting.ranker.labels import label_window
    from movielens_lessons.models.boosting.ranker.model import XGBoostRanker
    from movielens_lessons.models.registry import parse_param

    config = load_config(default_config_path())
    try:
        protocol = config.protocol(args.protocol)
        grid = json.loads(args.grid)
        blend_grid = None if args.blend_grid is None else json.loads(args.blend_grid)
        settings = config.model("xgboost-ranker").params_for(protocol.name)
        settings.update(parse_param(kv) for kv in args.param)
    except (ConfigError, json.JSONDecodeError) as err:
        parser.error(f"--protocol / --grid / --blend-grid / --param: {err}")
    model = XGBoostRanker(**settings)
    bag = int(model.n_bags) if args.bag is None else args.bag
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
        f"{protocol.name}, ranker {settings}, bag {bag}; rows built in "
        f"{time.perf_counter() - t0:.0f} s; NDCG@10 at shrink {', '.join(map(str, SHRINKS))}"
    )
    if blend_grid is not None:
        for combo in itertools.product(*blend_grid.values()):
            weights = dict(zip(blend_grid, combo, strict=True))
            line = [
                f"{name} {ndcg_at_10(blend(model, weights, target), target):.4f}"
                for name, (_, target) in sets.items()
            ]
            print(f"prior {json.dumps(weights)}: {'; '.join(line)}", flush=True)
        return
    base = model.booster_params() | {"nthread": 2}
    for combo in itertools.product(*grid.values()):
        setting = dict(zip(grid, combo, strict=True))
        t = time.perf_counter()
        line = []
        for name, (window, target) in sets.items():
            m = margins(model, base | setting, window, target, bag, data.n_users)
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
