"""Why the two-stage ranker helps on one protocol and not on the other: a diagnostic.

For a protocol (P1 = per-user random 75/25 seed 42, P2 = per-user temporal 80/20) on ml-latest-small it
builds the ranker's rows twice, with ``XGBoostRanker.label_rows``:

- *label-window world*: history = training data minus the label window, labels = the window (what
  ``fit`` learns from);
- *test world*: history = all training data, labels = the test set (what ``recommend`` faces).

and reports DCG@10 within the candidates (binary labels), relative to the prior (EASE's order):

- ``ceiling``: a ranker trained on the test world itself, 5-fold cross-validated over users (other
  users' *test* labels: a bound on what these features can add, never a result);
- ``transfer``: a ranker trained on the label-window world, scored on the test world (what fit does);
  ``shrunk transfer α``: the same with its corrections scaled, prior + α · (margin − prior): whether the
  corrections point the right way but are too strong for the test world's better retrievers;
- ``nested α``: α chosen without the test world: a ranker trained on a window carved again from the
  label window's history (the *nested world*) is scored on the label-window world, the best α of
  0, 0.25, …, 1 there is kept and applied to the transfer (``--nested``).

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/ranker_transfer.py [--protocol P1] [--param k=v]
"""

from __future__ import annotations

import argparse

import numpy as np

from movielens_lessons.models.boosting.ranker.prior import shrink_corrections

DISCOUNT = 1.0 / np.log2(np.arange(2, 12))


