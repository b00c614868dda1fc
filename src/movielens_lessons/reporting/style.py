"""The reports' look in matplotlib: the palette and :data:`STYLE`, applied by :func:`draw` only
while a figure is drawn, never to the caller's matplotlib settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import matplotlib

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

#: The palette (hex colours): main series, second series, reference lines, highlighted marks.
BLUE, ORANGE, GREY, RED = "#3b6ea5", "#e08a2c", "#9a9a9a", "#c0392b"
#: The reports' matplotlib rcParams, applied only while their figures are drawn.
STYLE: dict[RcKeyType, Any] = {
    "figure.dpi": 100,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.grid": True,
    "grid.alpha": 0.25,
}

P = ParamSpec("P")
R = TypeVar("R")


def draw(function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """``function(*args, **kwargs)`` (a figure function) called in :data:`STYLE`; the caller's
    rcParams are restored afterwards."""
    with matplotlib.rc_context(STYLE):
        return function(*args, **kwargs)
