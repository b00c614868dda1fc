"""LightFM (lightfm-next) with and without item features, scored in NumPy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.csr_views import history_recency_weights, rating_confidence_weights
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_masks import position_in_user
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite, cluster_frame

pytest.importorskip("lightfm")

from movielens_lessons.models.factorization.lightfm_model import item_feature_matrix

SMALL = {"n_factors": 8, "n_epochs": 30}


def cluster_movies() -> pd.DataFrame:
    """Metadata for the two-cluster data: cluster 100s are Comedy (1990s), 200s Horror (1980s)."""
    ids = np.r_[np.arange(100, 110), np.arange(200, 210)]
    return pd.DataFrame(
        {
            C.ITEM: ids,
            C.TITLE: [f"Movie {i}" for i in ids],
            C.YEAR: pd.array([1995 if i < 200 else 1984 for i in ids], dtype="Int16"),
            C.GENRES: [["Comedy"] if i < 200 else ["Horror", "Thriller"] for i in ids],
        }
    )


@pytest.fixture(scope="module")
def cluster_with_movies() -> Dataset:
    return Dataset.from_frame(cluster_frame(), movies=cluster_movies(), name="clusters+movies")


class TestLightFMContract(ContractSuite):
    model_name = "lightfm"
    params = SMALL


class TestLightFMBPRContract(ContractSuite):
    model_name = "lightfm"
    params = {**SMALL, "loss": "bpr", "item_features": "none"}


# --- item features ------------------------------------------------------------------------------


def test_feature_matrix_identity_genres_and_decade(cluster_with_movies: Dataset) -> None:
    ds = cluster_with_movies
    f, names = item_feature_matrix(ds, "genres+year", normalize=False)
    assert f.shape == (ds.n_items, ds.n_items + 3 + 2)
    assert names[: ds.n_items].tolist() == [f"item:{i}" for i in ds.item_ids]
    assert set(names[ds.n_items :]) == {
        "genre:Comedy",
        "genre:Horror",
        "genre:Thriller",
        "decade:1980",
        "decade:1990",
    }
    dense = f.toarray()
    np.testing.assert_array_equal(dense[:, : ds.n_items], np.eye(ds.n_items))
    col = {n: j for j, n in enumerate(names)}
    horror = ds.item_index([205])[0]
    assert dense[horror, col["genre:Horror"]] == 1 and dense[horror, col["decade:1980"]] == 1
    assert dense[horror, col["genre:Comedy"]] == 0
    assert dense.sum(axis=1).tolist() == [3.0] * 10 + [4.0] * 10


def test_feature_matrix_rows_are_normalised(cluster_with_movies: Dataset) -> None:
    f, _ = item_feature_matrix(cluster_with_movies, "genres")
    np.testing.assert_allclose(np.asarray(f.sum(axis=1)).ravel(), 1.0, rtol=1e-6)


def test_feature_matrix_without_metadata_is_identity(cluster_data: Dataset) -> None:
    for which in ("none", "genres", "genres+year"):
        f, _ = item_feature_matrix(cluster_data, which)
        assert f.shape == (cluster_data.n_items, cluster_data.n_items)
        np.testing.assert_array_equal(f.toarray(), np.eye(cluster_data.n_items))


def test_items_missing_from_movies_keep_identity_only(cluster_with_movies: Dataset) -> None:
    movies = cluster_movies()
    ds = Dataset.from_frame(cluster_frame(), movies=movies[movies[C.ITEM] != 100])
    f, _ = item_feature_matrix(ds, "genres+year", normalize=False)
    row = ds.item_index([100])[0]
    assert f[row].nnz == 1 and f[row, row] == 1


def test_unknown_feature_set_and_loss_are_config_errors(tiny: Dataset) -> None:
    with pytest.raises(ConfigError, match="item_features"):
        create_model("lightfm", item_features="tags").fit(tiny)
    with pytest.raises(ConfigError, match="loss"):
        create_model("lightfm", loss="hinge").fit(tiny)
    with pytest.raises(ConfigError, match="n_epochs"):
        create_model("lightfm", n_epochs=0).fit(tiny)


# --- scoring --------------------------------------------------------------------------------------


@pytest.mark.parametrize("features", ["none", "genres+year"])
def test_numpy_scores_match_lightfm_predict(cluster_with_movies: Dataset, features: str) -> None:
    # Same data, parameters and seed straight into lightfm: our NumPy scoring must equal its predict.
    from lightfm import LightFM as LibLightFM

    ds = cluster_with_movies
    ours = create_model("lightfm", **SMALL, item_features=features).fit(ds)
    f, _ = item_feature_matrix(ds, features)
    lib = LibLightFM(
        no_components=8,
        loss="warp",
        learning_rate=ours.settings_["learning_rate"],
        item_alpha=ours.settings_["regularization"],
        user_alpha=ours.settings_["regularization"],
        max_sampled=ours.settings_["max_sampled"],
        random_state=42,
    )
    coo = ds.implicit().tocoo(copy=True)
    weights = ours._sample_weight(ds, coo)  # the default rating weights
    lib.fit(coo, sample_weight=weights, item_features=f, epochs=30, num_threads=1)
    users = np.repeat(np.arange(ds.n_users), ds.n_items).astype(np.int32)
    items = np.tile(np.arange(ds.n_items), ds.n_users).astype(np.int32)
    expected = lib.predict(users, items, item_features=f).reshape(ds.n_users, ds.n_items)
    np.testing.assert_allclose(ours.score(ds.user_ids), expected, rtol=1e-4, atol=1e-4)


def test_genre_features_place_a_cold_item(cluster_with_movies: Dataset) -> None:
    # Horror movie 209 has no interactions at all; with genre features its representation is built
    # from the Horror/Thriller embeddings, so Horror fans score it higher and its neighbours are Horror.
    frame = cluster_frame()
    ds = Dataset.from_frame(
        frame[frame[C.ITEM] != 209],
        movies=cluster_movies(),
        item_ids=cluster_with_movies.item_ids,
    )
    assert ds.item_counts()[ds.item_index([209])[0]] == 0
    model = create_model("lightfm", **SMALL, item_features="genres").fit(ds)
    scores = model.score(np.arange(1, 41), [209])[:, 0]
    assert scores[20:].mean() > scores[:20].mean()
    sims = model.similar_items([209], k=5)
    assert (sims.item_ids[sims.items[0]] >= 200).mean() >= 0.8


def test_save_load_with_features(cluster_with_movies: Dataset, tmp_path: Path) -> None:
    model = create_model("lightfm", **SMALL, item_features="genres+year").fit(cluster_with_movies)
    path = model.save(tmp_path / "lfm")
    loaded = BaseRecommender.load(path)
    np.testing.assert_array_equal(loaded.score([1, 25]), model.score([1, 25]))
    np.testing.assert_array_equal(loaded.feature_names_, model.feature_names_)
    assert (loaded.item_features_ != model.item_features_).nnz == 0
    np.testing.assert_array_equal(
        loaded.similar_items([100], k=3).items, model.similar_items([100], k=3).items
    )


def test_lightfm_has_no_fold_in(cluster_data: Dataset) -> None:
    model = create_model("lightfm", **SMALL).fit(cluster_data)
    with pytest.raises(ConfigError, match="fold in"):
        model.recommend_for_history([100], k=3)


# --- quality on the real data ----------------------------------------------------------------------

PEER_NDCG = (0.3206, 0.1229)  # lightfm-next WARP with genre features, 64 components, 40 epochs


@pytest.mark.realdata
@pytest.mark.slow
def test_default_quality_reaches_peer(ml_small: Dataset) -> None:
    from movielens_lessons.data.splits import user_random_split, user_temporal_split
    from movielens_lessons.evaluation import evaluate

    for split, peer in zip(
        (user_random_split(ml_small, test_size=0.25, seed=42), user_temporal_split(ml_small, 0.2)),
        PEER_NDCG,
        strict=True,
    ):
        model = create_model("lightfm").fit(split.train)
        test = split.test
        recs = model.recommend(test.user_ids[test.active_users], k=10)
        ndcg = evaluate(recs, test, split.train, k=10, metrics=["ndcg"], n_bootstrap=0).value("ndcg")
        assert ndcg >= 0.97 * peer, f"lightfm NDCG@10 {ndcg:.4f} < 97 % of peer {peer}"


# --- settings chosen by the presence of item features ---------------------------------------------


def test_unset_settings_follow_the_item_features(cluster_with_movies: Dataset) -> None:
    from movielens_lessons.models.factorization.lightfm_model import AUTO_SETTINGS

    with_meta = create_model("lightfm", n_epochs=2).fit(cluster_with_movies)
    assert with_meta.settings_ == AUTO_SETTINGS["with features"]
    plain = create_model("lightfm", n_epochs=2, item_features="none").fit(cluster_with_movies)
    assert plain.settings_ == AUTO_SETTINGS["without features"]
    assert plain.item_embeddings_.shape[1] == AUTO_SETTINGS["without features"]["n_factors"]
    # a value given by the user is used as given, whichever the features
    given = create_model("lightfm", n_epochs=2, item_features="none", n_factors=4, max_sampled=7)
    assert given.fit(cluster_with_movies).settings_ == {
        **AUTO_SETTINGS["without features"], "n_factors": 4, "max_sampled": 7
    }


def test_settings_survive_save_and_load(cluster_with_movies: Dataset, tmp_path: Path) -> None:
    model = create_model("lightfm", n_epochs=2, item_features="none").fit(cluster_with_movies)
    loaded = BaseRecommender.load(model.save(tmp_path / "lightfm"))
    assert loaded.settings_ == model.settings_
    assert all(type(loaded.settings_[k]) is type(v) for k, v in model.settings_.items())


# --- recency weights ------------------------------------------------------------------------------


def drift_frame(seed: int = 0) -> pd.DataFrame:
    """Users 1-20 rated six movies of cluster A (100s) and then three of cluster B (200s); users
    21-40 rated only A, users 41-60 only B, so both clusters are learnable."""
    rng = np.random.default_rng(seed)
    a, b = np.arange(100, 112), np.arange(200, 212)
    rows = []
    for user in range(1, 61):
        if user <= 20:
            items = [*rng.choice(a, 6, replace=False), *rng.choice(b, 3, replace=False)]
        else:
            items = list(rng.choice(a if user <= 40 else b, 6, replace=False))
        t = 1_000_000 + user * 1000
        rows += [(user, int(item), 4.0, t + j) for j, item in enumerate(items)]
    return pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.RATING, C.TIMESTAMP])


def b_over_a(ds: Dataset, users: np.ndarray, **params: float) -> float:
    """Mean score of cluster B's movies (200s) minus cluster A's (100s) over ``users``, for a small
    LightFM without item features fitted on ``ds`` with ``params``."""
    model = create_model("lightfm", n_factors=8, n_epochs=30, item_features="none", **params).fit(ds)
    scores = model.score(users)
    in_b = model.item_ids_ >= 200
    return float(scores[:, in_b].mean() - scores[:, ~in_b].mean())


def test_recency_weight_moves_a_drifting_user_towards_their_latest_taste() -> None:
    ds = Dataset.from_frame(drift_frame())
    drifters = np.arange(1, 21)
    # measured: -1.10 without and -0.46 with (seeds 1 and 2: the same shift, ±0.05)
    assert b_over_a(ds, drifters, recency_weight=20.0) > b_over_a(ds, drifters, recency_weight=0.0) + 0.3


def test_recency_weight_needs_timestamps_and_a_non_negative_value(tiny: Dataset) -> None:
    untimed = Dataset.from_frame(tiny.to_frame().drop(columns=[C.TIMESTAMP]), name="untimed")
    with pytest.raises(ConfigError, match=r"recency_weight=2\.0 needs timestamps; untimed"):
        create_model("lightfm", recency_weight=2.0).fit(untimed)
    with pytest.raises(ConfigError, match="recency_weight must be a non-negative number"):
        create_model("lightfm", recency_weight=-1.0).fit(tiny)
    create_model("lightfm", n_epochs=1, recency_weight=0).fit(untimed)  # off: no timestamps needed


# --- rating confidence weights --------------------------------------------------------------------


def mixed_taste_frame(seed: int = 0) -> pd.DataFrame:
    """Users 1-20 loved six movies of cluster A (5 stars) and panned six of cluster B (1 star);
    users 21-40 rated only A, users 41-60 only B (3.5 stars), so both clusters are learnable."""
    rng = np.random.default_rng(seed)
    a, b = np.arange(100, 112), np.arange(200, 212)
    rows = []
    for user in range(1, 61):
        if user <= 20:
            rated = [(item, 5.0) for item in rng.choice(a, 6, replace=False)]
            rated += [(item, 1.0) for item in rng.choice(b, 6, replace=False)]
        else:
            rated = [(item, 3.5) for item in rng.choice(a if user <= 40 else b, 6, replace=False)]
        order = rng.permutation(len(rated))  # loved and panned films interleaved in time
        rows += [(user, int(rated[j][0]), rated[j][1], 1_000_000 + user * 1000 + t)
                 for t, j in enumerate(order)]  # fmt: skip
    return pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.RATING, C.TIMESTAMP])


def test_rating_weight_pulls_a_user_towards_the_films_they_loved() -> None:
    ds = Dataset.from_frame(mixed_taste_frame())
    critics = np.arange(1, 21)  # they loved A and panned B
    # measured: A over B about 0 without (they rated both) and 1.3-1.5 with (data seeds 0-2, model
    # seeds 42 and 1)
    assert b_over_a(ds, critics, rating_weight=1.0) < b_over_a(ds, critics, rating_weight=0.0) - 0.5


def test_rating_weights_reach_lightfm_in_its_entry_order() -> None:
    frame = mixed_taste_frame().sample(frac=1.0, random_state=1)  # rows out of order
    ds = Dataset.from_frame(frame)
    model = create_model("lightfm", rating_weight=0.5, recency_weight=2.0)
    coo = ds.implicit("binary").tocoo(copy=True)
    weights = model._sample_weight(ds, coo)
    assert weights is not None
    entries = zip(ds.user_ids[weights.row].tolist(), ds.item_ids[weights.col].tolist(), strict=True)
    got = dict(zip(entries, weights.data.tolist(), strict=True))

    expected = history_recency_weights(*position_in_user(ds), 2.0) * rating_confidence_weights(
        ds.ratings, 0.5
    )
    expected /= expected.mean()
    pairs = zip(ds.user_ids[ds.users].tolist(), ds.item_ids[ds.items].tolist(), strict=True)
    assert got == pytest.approx(dict(zip(pairs, expected.tolist(), strict=True)), rel=1e-6)
    # LightFM sees weights of mean 1, so the step size means the same with or without them
    assert weights.data.mean() == pytest.approx(1.0, rel=1e-6)


def test_rating_weight_skips_data_without_ratings_and_refuses_negatives(tiny: Dataset) -> None:
    unrated = Dataset.from_frame(tiny.to_frame().drop(columns=[C.RATING]), name="unrated")
    assert unrated.ratings is None
    model = create_model("lightfm", n_epochs=1)
    assert model._sample_weight(unrated, unrated.implicit().tocoo()) is None
    model.fit(unrated)  # the default rating_weight needs no ratings
    with pytest.raises(ConfigError, match="rating_weight must be a non-negative number"):
        create_model("lightfm", rating_weight=-0.5).fit(tiny)
