"""ALS and BPR (the ``implicit`` library) behind the shared template."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite

pytest.importorskip("implicit")

from movielens_lessons.models.factorization.implicit_lib import confidence_matrix

# Small but not arbitrary: on the two-cluster data, weak regularisation lets ALS/BPR fit the two
# off-cluster interactions each user has and lose the known answer (checked over seeds 0-5).
ALS_SMALL = {"n_factors": 8, "regularization": 10.0, "alpha": 10.0, "n_epochs": 10, "num_threads": 1}
BPR_SMALL = {
    "n_factors": 8,
    "learning_rate": 0.05,
    "regularization": 0.1,
    "n_epochs": 500,
    "num_threads": 1,
}


class TestALSContract(ContractSuite):
    model_name = "als"
    params = ALS_SMALL


class TestBPRContract(ContractSuite):
    model_name = "bpr"
    params = BPR_SMALL


# --- confidence ---------------------------------------------------------------------------------


def test_confidence_is_one_plus_alpha_weight(tiny: Dataset) -> None:
    conf = confidence_matrix(tiny, "rating", 2.0)
    ratings = tiny.explicit()
    np.testing.assert_allclose(conf.toarray()[ratings.toarray() > 0], 1 + 2.0 * ratings.data)
    assert conf.dtype == np.float32 and conf.shape == (tiny.n_users, tiny.n_items)
    # the dataset's shared, read-only view is untouched
    np.testing.assert_array_equal(tiny.implicit("rating").data, ratings.data)


def test_confidence_respects_positive_threshold(tiny: Dataset) -> None:
    conf = confidence_matrix(tiny.with_positive_threshold(4.0), "binary", 5.0)
    assert conf.nnz == int((tiny.ratings >= 4.0).sum())
    assert set(conf.data.tolist()) == {6.0}


def test_unknown_weighting_is_rejected(tiny: Dataset) -> None:
    with pytest.raises(ConfigError, match="weighting"):
        create_model("als", weighting="sqrt").fit(tiny)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("als", {"n_factors": 0}),
        ("als", {"regularization": -1.0}),
        ("als", {"n_epochs": 2.5}),
        ("bpr", {"learning_rate": 0.0}),
        ("bpr", {"n_factors": "many"}),
    ],
)
def test_bad_hyperparameters_are_config_errors(tiny: Dataset, name: str, params: dict) -> None:
    key = next(iter(params))
    with pytest.raises(ConfigError, match=key):
        create_model(name, **params).fit(tiny)


# --- ALS ----------------------------------------------------------------------------------------


def test_als_alpha_changes_the_model(cluster_data: Dataset) -> None:
    weighted = cluster_data.with_positive_threshold(None)
    a = create_model("als", **{**ALS_SMALL, "alpha": 1.0, "weighting": "rating"}).fit(weighted)
    b = create_model("als", **{**ALS_SMALL, "alpha": 40.0, "weighting": "rating"}).fit(weighted)
    assert not np.allclose(a.score([1]), b.score([1]))


def test_als_threads_do_not_change_results(cluster_data: Dataset) -> None:
    # each user's / item's update is independent, so parallelism cannot change the arithmetic order
    one = create_model("als", **{**ALS_SMALL, "num_threads": 1}).fit(cluster_data)
    two = create_model("als", **{**ALS_SMALL, "num_threads": 2}).fit(cluster_data)
    np.testing.assert_allclose(one.score([1, 30]), two.score([1, 30]), rtol=1e-5, atol=1e-6)


def test_als_fold_in_matches_a_trained_user(cluster_data: Dataset) -> None:
    # With the exact solver run to convergence, folding in a training user's own history against the
    # final item factors must give (almost) the factors ALS learned for that user: this checks that
    # fold-in uses the same confidence and regularisation as training.
    params = {**ALS_SMALL, "use_cg": False, "n_epochs": 60}
    model = create_model("als", **params).fit(cluster_data)
    for user in (1, 33):
        movies = cluster_data.item_ids[cluster_data.items[cluster_data.users == user - 1]]
        folded = model._score_history(
            sp.csr_matrix(
                (np.ones(len(movies)), (np.zeros(len(movies)), model.item_ids_.searchsorted(movies))),
                shape=(1, model.n_items),
            )
        )
        np.testing.assert_allclose(folded, model.score([user])[0], rtol=1e-2, atol=1e-3)


def test_als_recommend_for_history_follows_taste(cluster_data: Dataset) -> None:
    model = create_model("als", **ALS_SMALL).fit(cluster_data)
    recs = model.recommend_for_history([200, 201, 202, 203], k=3)
    top = recs.item_ids[recs.items[0]]
    assert ((top >= 200) & (top < 210)).all()
    assert not set(top.tolist()) & {200, 201, 202, 203}


def test_als_similar_items_stay_in_cluster(cluster_data: Dataset) -> None:
    model = create_model("als", **ALS_SMALL).fit(cluster_data)
    sims = model.similar_items([100, 205], k=5)
    ext = sims.item_ids[sims.items]
    assert ((ext[0] >= 100) & (ext[0] < 110)).mean() >= 0.8
    assert ((ext[1] >= 200) & (ext[1] < 210)).mean() >= 0.8


def test_als_saved_folder_needs_no_implicit_pickle(
    cluster_data: Dataset,
    tmp_path: Path,
) -> None:
    model = create_model("als", **ALS_SMALL).fit(cluster_data)
    path = model.save(tmp_path / "als")
    with np.load(path / "arrays.npz", allow_pickle=False) as npz:
        assert npz["item_factors_"].shape == (cluster_data.n_items, ALS_SMALL["n_factors"])
        assert npz["user_factors_"].dtype == np.float32
    loaded = BaseRecommender.load(path)
    np.testing.assert_array_equal(
        loaded.recommend_for_history([100, 101], k=4).items,
        model.recommend_for_history([100, 101], k=4).items,
    )


# --- BPR ----------------------------------------------------------------------------------------


def test_bpr_factors_carry_an_item_bias_column(cluster_data: Dataset) -> None:
    model = create_model("bpr", **BPR_SMALL).fit(cluster_data)
    assert model.item_factors_.shape == (cluster_data.n_items, BPR_SMALL["n_factors"] + 1)
    # implicit fixes the user's last column to 1 so the item's last column acts as its bias
    np.testing.assert_array_equal(model.user_factors_[:, -1], 1.0)


def test_bpr_seed_matters(cluster_data: Dataset) -> None:
    a = create_model("bpr", **{**BPR_SMALL, "random_state": 1}).fit(cluster_data)
    b = create_model("bpr", **{**BPR_SMALL, "random_state": 2}).fit(cluster_data)
    assert not np.allclose(a.score([1]), b.score([1]))


def test_bpr_has_no_fold_in(cluster_data: Dataset) -> None:
    model = create_model("bpr", **BPR_SMALL).fit(cluster_data)
    with pytest.raises(ConfigError, match="fold in"):
        model.recommend_for_history([100], k=3)


# --- quality on the real data (the targets: ≥ 97 % of the peer's NDCG@10) --------------

PEER_NDCG = {"als": (0.3830, 0.1241), "bpr": (0.2695, 0.1079)}


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("name", ["als", "bpr"])
def test_default_quality_reaches_peer(ml_small: Dataset, name: str) -> None:
    from movielens_lessons.data.splits import user_random_split, user_temporal_split
    from movielens_lessons.evaluation import evaluate

    for split, peer in zip(
        (user_random_split(ml_small, test_size=0.25, seed=42), user_temporal_split(ml_small, 0.2)),
        PEER_NDCG[name],
        strict=True,
    ):
        model = create_model(name).fit(split.train)
        test = split.test
        recs = model.recommend(test.user_ids[test.active_users], k=10)
        ndcg = evaluate(recs, test, split.train, k=10, metrics=["ndcg"], n_bootstrap=0).value("ndcg")
        assert ndcg >= 0.97 * peer, f"{name} NDCG@10 {ndcg:.4f} < 97 % of peer {peer}"
