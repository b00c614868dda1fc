"""A model on disk: what the folder holds, atomic saves, and clear errors on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataNotFoundError
from movielens_lessons.models.artifacts import ARRAYS_NPZ, MODEL_JSON, load_model, save_model
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.baselines.unpersonalized import MostPopular
from movielens_lessons.models.factorization.explicit_als import ExplicitALS


def test_folder_holds_manifest_and_arrays(cluster_data: Dataset, tmp_path: Path) -> None:
    model = MostPopular().fit(cluster_data)
    path = save_model(model, tmp_path / "pop")
    assert sorted(p.name for p in path.iterdir()) == [ARRAYS_NPZ, MODEL_JSON]
    meta = json.loads((path / MODEL_JSON).read_text())
    assert meta["name"] == "most-popular"
    assert meta["data_fingerprint"] == cluster_data.fingerprint()
    assert (meta["n_users"], meta["n_items"]) == (cluster_data.n_users, cluster_data.n_items)
    assert "numpy" in meta["versions"]
    with np.load(path / ARRAYS_NPZ, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["item_ids_"], model.item_ids_)
    # saving again over the folder replaces it and leaves no temporary folder behind
    save_model(model, path)
    assert [p.name for p in tmp_path.iterdir()] == ["pop"]


def test_failed_save_leaves_nothing(cluster_data: Dataset, tmp_path: Path) -> None:
    model = MostPopular().fit(cluster_data)
    model._get_state = lambda: {"bad": np.array([object()], dtype=object)}
    with pytest.raises(TypeError, match="'bad' has dtype object"):
        save_model(model, tmp_path / "pop")
    assert list(tmp_path.iterdir()) == []


def test_load_errors_name_the_folder(cluster_data: Dataset, tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match=r"empty: not a saved model \(no model.json\)"):
        load_model(BaseRecommender, tmp_path / "empty")
    path = save_model(MostPopular().fit(cluster_data), tmp_path / "pop")
    with pytest.raises(ConfigError, match="holds a most-popular model, not explicit-als"):
        load_model(ExplicitALS, path)


def test_training_metrics_survive_load_and_resave(cluster_data: Dataset, tmp_path: Path) -> None:
    model = ExplicitALS(n_factors=4).fit(cluster_data)
    first = save_model(model, tmp_path / "a")
    loaded = load_model(BaseRecommender, first)
    assert loaded.training_metrics_["train_rmse"] == pytest.approx(
        model.training_metrics_["train_rmse"])
    second = save_model(loaded, tmp_path / "b")
    meta_a, meta_b = (json.loads((p / MODEL_JSON).read_text()) for p in (first, second))
    assert meta_b["training_metrics"] == meta_a["training_metrics"]
