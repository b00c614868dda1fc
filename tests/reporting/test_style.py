"""The report style applies while a figure is drawn and never leaks into the caller's matplotlib."""

from __future__ import annotations

import matplotlib
import pytest
from matplotlib.colors import is_color_like, to_hex

from movielens_lessons.reporting.style import BLUE, GREY, ORANGE, RED, STYLE, draw


def _style_now() -> dict[str, object]:
    return {k: matplotlib.rcParams[k] for k in STYLE}


def test_style_is_applied_inside_draw_and_restored_after() -> None:
    with matplotlib.rc_context({"font.size": 17.0, "axes.grid": False, "figure.dpi": 72.0}):
        before = _style_now()
        assert before != STYLE  # the caller's own settings differ from the report's
        inside = draw(_style_now)
        assert inside == STYLE
        assert _style_now() == before


def test_style_is_restored_when_the_figure_function_raises() -> None:
    before = dict(matplotlib.rcParams)

    def broken() -> None:
        assert matplotlib.rcParams["axes.titleweight"] == "bold"
        raise RuntimeError("no figure")

    with pytest.raises(RuntimeError, match="no figure"):
        draw(broken)
    assert dict(matplotlib.rcParams) == before


def test_draw_passes_arguments_and_returns_the_result() -> None:
    assert draw(lambda a, b=0: (a, b), 1, b=2) == (1, 2)
    assert draw(lambda: None) is None


def test_palette_is_four_distinct_colours() -> None:
    palette = (BLUE, ORANGE, GREY, RED)
    assert all(is_color_like(c) for c in palette)
    assert len({to_hex(c) for c in palette}) == 4
