"""pure-svd: contract, agreement with a dense NumPy SVD, fold-in, item vectors, quality on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.factorization.pure_svd import PureSVD
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite


class TestPureSVDContract(ContractSuite):
    model_name = "pure-svd"
    params = {"n_factors": 4, "random_state": 3}


class TestPureSVDScaledContract(ContractSuite):
    model_name = "pure-svd"
    params = {"n_factors": 3, "item_scaling": 0.5}


def random_data(n_users: int = 40, n_items: int = 15, seed: int = 1) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.random((n_users, n_items)) < rng.uniform(0.1, 0.6, n_items)[None, :]
    x[:, x.sum(axis=0) == 0] = True
    x[x.sum(axis=1) == 0, 0] = True
    users, items = np.nonzero(x)
    return Dataset.from_frame(pd.DataFrame({C.USER: users + 1, C.ITEM: items + 1}), name="random")


def numpy_reconstruction(x: np.ndarray, f: int, item_scaling: float = 1.0) -> np.ndarray:
    """x V_f V_fᵀ with V_f the top-f right singular vectors of the column-scaled x (float64)."""
    scale = np.power(x.sum(axis=0), (item_scaling - 1.0) / 2.0)
    _, _, vt = np.linalg.svd(x * scale[None, :], full_matrices=False)
    v = vt[:f].T
    return x @ v @ v.T


@pytest.mark.parametrize(("f", "item_scaling"), [(3, 1.0), (6, 1.0), (5, 0.5)])
def test_scores_match_dense_svd(f: int, item_scaling: float) -> None:
    ds = random_data()
    x = ds.implicit().toarray().astype(np.float64)
    model = PureSVD(n_factors=f, item_scaling=item_scaling).fit(ds)
    expected = numpy_reconstruction(x, f, item_scaling)
    np.testing.assert_allclose(model.score(ds.user_ids), expected, atol=2e-5)
    _, sigma, _ = np.linalg.svd(x * np.power(x.sum(axis=0), (item_scaling - 1) / 2)[None, :])
    np.testing.assert_allclose(model.singular_values_, sigma[:f], rtol=1e-5)


def test_plain_reconstruction_equals_low_rank_ratings_matrix() -> None:
    # with item_scaling = 1, x V Vᵀ is the rank-f approximation U Σ Vᵀ itself
    ds = random_data()
    x = ds.implicit().toarray().astype(np.float64)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    model = PureSVD(n_factors=4).fit(ds)
    np.testing.assert_allclose(model.score(ds.user_ids), (u[:, :4] * s[:4]) @ vt[:4], atol=2e-5)


def test_factors_are_orthonormal_and_sorted() -> None:
    model = PureSVD(n_factors=5).fit(random_data())
    v = model.item_factors_
    np.testing.assert_allclose(v.T @ v, np.eye(5), atol=1e-5)
    assert (np.diff(model.singular_values_) <= 0).all()
    assert v.dtype == np.float32 and model.user_factors_.dtype == np.float32


def test_n_factors_is_capped_on_tiny_data() -> None:
    ds = random_data(n_users=6, n_items=5)
    model = PureSVD(n_factors=50).fit(ds)
    assert model.item_factors_.shape == (5, 4)


def test_different_seeds_agree(cluster_data: Dataset) -> None:
    # the decomposition is exact up to sign, and signs are fixed: the seed changes nothing
    a = PureSVD(n_factors=4, random_state=1).fit(cluster_data).score([1, 30])
    b = PureSVD(n_factors=4, random_state=2).fit(cluster_data).score([1, 30])
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_fold_in_matches_training_user(cluster_data: Dataset) -> None:
    model = PureSVD(n_factors=4).fit(cluster_data)
    frame = cluster_data.to_frame()
    user = frame[frame[C.USER] == 25]
    folded = model.recommend_for_history(user[C.ITEM], k=5, ratings=user[C.RATING])
    known = model.recommend([25], k=5)
    np.testing.assert_array_equal(folded.items, known.items)
    np.testing.assert_allclose(folded.scores, known.scores, rtol=1e-5)


def test_similar_items_stay_in_cluster(cluster_data: Dataset) -> None:
    model = PureSVD(n_factors=2).fit(cluster_data.with_positive_threshold(4.0))
    recs = model.similar_items([103, 207], k=5)
    ext = recs.item_ids[recs.items]
    assert ((ext[0] >= 100) & (ext[0] < 110)).all() and ((ext[1] >= 200) & (ext[1] < 210)).all()
    assert 103 not in ext[0] and 207 not in ext[1]


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_n_factors(bad: object, cluster_data: Dataset) -> None:
    with pytest.raises(ConfigError, match="n_factors must be a positive integer"):
        create_model("pure-svd", n_factors=bad).fit(cluster_data)


@pytest.mark.realdata
def test_quality_on_ml_small_random_split(ml_small: Dataset) -> None:
    """Shipped defaults reach ≥ 97 % of the peer PureSVD NDCG@10 (0.3307) on P1."""
    from movielens_lessons.data.splits import user_random_split
    from movielens_lessons.evaluation import evaluate

    split = user_random_split(ml_small, test_size=0.25, seed=42)
    model = create_model("pure-svd").fit(split.train)
    users = split.test.user_ids[split.test.active_users]
    result = evaluate(
        model.recommend(users, k=10), split.test, split.train, k=10, metrics=["ndcg"], n_bootstrap=0
    )
    assert result.value("ndcg") >= 0.97 * 0.3307
