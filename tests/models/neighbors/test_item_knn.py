"""item-knn: contract, brute-force known answers, cross-check against ``implicit``, quality on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.models.neighbors.item_knn import ItemKNN, bm25_weight, sequence_cooccurrence
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite


class TestItemKNNCosineContract(ContractSuite):
    model_name = "item-knn"
    params = {"n_neighbors": 5}


class TestItemKNNBM25Contract(ContractSuite):
    model_name = "item-knn"
    params = {"n_neighbors": 8, "similarity": "bm25", "bm25_k1": 1.5, "bm25_b": 0.5}


class TestSequentialItemKNNContract(ContractSuite):
    model_name = "item-knn"
    params = {"n_neighbors": 8, "window": 3}


def random_data(n_users: int = 200, n_items: int = 25, seed: int = 0) -> Dataset:
    """Binary interactions with item-dependent density, so that similarities rarely tie."""
    rng = np.random.default_rng(seed)
    density = rng.uniform(0.05, 0.5, n_items)
    x = rng.random((n_users, n_items)) < density[None, :]
    x[0, :] = False
    x[0, :3] = True  # user 1 likes items 0-2 only
    x[:, x.sum(axis=0) == 0] = True  # every item has at least one interaction
    users, items = np.nonzero(x)
    frame = pd.DataFrame({C.USER: users + 1, C.ITEM: items + 1, C.RATING: 4.0})
    return Dataset.from_frame(frame, name="random")


def brute_force_scores(x: np.ndarray, k: int, shrinkage: float = 0.0) -> np.ndarray:
    """x · W where W[:, j] keeps the k most cosine-similar other items of j (dense, float64)."""
    dots = x.T @ x
    norms = np.sqrt(np.diag(dots))
    sim = dots / (norms[:, None] * norms[None, :] + shrinkage)
    np.fill_diagonal(sim, 0.0)
    w = np.zeros_like(sim)
    for j in range(sim.shape[1]):
        nbrs = np.argsort(-sim[:, j], kind="stable")[:k]
        w[nbrs, j] = sim[nbrs, j]
    return x @ w


def no_ties_at_cut(sim: np.ndarray, k: int) -> bool:
    s = np.sort(sim - np.diag(np.diag(sim)), axis=1)[:, ::-1]
    return bool((s[:, k - 1] > s[:, k]).all())


@pytest.mark.parametrize(("k", "shrinkage"), [(4, 0.0), (10, 0.0), (6, 5.0), (100, 0.0)])
def test_scores_match_brute_force(k: int, shrinkage: float) -> None:
    ds = random_data()
    x = ds.implicit().toarray().astype(np.float64)
    model = ItemKNN(n_neighbors=k, shrinkage=shrinkage).fit(ds)
    full = ItemKNN(n_neighbors=1000, shrinkage=shrinkage).fit(ds).neighbours_.toarray()
    assert k >= ds.n_items or no_ties_at_cut(full, k), "test data has tied similarities at the cut"
    expected = brute_force_scores(x, k, shrinkage)
    np.testing.assert_allclose(model.score(ds.user_ids), expected, rtol=1e-5, atol=1e-6)


def test_neighbours_exclude_self_and_respect_k() -> None:
    ds = random_data()
    model = ItemKNN(n_neighbors=4).fit(ds)
    nbrs = model.neighbours_
    assert (nbrs.getnnz(axis=1) <= 4).all()
    assert nbrs.diagonal().sum() == 0
    assert (nbrs.data > 0).all()


def test_user_scores_come_only_from_liked_items() -> None:
    ds = random_data()
    model = ItemKNN(n_neighbors=5).fit(ds)
    # user 1 likes items 0-2: score(j) = Σ over those of sim(i, j) where i is among j's 5 neighbours
    w = model.neighbours_.T.toarray()
    np.testing.assert_allclose(model.score([1])[0], w[:3].sum(axis=0), rtol=1e-6)


# implicit (0.7) weights our CSR input into a COO matrix inside Cosine/BM25Recommender.fit, then
# warns that it must convert that COO back to CSR: only implicit could fix it.
@pytest.mark.filterwarnings("ignore:Method expects CSR input:Warning:implicit.utils")
@pytest.mark.parametrize("similarity", ["cosine", "bm25"])
def test_neighbours_match_implicit_library(similarity: str) -> None:
    nn = pytest.importorskip("implicit.nearest_neighbours")
    ds = random_data()
    x = sp.csr_matrix(ds.implicit(), dtype=np.float32)
    k = 6
    if similarity == "cosine":
        ref = nn.CosineRecommender(K=k + 1, num_threads=1)  # implicit spends one slot on the item
        ours = ItemKNN(n_neighbors=k)
    else:
        ref = nn.BM25Recommender(K=k + 1, K1=1.2, B=0.75, num_threads=1)
        ours = ItemKNN(n_neighbors=k, similarity="bm25", bm25_k1=1.2, bm25_b=0.75)
    ref.fit(x, show_progress=False)
    ours.fit(ds)
    full = ItemKNN(n_neighbors=1000, similarity=similarity).fit(ds).neighbours_.toarray()
    assert no_ties_at_cut(full, k), "test data has tied similarities at the cut"
    expected = ref.similarity.toarray()
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(ours.neighbours_.toarray(), expected, rtol=1e-4, atol=1e-6)


def test_bm25_weight_matches_implicit_formula() -> None:
    nn = pytest.importorskip("implicit.nearest_neighbours")
    x = sp.csr_matrix(random_data().implicit(), dtype=np.float32)
    ours = bm25_weight(x, 2.0, 0.6).toarray()
    ref = nn.bm25_weight(x.T, 2.0, 0.6).T.toarray()
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_similar_items_are_nearest_neighbours(cluster_data: Dataset) -> None:
    # positives only (≥ 4 stars): the off-cluster dislikes would otherwise link the clusters
    model = ItemKNN(n_neighbors=4).fit(cluster_data.with_positive_threshold(4.0))
    recs = model.similar_items([100, 205], k=6)
    assert recs.items.shape == (2, 6)
    ext = recs.item_ids[recs.items[:, :4]]
    assert ((ext[0] >= 100) & (ext[0] < 110)).all() and ((ext[1] >= 200) & (ext[1] < 210)).all()
    assert (np.diff(recs.scores[:, :4], axis=1) <= 0).all()
    assert 100 not in ext[0] and 205 not in ext[1]
    # only 4 neighbours were kept: the rest is padding
    assert (recs.items[:, 4:] == -1).all() and np.isnan(recs.scores[:, 4:]).all()
    with pytest.raises(DataValidationError, match="movieId 999"):
        model.similar_items([999])


def test_fold_in_matches_training_user(cluster_data: Dataset) -> None:
    model = ItemKNN(n_neighbors=5).fit(cluster_data)
    frame = cluster_data.to_frame()
    history = frame.loc[frame[C.USER] == 3, C.ITEM].to_numpy()
    folded = model.recommend_for_history(history, k=5)
    known = model.recommend([3], k=5)
    np.testing.assert_array_equal(folded.items, known.items)
    np.testing.assert_allclose(folded.scores, known.scores, rtol=1e-6)


def test_positive_threshold_limits_history(cluster_data: Dataset) -> None:
    pos = cluster_data.with_positive_threshold(4.0)
    model = ItemKNN(n_neighbors=5).fit(pos)
    assert model.positives_.nnz == int((pos.ratings >= 4.0).sum())


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"similarity": "jaccard"}, "allowed: cosine, bm25"),
        ({"n_neighbors": 0}, "n_neighbors"),
        ({"n_neighbors": 2.5}, "n_neighbors"),
        ({"shrinkage": -1.0}, "shrinkage"),
        ({"similarity": "bm25", "shrinkage": 3.0}, "only; set shrinkage=0"),
        ({"similarity": "bm25", "bm25_b": 2.0}, "bm25_b"),
        ({"window": -1}, "window must be an integer"),
        ({"window": 1.5}, "window must be an integer"),
        ({"similarity": "bm25", "window": 2}, "window applies to similarity='cosine' only"),
    ],
)
def test_bad_params_are_config_errors(params: dict, match: str, cluster_data: Dataset) -> None:
    with pytest.raises(ConfigError, match=match):
        create_model("item-knn", **params).fit(cluster_data)


def timed_sequences(seed: int = 1) -> Dataset:
    """60 users, each consuming 4-12 of 20 items one after another (ties in time included)."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, 61):
        items = rng.choice(20, size=int(rng.integers(4, 13)), replace=False) + 1
        times = np.sort(rng.integers(0, 8, size=len(items)))  # repeated times: ties
        rows += [(user, int(i), 4.0, int(t)) for i, t in zip(items, times, strict=True)]
    frame = pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.RATING, C.TIMESTAMP])
    return Dataset.from_frame(frame, name="sequences")


