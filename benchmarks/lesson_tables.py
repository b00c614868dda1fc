"""The measured tables of four lessons in ``docs/lessons/``, one sub-command each.

    MOVIELENS_DATA_DIR=../shared/data python benchmarks/lesson_tables.py implicit     # 1-3 min
    MOVIELENS_DATA_DIR=../shared/data python benchmarks/lesson_tables.py leakage      # 1.5-3 min
    MOVIELENS_DATA_DIR=../shared/data python benchmarks/lesson_tables.py popularity   # 10-40 s
    MOVIELENS_DATA_DIR=../shared/data python benchmarks/lesson_tables.py cold-start   # 10-70 s

(wall times on a shared 2-core machine, idle to busy; most of it is EASE's fits)

- ``implicit`` (``implicit-vs-explicit.md``): rating models against implicit models on both benchmark
  protocols: RMSE, NDCG@10 with every test rating relevant and with only ratings ≥ 4 relevant, and
  EASE trained on every rating against EASE trained on the ratings ≥ 4 only.
- ``leakage`` (``splitting-and-leakage.md``): the same three models on four splits, and the
  popularity leak: most-popular counted on all the data instead of the training part.
- ``popularity`` (``popularity-bias.md``): how concentrated the test set itself is, each model's
  coverage, Gini, novelty and share of slots on the head, recall on long-tail test items, and EASE
  re-ranked with a popularity penalty.
- ``cold-start`` (``cold-start.md``): new users (whole users held out of training), served by
  fold-in from their first *n* ratings against the most-popular fallback.

Models take the parameters of ``experiments/ml-latest-small.toml``; everything is seeded, so a rerun
prints the same numbers (fit seconds aside). The functions return plain dicts, which the lesson tests
(``tests/lessons/``) call on the same data to re-derive the pages' numbers.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.loading import load_dataset
from movielens_lessons.data.split_registry import split
from movielens_lessons.evaluation import evaluate
from movielens_lessons.evaluation.ranking import ndcg, recall
from movielens_lessons.evaluation.rating import rmse as rating_rmse
from movielens_lessons.evaluation.relevance import relevant_matrix
from movielens_lessons.experiments import runner
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.config_loading import load_config
from movielens_lessons.models.registry import create_model
from movielens_lessons.models.topk import mask_seen, top_k

CONFIG = Path(__file__).resolve().parents[1] / "experiments" / "ml-latest-small.toml"


@functools.cache
def config() -> BenchmarkConfig:
    """The benchmark config, read once."""
    return load_config(CONFIG)


#: The config's protocols, by name: user-temporal (P2) and user-random (P1).
PROTOCOLS = tuple(p.name for p in config().protocols)


def params(name: str, protocol: str = "user-temporal") -> dict:
    """The benchmark config's parameters of model ``name`` for ``protocol``."""
    known = {m.name for m in config().models}
    return config().model(name).params_for(protocol) if name in known else {}


def fit(name: str, train: Dataset, protocol: str = "user-temporal", **extra):
    return create_model(name, **{**params(name, protocol), **extra}).fit(train)


def make_split(ds: Dataset, protocol: str):
    """The config's ``protocol`` split of ``ds``, as the benchmark makes it."""
    return runner.make_split(ds, config().protocol(protocol))


def ndcg_at_10(model, train: Dataset, test: Dataset, threshold: float | None = None) -> float:
    users = test.user_ids[test.active_users]
    recs = model.recommend(users, k=10)
    result = evaluate(recs, test, train, k=10, metrics=["ndcg"], relevance_threshold=threshold,
                      n_bootstrap=0)
    return result.value("ndcg")


def rmse(model, test: Dataset) -> float:
    pred = model.predict(test.user_ids[test.users], test.item_ids[test.items])
    return rating_rmse(pred, test.ratings)


# --- implicit vs explicit -------------------------------------------------------------------------

