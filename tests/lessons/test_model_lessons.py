"""Pages whose tables come from long runs, checked on the cheap rows they contain.

- ``do-neural-networks-help.md`` cites ``benchmark --config experiments/ml-latest-small-neural.toml``
  (EASE and most-popular rows: identical to the main leaderboard's) and
  ``benchmarks/sequence_signal.py`` (the gaps between consecutive training ratings).
- ``two-stage-ranking.md``: its first-stage EASE (the 3,000 most popular items, which the page
  says scores the same NDCG@10 as unpruned EASE) on both protocols.
- ``when-to-go-distributed.md`` cites ``benchmarks/spark_als.py`` for ``explicit-als``'s RMSE on
  both protocols (the 1-hour ``scale.py`` tables have no cheap number).
- ``item-cold-start.md`` cites ``benchmarks/item_cold_start.py``: the cold movies of the
  user-temporal split and the chance row.
"""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.evaluation.ranking import recall
from movielens_lessons.evaluation.relevance import relevant_matrix

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def ease_ndcg(ease_first_stage, splits, tables) -> dict:
    return {p: tables.ndcg_at_10(m, splits[p].train, splits[p].test)
            for p, m in ease_first_stage.items()}


@pytest.fixture(scope="module")
def popular_ndcg(splits, tables) -> dict:
    return {p: tables.ndcg_at_10(tables.fit("most-popular", sp.train, p), sp.train, sp.test)
            for p, sp in splits.items()}


def test_neural_lesson_reference_rows(popular_ndcg, on_page) -> None:
    on_page("do-neural-networks-help",
            *[f"| most-popular | {v:.4f} [" for v in popular_ndcg.values()])


def test_neural_lesson_rating_gaps(splits, bench, on_page) -> None:
    facts = bench("sequence_signal").order_facts(splits["user-temporal"].train)
    on_page(
        "do-neural-networks-help",
        f"| 0 s (the same second) | {100 * facts['share_gap_0s']:.1f} % |",
        f"| ≤ 60 s | {100 * facts['share_gap_le_60s']:.1f} % |",
        f"| ≤ 1 hour | {100 * facts['share_gap_le_1h']:.1f} % |",
        f"| > 1 day | {100 * facts['share_gap_gt_1d']:.1f} % |",
    )


def test_two_stage_ease_reference(ease_ndcg, on_page) -> None:
    """The first-stage EASE (3,000 most popular items) against the unpruned one's page figures."""
    p1, p2 = ease_ndcg["user-random"], ease_ndcg["user-temporal"]
    on_page("two-stage-ranking", f"unpruned EASE (P1 {p1:.4f}, P2 {p2:.4f})")


def test_distributed_explicit_als_rmse(splits, tables, on_page) -> None:
    rmse = [tables.rmse(tables.fit("explicit-als", splits[p].train, p), splits[p].test)
            for p in ("user-temporal", "user-random")]
    on_page("when-to-go-distributed", f"`explicit-als`'s {rmse[0]:.4f} / {rmse[1]:.4f}")


def test_item_cold_start_counts(splits, on_page) -> None:
    train, test = splits["user-temporal"].train, splits["user-temporal"].test
    trained = np.bincount(train.items, minlength=train.n_items) > 0
    cold_rows = np.flatnonzero(~trained[test.items])
    cold_items, per_item = np.unique(test.items[cold_rows], return_counts=True)
    cold_test = test.subset(cold_rows, name="cold")
    n_users, n_cold_users = len(test.active_users), len(cold_test.active_users)
    # The chance row: every user gets the same 10 cold movies, in the script's seeded order (42).
    tie_break = np.random.default_rng(42).random(len(cold_items))
    relevant = relevant_matrix(cold_test)[cold_test.active_users]
    chance = recall(np.tile(cold_items[np.argsort(tie_break)[:10]], (n_cold_users, 1)),
                    relevant).mean()
    on_page(
        "item-cold-start",
        f"| movies rated only in test parts | {len(cold_items):,} |",
        f"| their test ratings | {len(cold_rows):,} of {len(test.items):,} "
        f"({100 * len(cold_rows) / len(test.items):.1f} %) |",
        f"| test users who rated at least one | {n_cold_users} of {n_users} |",
        f"| of those movies, rated once in the test | {int((per_item == 1).sum()):,} |",
        f"| chance (a row in random order) | | | | | {chance:.4f} |",
    )