@pytest.mark.parametrize("window", [1, 2, 5])
def test_sequence_cooccurrence_matches_brute_force(window: int) -> None:
    ds = timed_sequences()
    expected = np.zeros((ds.n_items, ds.n_items))
    for u in range(ds.n_users):
        rows = np.flatnonzero(ds.users == u)
        seq = ds.items[rows[np.argsort(ds.timestamps[rows], kind="stable")]]
        for a in range(len(seq)):
            for b in range(a + 1, min(a + window, len(seq) - 1) + 1):
                expected[seq[a], seq[b]] += 1
                expected[seq[b], seq[a]] += 1
    got = sequence_cooccurrence(ds, window).toarray()
    np.testing.assert_array_equal(got, expected)


def test_sequential_scores_are_cosine_over_the_cooccurrence() -> None:
    ds = timed_sequences()
    model = ItemKNN(n_neighbors=ds.n_items, window=2).fit(ds)
    co = sequence_cooccurrence(ds, 2).toarray().astype(np.float64)
    norms = np.sqrt(co.sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        sim = np.nan_to_num(co / (norms[:, None] * norms[None, :]))
    np.fill_diagonal(sim, 0.0)
    x = (ds.implicit().toarray() > 0).astype(np.float64)
    np.testing.assert_allclose(model.score(ds.user_ids), x @ sim, rtol=1e-5, atol=1e-6)
    # and it is not the plain co-occurrence model
    plain = ItemKNN(n_neighbors=ds.n_items).fit(ds)
    assert not np.allclose(plain.score(ds.user_ids), model.score(ds.user_ids))


def test_sequential_needs_timestamps() -> None:
    frame = pd.DataFrame({C.USER: [1, 1, 2], C.ITEM: [1, 2, 2], C.RATING: [4.0, 3.0, 5.0]})
    ds = Dataset.from_frame(frame, name="untimed")
    with pytest.raises(DataValidationError, match="no timestamps"):
        ItemKNN(window=2).fit(ds)


@pytest.mark.realdata
@pytest.mark.slow
def test_quality_on_ml_small_random_split(ml_small: Dataset) -> None:
    """Shipped defaults reach ≥ 97 % of the peer item-kNN NDCG@10 (0.3426) on P1."""
    from movielens_lessons.data.splits import user_random_split
    from movielens_lessons.evaluation import evaluate

    split = user_random_split(ml_small, test_size=0.25, seed=42)
    model = create_model("item-knn").fit(split.train)
    users = split.test.user_ids[split.test.active_users]
    result = evaluate(
        model.recommend(users, k=10), split.test, split.train, k=10, metrics=["ndcg"], n_bootstrap=0
    )
    assert result.value("ndcg") >= 0.97 * 0.3426