IMPLICIT_MODELS = ("most-popular", "ease")
EXPLICIT_MODELS = ("bias-baseline", "explicit-als")


def implicit_table(ds: Dataset, protocols=tuple(PROTOCOLS), models=None) -> dict:
    """Per protocol and model: RMSE (rating models), NDCG@10 (all test ratings relevant; only ≥ 4)."""
    models = models or IMPLICIT_MODELS + EXPLICIT_MODELS + ("ease (ratings ≥ 4 only)",)
    out: dict = {}
    for protocol in protocols:
        sp = make_split(ds, protocol)
        rows = {}
        for name in models:
            if name.endswith("(ratings ≥ 4 only)"):
                train = sp.train.with_positive_threshold(4.0)
                model = fit(name.split()[0], train, protocol)
            else:
                train = sp.train
                model = fit(name, train, protocol)
            row = {"ndcg@10": ndcg_at_10(model, sp.train, sp.test),
                   "ndcg@10 (>=4)": ndcg_at_10(model, sp.train, sp.test, threshold=4.0)}
            if name in EXPLICIT_MODELS:
                row["rmse"] = rmse(model, sp.test)
            rows[name] = row
        out[protocol] = rows
    return out


def print_implicit(table: dict) -> None:
    print("| protocol | model | RMSE | NDCG@10, any test rating relevant "
          "| NDCG@10, ratings ≥ 4 relevant |")
    print("|---|---|---:|---:|---:|")
    for protocol, rows in table.items():
        for name, r in rows.items():
            rm = f"{r['rmse']:.4f}" if "rmse" in r else "–"
            print(f"| {protocol} | {name} | {rm} | {r['ndcg@10']:.4f} | {r['ndcg@10 (>=4)']:.4f} |")


# --- splitting and leakage ------------------------------------------------------------------------

LEAK_MODELS = ("most-popular", "item-knn", "ease")
LEAK_SPLITS = {
    "random (20 %)": {"strategy": "random", "test_size": 0.2, "seed": 42},
    "user-random (25 %)": {"strategy": "user-random", "test_size": 0.25, "seed": 42},
    "user-temporal (20 %)": {"strategy": "user-temporal", "test_size": 0.2},
    "temporal (global cut, 20 %)": {"strategy": "temporal", "test_size": 0.2},
}


def leakage_table(ds: Dataset, splits=tuple(LEAK_SPLITS), models=LEAK_MODELS) -> dict:
    """NDCG@10 of ``models`` on each split, and most-popular counted on all data (the leak)."""
    out: dict = {}
    for label in splits:
        p = dict(LEAK_SPLITS[label])
        sp = split(ds, p.pop("strategy"), **p)
        protocol = "user-random" if "random" in label else "user-temporal"
        row = {name: ndcg_at_10(fit(name, sp.train, protocol), sp.train, sp.test) for name in models}
        row["most-popular, counted on all data"] = leaky_popularity_ndcg(ds, sp.train, sp.test)
        out[label] = row
    return out


def leaky_popularity_ndcg(ds: Dataset, train: Dataset, test: Dataset) -> float:
    """NDCG@10 of "the most popular unseen movies" with popularity counted on train + test (a leak)."""
    counts = np.bincount(ds.items, minlength=ds.n_items).astype(np.float32)
    users = test.active_users
    block = np.repeat(counts[None, :], len(users), axis=0)
    mask_seen(block, train.implicit(), users)
    items, _ = top_k(block, 10)
    return float(ndcg(items, relevant_matrix(test)[users]).mean())


