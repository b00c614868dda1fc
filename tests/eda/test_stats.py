"""The pure statistics behind the report, against direct formulas and hand-worked examples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movielens_lessons.eda import stats
from movielens_lessons.reporting.figures import lorenz_curve


def gini_pairwise(x: list[float]) -> float:
    """The textbook O(n²) definition: mean absolute difference over twice the mean."""
    n = len(x)
    mean = sum(x) / n
    return sum(abs(a - b) for a in x for b in x) / (2 * n * n * mean)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=500), min_size=1, max_size=60))
def test_gini_equals_pairwise_definition(x: list[int]) -> None:
    if sum(x) == 0:
        assert math.isnan(stats.gini(np.array(x)))
    else:
        assert stats.gini(np.array(x)) == pytest.approx(gini_pairwise(x), abs=1e-12)


def test_gini_extremes() -> None:
    assert stats.gini(np.full(7, 3)) == pytest.approx(0.0, abs=1e-12)
    # One item holds everything: (n - 1) / n.
    assert stats.gini(np.array([0, 0, 0, 9])) == pytest.approx(3 / 4)


def test_gini_is_one_minus_twice_the_area_under_the_lorenz_curve() -> None:
    """The Gini in the report's Lorenz figure label agrees with the curve drawn next to it."""
    rng = np.random.default_rng(0)
    counts = rng.zipf(1.7, size=300)
    x, y = lorenz_curve(counts)
    area = np.sum((y[1:] + y[:-1]) / 2 * np.diff(x))
    assert 1 - 2 * area == pytest.approx(stats.gini(counts))


def test_top_share_by_hand() -> None:
    counts = np.array([1, 50, 2, 30, 1, 1, 5, 4, 3, 3])  # total 100
    assert stats.top_share(counts, 0.10) == pytest.approx(0.50)  # one movie of ten
    assert stats.top_share(counts, 0.20) == pytest.approx(0.80)
    assert stats.top_share(counts, 0.01) == pytest.approx(0.50)  # rounds up to one movie
    assert stats.top_share(counts, 0.25) == pytest.approx(0.85)  # ⌈2.5⌉ = 3 movies


def test_ccdf() -> None:
    v, p = stats.ccdf(np.array([1, 1, 2, 5]))
    assert v.tolist() == [1, 2, 5]
    assert p.tolist() == [1.0, 0.5, 0.25]


def test_sessions_split_on_gaps_and_users() -> None:
    users = np.array([2, 1, 1, 1, 1, 2, 2])
    times = np.array(
        [0, 100, 0, 5000, 5100, 4000, 60]
    )  # user 1: 0,100 | 5000,5100; user 2: 0,60 | 4000
    sizes = stats.session_sizes(users, times, gap_seconds=3600)
    assert sorted(sizes.tolist()) == [1, 2, 2, 2]
    assert stats.session_sizes(users, times, gap_seconds=10_000).tolist() == [4, 3]


def test_user_spans_and_years() -> None:
    first, last, days = stats.user_spans(np.array([5, 5, 3]), np.array([86_400 * 3, 0, 10]))
    assert first.tolist() == [10, 0] and last.tolist() == [10, 86_400 * 3]
    assert days.tolist() == [0.0, 3.0]
    assert stats.year_of(np.array([0, 964_982_703])).tolist() == [1970, 2000]


def test_cooccurrence() -> None:
    co = stats.cooccurrence([["A", "B"], ["A"], ["B", "C"], []], ["A", "B", "C"])
    assert co.tolist() == [[2, 1, 0], [1, 2, 1], [0, 1, 1]]


def test_correlations() -> None:
    x = np.arange(10.0)
    assert stats.pearson(x, 2 * x + 1) == pytest.approx(1.0)
    assert stats.spearman(x, x**3) == pytest.approx(1.0)
    assert math.isnan(stats.pearson(x[:2], x[:2]))
    assert math.isnan(stats.pearson(x, np.ones(10)))
