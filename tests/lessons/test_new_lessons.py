"""The four lessons measured with ``benchmarks/lesson_tables.py`` and ``movielens-lessons split``.

Each test recomputes the cheap rows of a page's table (most-popular, random, item-kNN, the rating
baselines, the split reports) with the script's own functions on the same data, and asserts the page
prints them exactly. EASE and ALS rows are left to the script: minutes on a busy 2-core machine.
"""

from __future__ import annotations

import pytest

from movielens_lessons.data.split_registry import split

pytestmark = pytest.mark.realdata


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


# --- implicit-vs-explicit.md ----------------------------------------------------------------------


def test_implicit_vs_explicit_cheap_rows(ds, tables, on_page) -> None:
    table = tables.implicit_table(ds, models=("most-popular", "bias-baseline"))
    rows = []
    for protocol, models in table.items():
        for name, r in models.items():
            rmse = f"{r['rmse']:.4f}" if "rmse" in r else "–"
            rows.append(_row(protocol, name, rmse, f"{r['ndcg@10']:.4f}",
                             f"{r['ndcg@10 (>=4)']:.4f}"))
    on_page("implicit-vs-explicit", *rows)


# --- splitting-and-leakage.md ---------------------------------------------------------------------

SPLITS = {
    "random 20 %": ("random", {"test_size": 0.2, "seed": 42}),
    "user-random 25 %": ("user-random", {"test_size": 0.25, "seed": 42}),
    "temporal (global cut) 20 %": ("temporal", {"test_size": 0.2}),
    "user-temporal 20 %": ("user-temporal", {"test_size": 0.2}),
    "strong generalization, 20 % of users": ("strong-generalization",
                                             {"test_users": 0.2, "fold_in": 0.8, "seed": 42}),
}


def _share(count: int, total: int) -> str:
    return f"{count:,} ({100 * count / total:.1f}%)"


def test_split_leakage_reports(ds, on_page) -> None:
    """The leakage report ``movielens-lessons split`` prints, for each of the page's five splits."""
    rows = []
    for label, (strategy, params) in SPLITS.items():
        lk = split(ds, strategy, **params).leakage
        assert lk.overlap == 0
        rows.append(_row(
            label, f"{lk.n_test:,}", f"{lk.test_users_unseen:,} of {lk.n_test_users:,}",
            f"{lk.test_items_unseen:,} of {lk.n_test_items:,}",
            _share(lk.test_interactions_with_unseen_item, lk.n_test),
            _share(lk.test_older_than_train_cut, lk.n_test),
            _share(lk.per_user_future_leak, lk.n_test),
        ))
    on_page("splitting-and-leakage", *rows)


def test_leakage_cost_popularity_columns(ds, tables, on_page) -> None:
    """most-popular, honest and counted on all data, on each split of the "worth" table."""
    table = tables.leakage_table(ds, models=("most-popular",))
    text = [f"| {label} | {r['most-popular']:.4f} | " for label, r in table.items()]
    text += [f" | {r['most-popular, counted on all data']:.4f} |" for r in table.values()]
    on_page("splitting-and-leakage", *text)


# --- popularity-bias.md ---------------------------------------------------------------------------


def test_popularity_bias_test_set_and_cheap_rows(splits, tables, on_page) -> None:
    sp = splits["user-temporal"]
    t = tables.test_concentration(sp.train, sp.test)
    users = sp.test.user_ids[sp.test.active_users]
    rows = []
    for name, extra in (("random", {"random_state": 42}), ("most-popular", {}), ("item-knn", {})):
        model = tables.fit(name, sp.train, **extra)
        r = tables.popularity_row(model.recommend(users, k=10), sp.train, sp.test)
        rows.append(_row(name, f"{r['ndcg@10']:.4f}", f"{r['coverage@10']:.4f}",
                         f"{r['gini@10']:.4f}", f"{r['novelty@10']:.2f}",
                         f"{100 * r['head_slots']:.1f} %", f"{r['tail_recall@10']:.4f}"))
    on_page(
        "popularity-bias",
        f"**{100 * t['top1']:.1f} %** of the test ratings fall on the top 1 % of movies",
        f"**{100 * t['top20']:.1f} %** on the top 20 %",
        f"**{100 * t['unrated']:.1f} %** on movies with no training rating",
        f"of the {t['n_rated']:,} movies with a training rating",
        *rows,
    )


# --- cold-start.md --------------------------------------------------------------------------------


def test_cold_start_fallback_and_item_knn_rows(ds, tables, on_page) -> None:
    table = tables.cold_start_table(ds, models=("most-popular", "item-knn"))
    rows = []
    for name, row in table["models"].items():
        cells = [f"{row[n]:.4f}" if n in row else "–" for n in tables.HISTORY_SIZES]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    on_page(
        "cold-start",
        f"{table['n_users']} held-out users",
        f"median fold-in pool of {table['fold_in_median']:.0f} ratings",
        *rows,
    )
