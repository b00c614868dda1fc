"""Shared figure pieces: pyplot-free figures, PNG bytes, the Lorenz curve and its axes."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import to_hex
from PIL import Image

from movielens_lessons.reporting.figures import lorenz_axes, lorenz_curve, new_figure, png_bytes
from movielens_lessons.reporting.style import GREY


def test_new_figure_gives_a_list_of_side_by_side_axes() -> None:
    fig, axes = new_figure(3, width=9, height=2)
    assert isinstance(axes, list) and len(axes) == 3
    assert tuple(fig.get_size_inches()) == (9.0, 2.0)
    lefts = [ax.get_position().x0 for ax in axes]
    assert lefts == sorted(lefts)
    assert len(new_figure()[1]) == 1


def test_new_figure_leaves_pyplot_alone() -> None:
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    new_figure()
    assert plt.get_fignums() == before


def test_png_bytes_is_a_png_of_the_figure_size_times_dpi() -> None:
    fig, (ax,) = new_figure(width=2, height=1)
    ax.plot([0, 1], [0, 1])
    png = png_bytes(fig, dpi=50)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert Image.open(io.BytesIO(png)).size == (100, 50)


def test_lorenz_of_equal_counts_is_the_diagonal() -> None:
    x, y = lorenz_curve(np.full(5, 7))
    np.testing.assert_allclose(y, x)
    np.testing.assert_allclose(x, np.linspace(0, 1, 6))


def test_lorenz_by_hand() -> None:
    # sorted 0, 1, 3, 4 (total 8): cumulative 0, 0, 1, 4, 8
    x, y = lorenz_curve(np.array([3, 1, 0, 4]))
    assert x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert y.tolist() == [0.0, 0.0, 0.125, 0.5, 1.0]
    # one item holds everything: flat, then all at the last item
    assert lorenz_curve(np.array([0, 0, 9]))[1].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_lorenz_of_nothing() -> None:
    x, y = lorenz_curve(np.zeros(3))
    assert x.tolist() == [0.0, 1 / 3, 2 / 3, 1.0] and y.tolist() == [0.0] * 4
    x, y = lorenz_curve(np.array([], dtype=np.int64))
    assert x.tolist() == [0.0] and y.tolist() == [0.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=50))
def test_lorenz_rises_under_the_diagonal_to_one(counts: list[int]) -> None:
    x, y = lorenz_curve(np.array(counts))
    assert x.shape == y.shape == (len(counts) + 1,)
    assert (x[0], y[0]) == (0.0, 0.0)
    assert np.all(np.diff(y) >= 0) and np.all(y <= x + 1e-12)
    assert y[-1] == (1.0 if sum(counts) else 0.0)
    # order does not matter: it is a curve of the distribution, not of the item order
    np.testing.assert_array_equal(lorenz_curve(np.array(counts[::-1]))[1], y)


@pytest.mark.parametrize("ls", ["--", ":"])
def test_lorenz_axes_draws_the_equality_diagonal_in_the_unit_square(ls: str) -> None:
    _, (ax,) = new_figure()
    lorenz_axes(ax, xlabel="share of items", ylabel="share of ratings", title="T", equality_ls=ls)
    (line,) = ax.get_lines()
    assert line.get_label() == "perfect equality"
    assert to_hex(line.get_color()) == to_hex(GREY) and line.get_linestyle() == ls
    assert np.asarray(line.get_xydata()).tolist() == [[0, 0], [1, 1]]
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == (
        "share of items", "share of ratings", "T")
    ax.plot(*lorenz_curve(np.array([1, 2, 30])))  # curves drawn after keep the unit square
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)

