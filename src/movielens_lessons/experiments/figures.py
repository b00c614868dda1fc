"""The benchmark report's figures: one function per figure, each returning a matplotlib Figure or None.

Each takes a :class:`FigureData` (one protocol's leaderboard rows, per-user values, item exposure and
training popularity). They use the shared report look and figure pieces
(:mod:`movielens_lessons.reporting`), so the benchmark report looks like the EDA report; draw them with
:func:`~movielens_lessons.reporting.style.draw`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from movielens_lessons.evaluation.beyond_accuracy import gini_index
from movielens_lessons.reporting.figures import lorenz_axes, lorenz_curve, new_figure
from movielens_lessons.reporting.style import BLUE, ORANGE, RED


@dataclass(frozen=True)
class FigureData:
    """What the figures of one protocol need."""

    protocol: str
    rows: pd.DataFrame  # the protocol's leaderboard rows (status "ok" only)
    per_user: pd.DataFrame  # model, userId, metric, k, value
    exposure: dict[str, np.ndarray]  # model → (n_items,) times recommended in the top-k
    train_popularity: np.ndarray  # (n_items,) training interactions per item
    metric: str  # primary metric name, e.g. "ndcg"
    k: int  # primary cutoff

    @property
    def primary(self) -> str:
        return f"{self.metric}@{self.k}"


def _color(feedback: str) -> str:
    return ORANGE if feedback == "explicit" else BLUE


def _has(rows: pd.DataFrame, col: str) -> bool:
    return col in rows.columns and bool(rows[col].notna().any())


def leaderboard_ci(d: FigureData) -> Figure | None:
    """Horizontal bars of each model's mean with its 95 % bootstrap interval, per accuracy metric."""
    metrics = [m for m in (d.metric, "recall", "precision", "mrr") if _has(d.rows, f"{m}@{d.k}")]
    metrics = list(dict.fromkeys(metrics))
    if not metrics or d.rows.empty:
        return None
    rows = d.rows.sort_values(d.primary)
    fig, axes = new_figure(ncols=len(metrics), width=3.2 * len(metrics) + 1.5,
                     height=0.35 * len(rows) + 1.6)
    for j, (ax, m) in enumerate(zip(axes, metrics, strict=True)):
        col = f"{m}@{d.k}"
        mean = rows[col].to_numpy(float)
        lo = rows[f"{col}_ci_low"].to_numpy(float)
        hi = rows[f"{col}_ci_high"].to_numpy(float)
        err = np.vstack([np.nan_to_num(mean - lo), np.nan_to_num(hi - mean)])
        y = np.arange(len(rows))
        ax.barh(y, mean, xerr=err, color=[_color(f) for f in rows["feedback"]], alpha=0.85,
                error_kw={"ecolor": "#333", "capsize": 3})
        ax.set_yticks(y, rows["model"] if j == 0 else [""] * len(rows))
        ax.set(xlabel=col, title=col)
    fig.suptitle(f"{d.protocol}: mean and 95% CI (blue implicit, orange explicit)")
    return fig


