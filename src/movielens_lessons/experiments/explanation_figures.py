"""The benchmark report's explanation figures: one model on one protocol, from an
:class:`~movielens_lessons.experiments.explanations.Explanation`.

* :func:`importance_bars`: horizontal bars of each feature's share of the booster's gain.
* :func:`contribution_waterfall`: one recommendation's score built up from the bias, one feature at a
  time (SHAP ``pred_contribs``); the steps end at the score.

Both return a matplotlib Figure (or None when there is nothing to draw); drawn with
:func:`~movielens_lessons.reporting.style.draw`, they have the shared report look.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.figure import Figure

from movielens_lessons.experiments.explanations import Explanation
from movielens_lessons.reporting.figures import new_figure
from movielens_lessons.reporting.style import BLUE, GREY, RED

GREEN = "#2e8b57"
#: Contributions drawn one by one (largest |value| first); the others become one "other" step.
TOP_CONTRIBUTIONS = 12


def importance_bars(e: Explanation) -> Figure | None:
    """Each top feature's share of the gain, largest at the top, labelled in percent."""
    if not e.importance:
        return None
    names = list(e.importance)
    shares = np.array([e.importance[n] for n in names])
    fig, (ax,) = new_figure(width=7, height=0.3 * len(names) + 1.5)
    y = np.arange(len(names))
    ax.barh(y, shares, color=BLUE)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    for yi, v in zip(y, shares, strict=True):
        ax.annotate(f"{v:.1%}", (v, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_xlim(0, shares.max() * 1.18 if shares.max() > 0 else 1)
    shown = f"top {len(names)} of {e.n_features} features" if e.n_features > len(names) else (
        f"all {e.n_features} features")
    rest = f"; the other features: {e.other_share:.1%}" if e.other_share > 0 else ""
    ax.set(xlabel=f"share of {e.importance_type}{rest}",
           title=f"{e.protocol} · {e.model}\nfeature importance ({shown})")
    ax.grid(axis="y", visible=False)
    return fig


def waterfall_steps(e: Explanation, top: int = TOP_CONTRIBUTIONS) -> list[tuple[str, float]]:
    """``(feature, contribution)`` in drawing order: the ``top`` largest |contributions|, then the rest
    summed as ``other N features``; from the bias, their running sum ends at the score."""
    if e.example is None:
        return []
    items = sorted(e.example.contributions.items(), key=lambda kv: -abs(kv[1]))
    steps = items[:top]
    rest = items[top:]
    if rest:
        steps.append((f"other {len(rest)} features", float(sum(v for _, v in rest))))
    return steps


def contribution_waterfall(e: Explanation, top: int = TOP_CONTRIBUTIONS) -> Figure | None:
    """From the bias (grey marker), each feature's signed contribution as a bar starting where the
    previous one ended (green up, red down), ending at the score (blue marker); the title names the
    user and the movie. The axis spans the path, not 0: a rating model's bias (≈ 3.5 stars) would
    otherwise squash every contribution to a sliver."""
    ex = e.example
    if ex is None:
        return None
    steps = waterfall_steps(e, top)
    widths = np.array([v for _, v in steps], dtype=float)
    lefts = ex.bias + np.concatenate([[0.0], np.cumsum(widths)[:-1]])
    ends = lefts + widths
    n = len(steps) + 2
    fig, (ax,) = new_figure(width=8, height=0.32 * n + 1.9)
    y = np.arange(1, n - 1)
    ax.barh(y, widths, left=lefts, color=[GREEN if w >= 0 else RED for w in widths])
    ax.plot([ex.bias], [0], "D", color=GREY, ms=8)
    ax.plot([ex.score], [n - 1], "D", color=BLUE, ms=8)
    ax.axvline(ex.bias, color=GREY, lw=0.8, ls=":")
    ax.axvline(ex.score, color=BLUE, lw=0.8, ls=":")
    ax.set_yticks(np.arange(n), ["bias", *(label for label, _ in steps), f"= {ex.score_label}"])
    ax.invert_yaxis()
    points = np.concatenate([[ex.bias, ex.score], lefts, ends])
    span = float(np.ptp(points)) or max(abs(ex.score), 1.0)
    for yi, end, w in zip(y, ends, widths, strict=True):
        # the value beside where the step ends: right of rising steps, left of falling ones
        ha, pad = ("left", 3) if w >= 0 else ("right", -3)
        ax.annotate(f"{w:+.3f}", (end, yi), xytext=(pad, 0), textcoords="offset points",
                    va="center", ha=ha, fontsize=8)
    for row, v in ((0, ex.bias), (n - 1, ex.score)):
        ax.annotate(f"{v:.3f}", (v, row), xytext=(7, 0), textcoords="offset points", va="center",
                    fontsize=8, fontweight="bold")
    ax.set_xlim(points.min() - 0.15 * span, points.max() + 0.18 * span)
    movie = f"movieId {ex.item}" + (f" ({_short(ex.title)})" if ex.title else "")
    ax.set(xlabel=f"{ex.score_label}: bias + contributions")
    # centred on the figure, not the axes: long feature names push the axes right
    fig.suptitle(f"{e.protocol} · {e.model}\nwhy userId {ex.user} got {movie}",
                 fontweight="bold")
    ax.grid(axis="y", visible=False)
    return fig


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


#: (file stem suffix, function), in report order.
FIGURES: list[tuple[str, Callable[[Explanation], Figure | None]]] = [
    ("importance", importance_bars),
    ("contributions", contribution_waterfall),
]


def caption(stem: str, e: Explanation) -> str:
    """How to read figure ``stem`` of ``e``, for the report."""
    if stem == "importance":
        how = ("summed over every split that uses the feature" if e.importance_type == "total_gain"
               else "averaged over the splits that use the feature")
        return (f"{e.model}: each feature's share of the trees' gain (loss reduction, {how}). It "
                "shows what the model leans on, not in which direction; correlated features share "
                "the credit, and a feature never split on gets 0.")
    ex = e.example
    what = ("the ranker's score, a margin whose level means nothing: only its order among one "
            "user's candidates counts" if ex is not None and ex.score_label == "ranking score" else
            "the predicted rating, before clipping to the rating scale")
    pair = "" if ex is None else (f" movieId {ex.item} was the top recommendation for userId "
                                  f"{ex.user} (the smallest test userId)")
    return (f"{e.model}: why{pair}. From the bias (grey diamond: the model's base value), each bar "
            "adds one feature's SHAP contribution (XGBoost pred_contribs) for this pair, largest "
            f"first: green pushes the score up, red down. The steps end at the blue diamond: {what}.")
