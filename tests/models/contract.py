"""The shared contract every model passes. A model's test file opts in with::

    class TestEaseContract(ContractSuite):
        model_name = "ease"
        params = {"regularization": 10.0}

Subclasses may override ``check_known_answer`` where the generic two-cluster answer does not apply.
The fixtures it uses (``cluster_data``, ``fitted``) live in ``tests/models/conftest.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import NotFittedError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model, get_spec


def cluster_frame(seed: int = 0) -> pd.DataFrame:
    """Two taste clusters: users 1-20 love movies 100-109, users 21-40 love movies 200-209.

    Each user rated 7 random items of their own cluster 4-5 stars and 2 of the other cluster 1-2 stars,
    with increasing timestamps. Every model that learns anything should rank the unseen items of the
    user's own cluster above the other cluster's.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, 41):
        own = np.arange(100, 110) if user <= 20 else np.arange(200, 210)
        other = np.arange(200, 210) if user <= 20 else np.arange(100, 110)
        liked = rng.choice(own, 7, replace=False)
        disliked = rng.choice(other, 2, replace=False)
        t = 1_000_000 + user * 1000
        for j, item in enumerate(liked):
            rows.append((user, item, float(rng.choice([4.0, 4.5, 5.0])), t + j))
        for j, item in enumerate(disliked):
            rows.append((user, item, float(rng.choice([1.0, 1.5, 2.0])), t + 100 + j))
    return pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.RATING, C.TIMESTAMP])


def ndcg_at_10(model: BaseRecommender, split: Any) -> float:
    """NDCG@10 of ``model`` on every active user of ``split.test`` (training items excluded)."""
    from movielens_lessons.evaluation import evaluate

    users = split.test.user_ids[split.test.active_users]
    result = evaluate(
        model.recommend(users, k=10), split.test, split.train, k=10, metrics=["ndcg"], n_bootstrap=0
    )
    return result.value("ndcg")


class ContractSuite:
    model_name: ClassVar[str] = ""
    params: ClassVar[dict[str, Any]] = {}
    deterministic: ClassVar[bool] = True

    def make(self) -> BaseRecommender:
        return create_model(self.model_name, **self.params)


    def test_registered_name_and_feedback(self) -> None:
        model = self.make()
        assert model.name == self.model_name
        assert model.feedback == get_spec(self.model_name).feedback

    def test_params_stored_as_given(self) -> None:
        model = self.make()
        for key, value in self.params.items():
            assert getattr(model, key) == value
        assert set(model.get_params()) == set(type(model).param_names())

    def test_fit_returns_self(self, cluster_data: Dataset) -> None:
        model = self.make()
        assert model.fit(cluster_data) is model

    def test_unfitted_use_raises(self) -> None:
        model = self.make()
        with pytest.raises(NotFittedError, match="not fitted"):
            model.recommend([1], k=3)
        with pytest.raises(NotFittedError):
            model.score([1])

    def test_output_shapes(self, fitted: BaseRecommender, cluster_data: Dataset) -> None:
        recs = fitted.recommend([1, 2, 30], k=5)
        assert recs.items.shape == (3, 5) and recs.scores.shape == (3, 5)
        frame = recs.to_frame()
        assert list(frame.columns[:4]) == [C.USER, C.ITEM, C.RANK, C.SCORE]
        assert (frame.groupby(C.USER)[C.RANK].apply(list) == [[1, 2, 3, 4, 5]] * 3).all()
        scores = fitted.score([1, 2], [100, 200, 205])
        assert scores.shape == (2, 3)
        assert fitted.score([1]).shape == (1, cluster_data.n_items)
        assert fitted.predict([1, 2], [100, 205]).shape == (2,)

    def test_scores_ranked_descending(self, fitted: BaseRecommender) -> None:
        recs = fitted.recommend(k=6)
        s = recs.scores
        assert np.all(np.nan_to_num(s[:, :-1], nan=-np.inf) >= np.nan_to_num(s[:, 1:], nan=-np.inf))

    def test_seen_items_excluded(self, fitted: BaseRecommender, cluster_data: Dataset) -> None:
        recs = fitted.recommend(k=10)
        seen = cluster_data.implicit().toarray() > 0
        rows = np.repeat(recs.users, recs.k).reshape(recs.items.shape)
        valid = recs.items >= 0
        assert not seen[rows[valid], recs.items[valid]].any()
        # every user has 11 unseen items, so 10 slots are always filled
        assert valid.all()
        everything = fitted.recommend([1], k=cluster_data.n_items, exclude_seen=False)
        assert (everything.items >= 0).sum() == cluster_data.n_items

    def test_seeded_refit_is_deterministic(self, cluster_data: Dataset) -> None:
        if not self.deterministic:
            pytest.skip("documented as nondeterministic")
        a = self.make().fit(cluster_data).score([1, 25])
        b = self.make().fit(cluster_data).score([1, 25])
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

    def test_refit_replaces_state(self, cluster_data: Dataset) -> None:
        model = self.make().fit(cluster_data)
        small = cluster_data.subset(cluster_data.users < 30)
        model.fit(small)
        assert model.fingerprint_ == small.fingerprint()

    def test_save_load_identical(self, fitted: BaseRecommender, tmp_path: Path) -> None:
        path = fitted.save(tmp_path / "model")
        assert (path / "model.json").is_file()
        loaded = BaseRecommender.load(path)
        assert type(loaded) is type(fitted)
        assert loaded.get_params() == fitted.get_params()
        np.testing.assert_array_equal(loaded.score([1, 2, 39]), fitted.score([1, 2, 39]))
        a, b = fitted.recommend(k=5), loaded.recommend(k=5)
        np.testing.assert_array_equal(a.items, b.items)
        for npz in path.glob("*.npz"):
            with np.load(npz, allow_pickle=False) as data:  # raises if anything needs pickle
                [data[key] for key in data.files]

    def test_unknown_user_policy(self, fitted: BaseRecommender) -> None:
        recs = fitted.recommend([1, 999_999], k=3)
        assert recs.fallback.tolist() == [False, True]
        popular = np.argsort(-fitted.item_popularity_, kind="stable")[:3]
        assert recs.items[1].tolist() == popular.tolist()
        assert np.isnan(fitted.score([999_999])).all()

    def test_known_answer(self, fitted: BaseRecommender) -> None:
        self.check_known_answer(fitted)

    def check_known_answer(self, model: BaseRecommender) -> None:
        """Users of each cluster get their own cluster's unseen movies first."""
        recs = model.recommend(k=3)
        ext_items = recs.item_ids[recs.items]
        users = recs.row_user_ids
        own_low = np.where(users <= 20, 100, 200)
        in_own = (ext_items >= own_low[:, None]) & (ext_items < own_low[:, None] + 10)
        assert in_own[:, 0].mean() >= 0.9, (
            f"top-1 in own cluster for only {in_own[:, 0].mean():.0%}"
        )
