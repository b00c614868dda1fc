"""The ranker's prior: one retriever's rank or a blend of score ratios, and the shrink towards it."""

from __future__ import annotations

import numpy as np
import pytest

from movielens_lessons.errors import ConfigError
from movielens_lessons.models.boosting.ranker.candidates import Candidates
from movielens_lessons.models.boosting.ranker.prior import (
    BLEND_RATIO_FLOOR,
    blend_prior,
    prior_columns,
    prior_margins,
    shrink_corrections,
)

NAMES = ["ease", "als", "pop"]


def two_user_candidates() -> Candidates:
    """User row 0 has items 5 and 7, row 1 has item 5; two retrievers."""
    return Candidates(
        rows=np.array([0, 0, 1]),
        items=np.array([5, 7, 5]),
        scores=np.array([[2.0, 1.0], [1.0, np.nan], [-0.5, 4.0]], dtype=np.float32),
        ranks=np.array([[1, 2], [2, 101], [1, 1]], dtype=np.float32),
        best=np.array([[2.0, 1.0], [0.5, 4.0]], dtype=np.float32),
    )


def test_blend_weights_columns_counts_missing_as_zero_and_floors() -> None:
    ratios = np.array([[1.0, np.nan], [-1e4, 0.5]])
    out = blend_prior(ratios, {0: 2.0, 1: 1.0})
    np.testing.assert_allclose(out, [2.0, 2 * BLEND_RATIO_FLOOR + 0.5])


def test_shrink_keeps_the_prior_at_zero_and_the_margin_at_one() -> None:
    margin, prior = np.array([3.0, -1.0]), np.array([1.0, 1.0])
    np.testing.assert_allclose(shrink_corrections(margin, prior, 0.0), prior)
    np.testing.assert_allclose(shrink_corrections(margin, prior, 0.5), [2.0, 0.0])
    assert shrink_corrections(margin, prior, 1.0) is margin
    assert shrink_corrections(margin, None, 0.5) is margin


def test_prior_columns_by_name_first_none_and_blend() -> None:
    assert prior_columns("first", NAMES, "x") == 0
    assert prior_columns("als", NAMES, "x") == 1
    assert prior_columns("", NAMES, "x") is None
    assert prior_columns({"pop": 1, "ease": 0.5}, NAMES, "x") == {2: 1.0, 0: 0.5}


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        ("bpr", "prior must be '', 'first' or one of the retrievers 'ease,als,pop'; got 'bpr'"),
        ({"bpr": 1}, "a prior blend names retrievers of 'ease,als,pop'"),
        ({}, "a prior blend names retrievers"),
        ({"ease": 0}, "weights must be numbers >= 0, not all 0"),
        ({"ease": -1}, "weights must be numbers >= 0"),
        ({"ease": True}, "weights must be numbers >= 0"),
    ],
)
def test_bad_priors_are_named(prior: str | dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        prior_columns(prior, NAMES, "ease,als,pop")


def test_prior_margins_from_a_rank_and_from_a_blend() -> None:
    cand = two_user_candidates()
    assert prior_margins(cand, None, 1.0) is None
    np.testing.assert_allclose(prior_margins(cand, 1, 2.0), -2.0 * np.log([2, 101, 1]), rtol=1e-6)
    # ratios: row 0 -> (2/2, 1/1), (1/2, nan); row 1 -> (-0.5/0.5, 4/4)
    blend = prior_margins(cand, {0: 1.0, 1: 0.5}, 1.0)
    assert blend is not None and blend.dtype == np.float32
    np.testing.assert_allclose(blend, [1.0 + 0.5, 0.5 + 0.0, -1.0 + 0.5], rtol=1e-6)