def pareto_front(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of points not dominated on (higher ``x``, higher ``y``), sorted by ``x``."""
    order = np.argsort(-x, kind="stable")
    front, best_y = [], -np.inf
    for i in order:
        if y[i] > best_y:
            front.append(i)
            best_y = y[i]
    return np.array(sorted(front, key=lambda i: x[i]), dtype=np.int64)


def _tradeoff(d: FigureData, other: str, label: str) -> Figure | None:
    col = f"{other}@{d.k}"
    if not (_has(d.rows, col) and _has(d.rows, d.primary)):
        return None
    rows = d.rows.dropna(subset=[col, d.primary])
    x, y = rows[col].to_numpy(float), rows[d.primary].to_numpy(float)
    fig, (ax,) = new_figure(width=6.5, height=4.5)
    ax.scatter(x, y, c=[_color(f) for f in rows["feedback"]], s=40, zorder=3)
    front = pareto_front(x, y)
    ax.plot(x[front], y[front], color=RED, lw=1.5, ls="--", zorder=2, label="Pareto front")
    ax.set(xlabel=f"{label} ({col})", ylabel=d.primary,
           title=f"{d.protocol}: accuracy vs {label.lower()}")
    ax.legend(frameon=False)
    label_points(ax, x, y, rows["model"].tolist())
    return fig


#: Where a point's label may go, in points from the point: (dx, dy, ha, va), in order of preference.
_LABEL_SPOTS = [(4, 3, "left", "bottom"), (4, -3, "left", "top"), (-4, 3, "right", "bottom"),
                (-4, -3, "right", "top"), (0, 7, "center", "bottom"), (0, -7, "center", "top"),
                (6, 11, "left", "bottom"), (6, -11, "left", "top"), (-6, 11, "right", "bottom"),
                (-6, -11, "right", "top"), (8, 20, "left", "bottom"), (8, -20, "left", "top"),
                (-8, 20, "right", "bottom"), (-8, -20, "right", "top")]


def label_points(ax: Axes, x: np.ndarray, y: np.ndarray, names: list[str], fontsize: float = 8) -> None:
    """Name each point, beside it where the label overlaps no earlier label and no other point.

    Clustered models (several at nearly the same accuracy) would print their names over each other at
    one fixed offset; each label takes the first free spot of :data:`_LABEL_SPOTS` (or the least
    crowded one), judged on an estimate of the text's size in pixels.
    """
    fig = ax.figure
    assert isinstance(fig, Figure)  # not a SubFigure, which has no draw_without_rendering
    fig.draw_without_rendering()  # lay out first, so data → pixel positions are final
    px = ax.transData.transform(np.column_stack([x, y]))
    scale = fig.dpi / 72  # pixels per point
    height = 1.25 * fontsize * scale
    placed: list[tuple[float, float, float, float]] = []
    marker = 4 * scale  # half the marker's width, with room to spare
    extent = ax.get_window_extent()
    frame = (extent.x0, extent.y0, extent.x1, extent.y1)

    def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
        w = min(a[2], b[2]) - max(a[0], b[0])
        h = min(a[3], b[3]) - max(a[1], b[1])
        return max(w, 0) * max(h, 0)

    for i, name in enumerate(names):
        width = 0.6 * fontsize * scale * len(name)
        best, best_cost = _LABEL_SPOTS[0], np.inf
        for spot in _LABEL_SPOTS:
            dx, dy, ha, va = spot
            x0 = px[i, 0] + dx * scale - {"left": 0, "center": width / 2, "right": width}[ha]
            y0 = px[i, 1] + dy * scale - (height if va == "top" else 0)
            box = (x0, y0, x0 + width, y0 + height)
            # a label on a label is worst, on a marker bad, over the frame's edge only untidy
            outside = width * height - overlap(box, frame)
            cost = 0.3 * outside + 3 * sum(overlap(box, b) for b in placed) + sum(
                overlap(box, (px[j, 0] - marker, px[j, 1] - marker, px[j, 0] + marker,
                              px[j, 1] + marker)) for j in range(len(names)) if j != i)
            if cost < best_cost:
                best, best_cost, best_box = spot, cost, box
            if cost == 0:
                break
        placed.append(best_box)
        dx, dy, ha, va = best
        ax.annotate(name, (x[i], y[i]), textcoords="offset points", xytext=(dx, dy), ha=ha,
                    va=va, fontsize=fontsize)


def accuracy_vs_novelty(d: FigureData) -> Figure | None:
    """Primary metric vs mean self-information of recommended items; the Pareto front in red."""
    return _tradeoff(d, "novelty", "Novelty")


def accuracy_vs_coverage(d: FigureData) -> Figure | None:
    """Primary metric vs catalogue coverage; the Pareto front in red."""
    return _tradeoff(d, "coverage", "Coverage")


def exposure_lorenz(d: FigureData) -> Figure | None:
    """Lorenz curves of how often each training item is recommended, against training popularity."""
    if not d.exposure:
        return None
    catalogue = d.train_popularity > 0
    fig, (ax,) = new_figure(width=6, height=5.5)
    lorenz_axes(ax, xlabel="share of catalogue items (least exposed first)",
                ylabel="share of exposure", title=f"{d.protocol}: item exposure in top-{d.k} lists",
                equality_ls=":")
    popularity = d.train_popularity[catalogue]
    x, y = lorenz_curve(popularity)
    ax.plot(x, y, color="black", lw=2.5,
            label=f"training popularity (Gini {gini_index(popularity):.2f})")
    cmap = matplotlib.colormaps["tab20"]
    for i, (name, counts) in enumerate(d.exposure.items()):
        c = counts[catalogue] if len(counts) == len(catalogue) else counts
        if c.sum() == 0:
            continue
        x, y = lorenz_curve(c)
        ax.plot(x, y, color=cmap(i % 20), lw=1.3, ls="-" if i < 10 else "--",
                label=f"{name} (Gini {gini_index(c):.2f})")
    ax.legend(frameon=False, fontsize=7, loc="upper left")
    return fig


def per_user_distribution(d: FigureData) -> Figure | None:
    """Box plots of per-user values of the primary metric: the spread hidden behind each mean."""
    pu = d.per_user
    sel = pu[(pu["metric"].astype(str) == d.metric) & (pu["k"] == d.k)]
    if sel.empty:
        return None
    order = d.rows.sort_values(d.primary)["model"].tolist()
    data = [sel.loc[sel["model"] == m, "value"].dropna().to_numpy(float) for m in order]
    fig, (ax,) = new_figure(width=7, height=0.35 * len(order) + 1.6)
    ax.boxplot(data, orientation="horizontal", tick_labels=order, showmeans=True,
               flierprops={"markersize": 2, "alpha": 0.4})
    ax.set(xlabel=f"per-user {d.primary}", title=f"{d.protocol}: per-user {d.primary}")
    return fig


def costs(d: FigureData) -> Figure | None:
    """Fit seconds and peak fit memory per model (log scale: they span orders of magnitude)."""
    if d.rows.empty:
        return None
    rows = d.rows.sort_values("fit_seconds")
    fig, axes = new_figure(ncols=2, width=10, height=0.35 * len(rows) + 1.6)
    y = np.arange(len(rows))
    colors = [_color(f) for f in rows["feedback"]]
    for ax, col, label in ((axes[0], "fit_seconds", "fit seconds"),
                           (axes[1], "peak_memory_mb", "peak fit memory (MiB)")):
        vals = np.maximum(rows[col].to_numpy(float), 1e-3)
        ax.barh(y, vals, color=colors)
        ax.set_xscale("log")
        ax.set_yticks(y, rows["model"] if ax is axes[0] else [""] * len(rows))
        ax.set(xlabel=label, title=label)
    fig.suptitle(f"{d.protocol}: training cost")
    return fig


def rating_vs_ranking(d: FigureData) -> Figure | None:
    """Explicit models: RMSE (lower is better) next to their ranking quality. Good RMSE ≠ good lists."""
    if not _has(d.rows, "rmse"):
        return None
    rows = d.rows.dropna(subset=["rmse"])
    fig, axes = new_figure(ncols=2, width=10, height=0.45 * len(d.rows) + 1.8)
    ax = axes[0]
    y = np.arange(len(rows))
    ax.barh(y, rows["rmse"], color=ORANGE)
    ax.set_yticks(y, rows["model"])
    ax.set(xlabel="RMSE on test ratings (lower is better)", title="rating error")
    ax = axes[1]
    allr = d.rows.sort_values(d.primary)
    ax.barh(np.arange(len(allr)), allr[d.primary], color=[_color(f) for f in allr["feedback"]])
    ax.set_yticks(np.arange(len(allr)), allr["model"])
    ax.set(xlabel=d.primary, title="ranking quality, every model")
    fig.suptitle(f"{d.protocol}: explicit models predict ratings well and rank poorly")
    return fig


#: (file stem, function, caption), in report order.
FIGURES: list[tuple[str, Callable[[FigureData], Figure | None], str]] = [
    ("leaderboard_ci", leaderboard_ci, "Leaderboard: means with 95% bootstrap intervals"),
    ("accuracy_vs_novelty", accuracy_vs_novelty, "Accuracy vs novelty (Pareto front dashed)"),
    ("accuracy_vs_coverage", accuracy_vs_coverage, "Accuracy vs coverage (Pareto front dashed)"),
    ("exposure_lorenz", exposure_lorenz, "Lorenz curves of item exposure vs training popularity"),
    ("per_user_ndcg", per_user_distribution, "Per-user distribution of the primary metric"),
    ("costs", costs, "Fit time and peak memory"),
    ("rating_vs_ranking", rating_vs_ranking, "Explicit models: RMSE vs ranking quality"),
]