def print_leakage(table: dict) -> None:
    cols = list(next(iter(table.values())))
    print("| split | " + " | ".join(cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for label, row in table.items():
        print(f"| {label} | " + " | ".join(f"{row[c]:.4f}" for c in cols) + " |")


# --- popularity bias ------------------------------------------------------------------------------

POP_MODELS = ("random", "most-popular", "item-knn", "als", "ease")


def head_items(train: Dataset, share: float) -> np.ndarray:
    """Boolean mask of the most popular ``share`` of the rated catalogue (by training users)."""
    counts = np.bincount(train.items, minlength=train.n_items)
    rated = np.flatnonzero(counts > 0)
    n_head = int(np.floor(share * len(rated) + 0.5))
    order = rated[np.argsort(-counts[rated], kind="stable")]
    mask = np.zeros(train.n_items, dtype=bool)
    mask[order[:n_head]] = True
    return mask


def test_concentration(train: Dataset, test: Dataset) -> dict:
    """Share of test ratings on the training top 1 % / top 20 % of movies, and on unrated ones."""
    counts = np.bincount(train.items, minlength=train.n_items)
    return {
        "top1": float(head_items(train, 0.01)[test.items].mean()),
        "top20": float(head_items(train, 0.20)[test.items].mean()),
        "unrated": float((counts[test.items] == 0).mean()),
        "n_rated": int((counts > 0).sum()),
    }


def popularity_row(recs, train: Dataset, test: Dataset) -> dict:
    result = evaluate(recs, test, train, k=10, metrics=["ndcg", "coverage", "gini", "novelty"],
                      n_bootstrap=0)
    head = head_items(train, 0.20)
    slots = recs.items[recs.items >= 0]
    tail_rows = np.flatnonzero(~head[test.items])
    tail_test = test.subset(tail_rows, name=f"{test.name}-tail")
    tail_users = tail_test.active_users
    rel = relevant_matrix(tail_test)[tail_users]
    pos = {u: i for i, u in enumerate(recs.users)}
    tail_recall = float(recall(recs.items[[pos[u] for u in tail_users]], rel).mean())
    return {
        "ndcg@10": result.value("ndcg"),
        "coverage@10": result.value("coverage"),
        "gini@10": result.value("gini"),
        "novelty@10": result.value("novelty"),
        "head_slots": float(head[slots].mean()),
        "tail_recall@10": tail_recall,
    }


def penalised_recs(model, train: Dataset, users: np.ndarray, beta: float, n_candidates: int = 100):
    """Re-rank the model's top ``n_candidates`` by score / (1 + training count) ** beta."""
    recs = model.recommend(users, k=n_candidates)
    counts = np.bincount(train.items, minlength=train.n_items).astype(np.float32)
    cand = recs.items
    scores = np.where(cand >= 0, np.maximum(recs.scores, 0.0), -np.inf)
    penalised = scores / (1.0 + counts[np.maximum(cand, 0)]) ** beta
    order = np.argsort(-penalised, axis=1, kind="stable")[:, :10]
    items = np.take_along_axis(cand, order, axis=1)
    return type(recs)(users=recs.users, items=items,
                      scores=np.take_along_axis(penalised, order, axis=1).astype(np.float32),
                      user_ids=recs.user_ids, item_ids=recs.item_ids)


def popularity_table(ds: Dataset, models=POP_MODELS, betas=(0.25, 0.5)) -> dict:
    sp = make_split(ds, "user-temporal")
    users = sp.test.user_ids[sp.test.active_users]
    out: dict = {"test": test_concentration(sp.train, sp.test), "models": {}}
    ease = None
    for name in models:
        model = fit(name, sp.train, random_state=42) if name == "random" else fit(name, sp.train)
        out["models"][name] = popularity_row(model.recommend(users, k=10), sp.train, sp.test)
        if name == "ease":
            ease = model
    if ease is not None:
        for beta in betas:
            recs = penalised_recs(ease, sp.train, users, beta)
            out["models"][f"ease, popularity penalty β = {beta}"] = popularity_row(
                recs, sp.train, sp.test)
    return out


def print_popularity(table: dict) -> None:
    t = table["test"]
    print(f"test ratings on the training top 1 % of movies: {100 * t['top1']:.1f} %; top 20 %: "
          f"{100 * t['top20']:.1f} %; on movies with no training rating: {100 * t['unrated']:.1f} %"
          f" ({t['n_rated']:,} movies rated in training)\n")
    print("| model | NDCG@10 | coverage@10 | Gini@10 | novelty@10 (bits) "
          "| slots on the top 20 % | recall@10 on long-tail test ratings |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in table["models"].items():
        print(f"| {name} | {r['ndcg@10']:.4f} | {r['coverage@10']:.4f} | {r['gini@10']:.4f} "
              f"| {r['novelty@10']:.2f} | {100 * r['head_slots']:.1f} % "
              f"| {r['tail_recall@10']:.4f} |")


# --- cold start (new users) -----------------------------------------------------------------------

COLD_MODELS = ("most-popular", "item-knn", "als", "ease")
HISTORY_SIZES = (0, 1, 3, 5, 10, 20, 50)


def new_user_split(ds: Dataset):
    """20 % of users held out whole; their first 80 % of ratings by time is the fold-in pool."""
    return split(ds, "strong-generalization", test_users=0.2, fold_in=0.8, seed=42)


def cold_start_table(ds: Dataset, models=COLD_MODELS, sizes=HISTORY_SIZES) -> dict:
    """NDCG@10 on the held-out users' later ratings, from their first ``n`` ratings (fold-in; a user
    whose fold-in pool is shorter gives all of it). ``n = 0`` is computed for most-popular only."""
    sp = new_user_split(ds)
    users = sp.test.active_users
    rel = relevant_matrix(sp.test)[users]
    pool = sp.fold_in
    order = np.lexsort((pool.timestamps, pool.users))
    hist_users, hist_items = pool.users[order], pool.items[order]
    starts = np.searchsorted(hist_users, users)
    ends = np.searchsorted(hist_users, users, side="right")
    out: dict = {"n_users": len(users), "n_train_users": len(sp.train.active_users),
                 "fold_in_median": float(np.median(ends - starts)), "models": {}}
    for name in models:
        start = time.perf_counter()
        model = fit(name, sp.train)
        fit_s = time.perf_counter() - start
        row: dict = {"fit_s": fit_s}
        for n in sizes:
            if n == 0 and name != "most-popular":
                continue  # no history: a service serves the popularity fallback (the first row)
            items = np.full((len(users), 10), -1, dtype=np.int64)
            for r, (a, b) in enumerate(zip(starts, ends, strict=True)):
                history = ds.item_ids[hist_items[a:min(b, a + n)]]
                items[r] = model.recommend_for_history(history, k=10).items[0]
            row[n] = float(ndcg(items, rel).mean())
        out["models"][name] = row
    return out


def print_cold_start(table: dict) -> None:
    sizes = [k for k in next(iter(table["models"].values())) if k != "fit_s"]
    cell = {True: "{:.4f}", False: "–"}
    print(f"{table['n_users']} held-out users (training: {table['n_train_users']} users); median "
          f"fold-in pool of {table['fold_in_median']:.0f} ratings\n")
    print("| model | " + " | ".join(f"n = {n}" for n in sizes) + " | fit s |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for name, row in table["models"].items():
        cells = " | ".join(cell[n in row].format(row.get(n)) for n in sizes)
        print(f"| {name} | {cells} | {row['fit_s']:.1f} |")


COMMANDS = {
    "implicit": (implicit_table, print_implicit),
    "leakage": (leakage_table, print_leakage),
    "popularity": (popularity_table, print_popularity),
    "cold-start": (cold_start_table, print_cold_start),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("table", choices=sorted(COMMANDS))
    parser.add_argument("--out", type=Path, help="also write the numbers as JSON")
    args = parser.parse_args(argv)
    compute, show = COMMANDS[args.table]
    start = time.perf_counter()
    table = compute(load_dataset("ml-latest-small"))
    show(table)
    print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(table, indent=2, default=str))


if __name__ == "__main__":
    main()
