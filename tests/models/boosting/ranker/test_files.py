"""The ranker's files: bagged boosters numbered after the first, retrievers as model folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.baselines.unpersonalized import MostPopular
from movielens_lessons.models.boosting.ranker.files import (
    RETRIEVER_DIR,
    booster_file,
    load_boosters,
    load_retrievers,
    save_parts,
)


def test_booster_files_are_numbered_after_the_first() -> None:
    assert [booster_file(k) for k in range(3)] == ["booster.ubj", "booster_1.ubj", "booster_2.ubj"]


def test_parts_round_trip(cluster_data: Dataset, tmp_path: Path) -> None:
    xgb = pytest.importorskip("xgboost")
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    boosters = [
        xgb.train({"seed": s, "nthread": 1}, xgb.DMatrix(x, label=x[:, 0] * s), num_boost_round=3)
        for s in (1, 2)
    ]
    pop = MostPopular().fit(cluster_data)
    (tmp_path / RETRIEVER_DIR / "stale").mkdir(parents=True)  # an earlier save's leftover
    save_parts(tmp_path, boosters, ["pop"], [pop])
    assert sorted(p.name for p in (tmp_path / RETRIEVER_DIR).iterdir()) == ["pop"]
    loaded = load_boosters(tmp_path, 2, nthread=1)
    for before, after in zip(boosters, loaded, strict=True):
        np.testing.assert_array_equal(before.predict(xgb.DMatrix(x)), after.predict(xgb.DMatrix(x)))
    (again,) = load_retrievers(tmp_path, ["pop"])
    users = cluster_data.user_ids[:3]
    np.testing.assert_array_equal(again.score(users), pop.score(users))
