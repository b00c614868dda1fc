"""The explanation figures on hand-made explanations: right bars, right labels, steps that add up."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from movielens_lessons.experiments.explanation_figures import (
    caption,
    contribution_waterfall,
    importance_bars,
    waterfall_steps,
)
from movielens_lessons.experiments.explanations import Contributions, Explanation
from movielens_lessons.reporting.style import draw

CONTRIBS = {"a": 0.5, "b": -0.2, "c": 0.05, "d": -0.01, "e": 0.003}


def _explanation(contribs: dict[str, float] = CONTRIBS, bias: float = 3.5) -> Explanation:
    example = Contributions(7, 42, "Heat (1995)", bias, bias + sum(contribs.values()), contribs,
                            "predicted rating")
    return Explanation("user-random", "xgboost-rating", "gain", {"a": 0.6, "b": 0.3, "c": 0.1},
                       n_features=5, other_share=0.0, example=example)


def _bars(fig: Figure) -> list[Rectangle]:
    (ax,) = fig.axes
    return [p for p in ax.patches if isinstance(p, Rectangle)]


def test_importance_bars_one_bar_per_feature_largest_on_top() -> None:
    fig = draw(importance_bars, _explanation())
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [b.get_width() for b in _bars(fig)] == pytest.approx([0.6, 0.3, 0.1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # inverted: the first (largest) is drawn on top
    assert "xgboost-rating" in ax.get_title() and "top 3 of 5" in ax.get_title()
    assert "share of gain" in ax.get_xlabel()


def test_waterfall_steps_run_from_the_bias_to_the_score() -> None:
    e = _explanation()
    fig = draw(contribution_waterfall, e)
    assert isinstance(fig, Figure)
    bars = _bars(fig)
    assert [b.get_width() for b in bars] == pytest.approx([0.5, -0.2, 0.05, -0.01, 0.003])
    assert bars[0].get_x() == pytest.approx(e.example.bias)
    for prev, nxt in pairwise(bars):  # each step starts where the last ended
        assert nxt.get_x() == pytest.approx(prev.get_x() + prev.get_width())
    assert bars[-1].get_x() + bars[-1].get_width() == pytest.approx(e.example.score)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["bias", "a", "b", "c", "d", "e", "= predicted rating"]
    title = fig.get_suptitle()
    assert "userId 7" in title and "movieId 42" in title and "Heat (1995)" in title


def test_waterfall_lumps_the_small_contributions_and_still_sums() -> None:
    rng = np.random.default_rng(0)
    contribs = {f"f{i}": float(v) for i, v in enumerate(rng.normal(0, 0.1, 30))}
    e = _explanation(contribs, bias=-1.0)
    steps = waterfall_steps(e, top=12)
    assert len(steps) == 13 and steps[-1][0] == "other 18 features"
    assert e.example.bias + sum(v for _, v in steps) == pytest.approx(e.example.score)
    bars = _bars(draw(contribution_waterfall, e))
    assert len(bars) == 13
    assert bars[-1].get_x() + bars[-1].get_width() == pytest.approx(e.example.score)


def test_no_example_no_waterfall_and_captions_say_how_to_read() -> None:
    e = _explanation()
    bare = Explanation(e.protocol, e.model, "total_gain", e.importance, 3, 0.0, None)
    assert draw(contribution_waterfall, bare) is None
    assert draw(importance_bars, Explanation("p", "m", "gain", {}, 0, 0.0)) is None
    assert "summed over every split" in caption("importance", bare)
    text = caption("contributions", e)
    assert "userId 7" in text and "movieId 42" in text and "pred_contribs" in text
