"""The one look of every report and page: the HTML shell and its CSS (:mod:`.html`), the palette and
matplotlib style (:mod:`.style`), and the figure pieces the reports share (:mod:`.figures`).

It depends on no other part of the package, so the EDA report, the benchmark report and any web page
can all use it.
"""

from __future__ import annotations

from movielens_lessons.reporting.figures import lorenz_axes, lorenz_curve, new_figure, png_bytes
from movielens_lessons.reporting.html import CSS, PAGE_END, figure_html, nav_link, page_start
from movielens_lessons.reporting.style import BLUE, GREY, ORANGE, RED, STYLE, draw

__all__ = [
    "BLUE",
    "CSS",
    "GREY",
    "ORANGE",
    "PAGE_END",
    "RED",
    "STYLE",
    "draw",
    "figure_html",
    "lorenz_axes",
    "lorenz_curve",
    "nav_link",
    "new_figure",
    "page_start",
    "png_bytes",
]
