"""Peak-memory measurement, the Pareto front and the point labels used by the report."""

from __future__ import annotations

import numpy as np

from movielens_lessons.experiments.figures import pareto_front
from movielens_lessons.experiments.memory import PeakMemory, current_rss


def test_peak_memory_sees_a_temporary_array() -> None:
    with PeakMemory() as small:
        np.ones(10, dtype=np.float64).sum()
    with PeakMemory() as big:
        a = np.ones(40 * 2**20 // 8)  # 40 MiB, freed before the block ends
        a.sum()
        del a
    assert 39 <= big.traced_mb < 60
    assert big.peak_mb >= big.traced_mb and small.peak_mb < 5
    if current_rss() is not None:
        assert big.rss_mb is not None and big.rss_mb >= 0


def test_pareto_front_keeps_only_undominated_points() -> None:
    x = np.array([1.0, 2.0, 3.0, 2.5, 0.5])
    y = np.array([3.0, 2.0, 1.0, 0.5, 4.0])
    # (2.5, 0.5) is dominated by (3, 1); the others trade x against y
    assert pareto_front(x, y).tolist() == [4, 0, 1, 2]
    assert pareto_front(np.array([1.0]), np.array([1.0])).tolist() == [0]


def test_labels_of_clustered_points_do_not_overlap() -> None:
    from matplotlib.figure import Figure

    from movielens_lessons.experiments.figures import label_points

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    x = np.array([1.0, 1.01, 1.02, 1.0, 3.0])  # four models at nearly the same spot
    y = np.array([0.5, 0.5, 0.49, 0.51, 0.1])
    ax.scatter(x, y)
    names = ["lightfm", "als", "pure-svd", "item-knn", "random"]
    label_points(ax, x, y, names)
    fig.draw_without_rendering()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert [t.get_text() for t in ax.texts] == names
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b), (a, b)
