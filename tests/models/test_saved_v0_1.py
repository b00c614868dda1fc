"""Model folders saved before the models/ reorganisation still load, and score as they did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movielens_lessons.models.base import BaseRecommender

from .contract import cluster_frame

SAVED = Path(__file__).parent / "saved_v0_1"
NAMES = sorted(p.name for p in SAVED.iterdir() if p.is_dir())


def test_every_model_of_that_release_is_there() -> None:
    assert len(NAMES) == 14
    assert {"ease", "xgboost-ranker", "xgboost-rating", "lightfm", "als"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_loads_and_scores_as_before(name: str) -> None:
    model = BaseRecommender.load(SAVED / name)
    assert model.name == name
    users = np.unique(cluster_frame()["userId"].to_numpy())[:5]
    expected = np.load(SAVED / "expected_scores.npz")[name]
    np.testing.assert_allclose(model.score(users), expected, rtol=1e-6, atol=1e-7)
