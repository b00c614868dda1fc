"""Figure pieces the reports share: a figure made without pyplot, its PNG bytes, and the Lorenz
curve (the curve of counts, and the axes it is drawn in).

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot, so no display or GUI
backend is needed); make them inside :func:`~movielens_lessons.reporting.style.draw` to get the
reports' look.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from movielens_lessons.reporting.style import GREY


def new_figure(
    ncols: int = 1, width: float = 7.0, height: float = 4.0
) -> tuple[Figure, list[Axes]]:
    """A figure of ``ncols`` side-by-side axes, ``width`` × ``height`` inches (no pyplot state)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, list(np.atleast_1d(axes))


def png_bytes(fig: Figure, dpi: float) -> bytes:
    """``fig`` rendered as a PNG file (bytes) at ``dpi`` dots per inch."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def lorenz_curve(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve of non-negative ``counts`` (shape ``(n,)``): ``(share of items, share of
    total)``, both ``(n + 1,)``, from (0, 0) to (1, 1) (or to (1, 0) when every count is 0).

    Items are taken from the least to the most counted, so the curve lies under the diagonal.
    """
    x = np.sort(np.asarray(counts, dtype=np.float64))
    n = len(x)
    cum = np.concatenate([[0.0], np.cumsum(x)])
    total = cum[-1] if n else 0.0
    share = cum / total if total > 0 else cum
    return np.linspace(0.0, 1.0, n + 1), share


def lorenz_axes(ax: Axes, *, xlabel: str, ylabel: str, title: str, equality_ls: str = "--") -> None:
    """Prepare ``ax`` for Lorenz curves: the grey "perfect equality" diagonal (line style
    ``equality_ls``), the labels and the unit square as limits. Draw the curves on it afterwards."""
    ax.plot([0, 1], [0, 1], color=GREY, ls=equality_ls, label="perfect equality")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xlim=(0, 1), ylim=(0, 1))