def dcg_at_10(score: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """DCG@10 per group (rows sorted by group), binary labels, candidates only."""
    order = np.lexsort((-score, rows))
    starts = np.flatnonzero(np.r_[True, rows[order][1:] != rows[order][:-1]])
    ends = np.r_[starts[1:], len(order)]
    return np.array(
        [(labels[order[a : min(b, a + 10)]] * DISCOUNT[: min(b - a, 10)]).sum()
         for a, b in zip(starts, ends, strict=True)]
    )


def train(params: dict, part: dict, select: np.ndarray, stop: np.ndarray, names: list[str]):
    import xgboost as xgb

    def matrix(mask: np.ndarray) -> xgb.DMatrix:
        return xgb.DMatrix(part["x"][mask], label=part["labels"][mask], qid=part["rows"][mask],
                           base_margin=part["prior"][mask], feature_names=names)

    booster = xgb.train(params, matrix(select), num_boost_round=400, evals=[(matrix(stop), "stop")],
                        early_stopping_rounds=40, verbose_eval=False)
    return booster[: booster.best_iteration + 1]


def predict(booster, part: dict, mask: np.ndarray, names: list[str]) -> np.ndarray:
    import xgboost as xgb

    dm = xgb.DMatrix(part["x"][mask], base_margin=part["prior"][mask], feature_names=names)
    return booster.predict(dm, output_margin=True)


def ceiling_and_transfer(
    test_world: dict, window_world: dict, names: list[str], params: dict, seeds: int
) -> tuple[list[float], list[float], list[np.ndarray]]:
    """Mean DCG@10 of the test world's candidates per seed: ``ceiling`` (5 folds of test-world users,
    early stopping on a fifth of each fold's training users) and ``transfer`` (trained on the label
    window as ``fit`` trains it, minus the refit), plus the transfer's test-world margins."""
    rng = np.random.default_rng(0)
    ceiling, transfer, margins = [], [], []
    for seed in range(seeds):
        booster_params = params | {"seed": seed}
        groups = np.unique(test_world["rows"][test_world["labels"] > 0])
        fold = rng.integers(0, 5, size=len(test_world["users"]))
        score = np.zeros(len(test_world["labels"]))
        for f in range(5):
            fit_groups = groups[fold[groups] != f]
            stop_groups = rng.choice(fit_groups, len(fit_groups) // 5, replace=False)
            fit_mask = np.isin(test_world["rows"], np.setdiff1d(fit_groups, stop_groups))
            booster = train(booster_params, test_world, fit_mask,
                            np.isin(test_world["rows"], stop_groups), names)
            held = fold[test_world["rows"]] == f
            score[held] = predict(booster, test_world, held, names)
        ceiling.append(dcg_at_10(score, test_world["labels"], test_world["rows"]).mean())
        groups = np.unique(window_world["rows"][window_world["labels"] > 0])
        stop_groups = rng.choice(groups, len(groups) // 5, replace=False)
        booster = train(booster_params, window_world,
                        np.isin(window_world["rows"], np.setdiff1d(groups, stop_groups)),
                        np.isin(window_world["rows"], stop_groups), names)
        every = np.ones(len(test_world["labels"]), dtype=bool)
        margins.append(predict(booster, test_world, every, names))
        transfer.append(dcg_at_10(margins[-1], test_world["labels"], test_world["rows"]).mean())
    return ceiling, transfer, margins


ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def nested_alpha(
    nested_world: dict, window_world: dict, test_world: dict, margins: list[np.ndarray],
    names: list[str], params: dict,
) -> tuple[list[float], list[float]]:
    """Per seed, the α of :data:`ALPHAS` that a ranker trained on ``nested_world`` scores best with
    on ``window_world``, and the test-world DCG@10 of the transfer ``margins`` shrunk by it."""
    rng = np.random.default_rng(1)
    every = np.ones(len(window_world["labels"]), dtype=bool)
    chosen, values = [], []
    for seed, margin in enumerate(margins):
        groups = np.unique(nested_world["rows"][nested_world["labels"] > 0])
        stop = rng.choice(groups, len(groups) // 5, replace=False)
        booster = train(params | {"seed": seed}, nested_world,
                        np.isin(nested_world["rows"], np.setdiff1d(groups, stop)),
                        np.isin(nested_world["rows"], stop), names)
        inner = predict(booster, window_world, every, names)
        prior = window_world["prior"]
        alpha = max(ALPHAS, key=lambda a: dcg_at_10(
            shrink_corrections(inner, prior, a), window_world["labels"], window_world["rows"]).mean())
        chosen.append(alpha)
        shrunk = shrink_corrections(margin, test_world["prior"], alpha)
        values.append(dcg_at_10(shrunk, test_world["labels"], test_world["rows"]).mean())
    return chosen, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--protocol", choices=["P1", "P2"], default="P1")
    parser.add_argument("--param", action="append", default=[], help="ranker KEY=VALUE, as train --param")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--nested", action="store_true", help="also choose α in a nested window")
    args = parser.parse_args()

    from movielens_lessons.data.loading import load_dataset
    from movielens_lessons.data.splits import user_random_split, user_temporal_split
    from movielens_lessons.models.boosting.ranker.labels import label_window
    from movielens_lessons.models.boosting.ranker.model import XGBoostRanker
    from movielens_lessons.models.registry import parse_param

    params = {"validation": "random" if args.protocol == "P1" else "temporal"}
    params.update(parse_param(kv) for kv in args.param)
    data = load_dataset("ml-latest-small")
    split = (user_random_split(data, test_size=0.25, seed=42) if args.protocol == "P1"
             else user_temporal_split(data, test_size=0.2))
    model = XGBoostRanker(**params)
    test_world = model.label_rows(split.train, split.test)
    history, window = label_window(
        split.train, model.validation, model.validation_fraction, model.random_state
    )
    window_world = model.label_rows(history, window)
    names = model.feature_names_
    base = model.booster_params() | {"nthread": 2}
    prior_dcg = dcg_at_10(test_world["prior"], test_world["labels"], test_world["rows"]).mean()

    ceiling, transfer, margins = ceiling_and_transfer(
        test_world, window_world, names, base, args.seeds
    )
    shrunk = {
        alpha: [dcg_at_10(shrink_corrections(m, test_world["prior"], alpha),
                          test_world["labels"], test_world["rows"]).mean() for m in margins]
        for alpha in (0.25, 0.5, 0.75)
    }

    def gain(values: list[float]) -> str:
        g = 100 * (np.array(values) / prior_dcg - 1)
        return f"{g.mean():+.1f} % (seeds: {', '.join(f'{v:+.1f}' for v in g)})"

    print(f"{args.protocol} {params}")
    print(f"candidate recall, test world: {test_world['labels'].sum() / test_world['n_window']:.3f}")
    print(f"prior (EASE order) DCG@10 within candidates: {prior_dcg:.4f}")
    print(f"ceiling  (trained on other users' test labels, 5-fold): {gain(ceiling)}")
    print(f"transfer (trained on the label window, as fit does):    {gain(transfer)}")
    for alpha, values in shrunk.items():
        print(f"shrunk transfer, α = {alpha}:                           {gain(values)}")
    if args.nested:
        nested_world = model.label_rows(*label_window(
            history, model.validation, model.validation_fraction, model.random_state + 1
        ))
        chosen, values = nested_alpha(nested_world, window_world, test_world, margins, names, base)
        print(f"nested α (chosen per seed: {chosen}):             {gain(values)}")


if __name__ == "__main__":
    main()
