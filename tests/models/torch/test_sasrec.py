"""sasrec: contract, a chain world where the next item follows from the last one, order-aware
histories, save/load, determinism, no NaN from padding, bad parameters."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.split_registry import split
from movielens_lessons.data.synth import synthesize
from movielens_lessons.errors import ConfigError, DataValidationError
from movielens_lessons.evaluation import evaluate
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite, cluster_frame

pytest.importorskip("torch")

pytestmark = pytest.mark.torch

SMALL: dict[str, Any] = {
    "hidden_dim": 16, "n_blocks": 1, "max_length": 20, "n_epochs": 30, "learning_rate": 0.01,
    "num_threads": 1,
    # the training schedule these small worlds were written for (the defaults suit ml-latest-small)
    "batch_size": 128, "patience": 10, "validation_fraction": 0.1,
}  # fmt: skip
CHAIN_LENGTH = 40


class TestSASRecContract(ContractSuite):
    model_name = "sasrec"
    params = SMALL

    def check_known_answer(self, model: BaseRecommender) -> None:
        """Each cluster user's latest two movies are the other cluster's (rated 1-2 stars): a sequence
        model rightly follows them. With a positive threshold the sequences hold only the liked
        movies, and the generic answer applies."""
        liked = Dataset.from_frame(cluster_frame(), positive_threshold=3.0, name="clusters")
        super().check_known_answer(self.make().fit(liked))


def chain_frame(n_users: int = 150, seed: int = 0) -> pd.DataFrame:
    """Users walk a cycle of ``CHAIN_LENGTH`` movies (ids 1..40, movie 40 → movie 1) from a random
    start, usually one step at a time and sometimes skipping one, 10-15 movies each, timestamps in
    walk order. Every movie is about equally popular, so only the order tells what comes next."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, n_users + 1):
        position = int(rng.integers(CHAIN_LENGTH))
        for t in range(int(rng.integers(10, 16))):
            rows.append((user, position + 1, 1_000_000 + user * 100 + t))
            position = (position + (2 if rng.random() < 0.15 else 1)) % CHAIN_LENGTH
    return pd.DataFrame(rows, columns=[C.USER, C.ITEM, C.TIMESTAMP])


@pytest.fixture(scope="module")
def chain_data() -> Dataset:
    return Dataset.from_frame(chain_frame(), name="chain")


@pytest.fixture(scope="module")
def chain_model(chain_data: Dataset) -> BaseRecommender:
    return create_model("sasrec", **SMALL).fit(chain_data)


def ndcg_at_10(model: BaseRecommender, train: Dataset, test: Dataset) -> float:
    users = test.user_ids[test.active_users]
    result = evaluate(model.recommend(users, k=10), test, train, k=10, metrics=["ndcg"],
                      n_bootstrap=0)  # fmt: skip
    return result.value("ndcg")


def test_beats_most_popular_in_the_chain_world(chain_data: Dataset) -> None:
    parts = split(chain_data, "user-temporal", test_size=0.2)
    sasrec = create_model("sasrec", **SMALL).fit(parts.train)
    popular = create_model("most-popular").fit(parts.train)
    ours, theirs = (
        ndcg_at_10(sasrec, parts.train, parts.test),
        ndcg_at_10(popular, parts.train, parts.test),
    )
    assert ours > 0.5 and ours > theirs + 0.3, (ours, theirs)
    metrics = sasrec.training_metrics_
    assert set(metrics) == {"best_epoch", "validation_ndcg@10", "epochs_run"}
    assert 0 <= metrics["best_epoch"] < metrics["epochs_run"] <= SMALL["n_epochs"]
    assert metrics["validation_ndcg@10"] > 0.5


def test_beats_most_popular_on_synthetic_movielens() -> None:
    """The synthetic ratings carry taste and popularity but no sequence; with 500 users (fewer make
    the 10 % validation users too noisy to stop on) SASRec still learns enough taste to win."""
    data = synthesize(500, 150, 15_000, seed=3)
    ds = Dataset.from_frame(data.ratings, name="synth")
    parts = split(ds, "user-temporal", test_size=0.2)
    sasrec = create_model("sasrec", **{**SMALL, "n_epochs": 100, "patience": 30}).fit(parts.train)
    popular = create_model("most-popular").fit(parts.train)
    ours = ndcg_at_10(sasrec, parts.train, parts.test)
    theirs = ndcg_at_10(popular, parts.train, parts.test)
    assert ours > theirs, (ours, theirs)


def test_history_order_matters_and_the_chain_continues(chain_model: BaseRecommender) -> None:
    forward = chain_model.recommend_for_history([1, 2, 3, 20, 21, 22], k=3)
    backward = chain_model.recommend_for_history([20, 21, 22, 1, 2, 3], k=3)
    assert forward.item_ids[forward.items[0]].tolist() == [23, 24, 25]
    assert backward.item_ids[backward.items[0]].tolist() == [4, 5, 6]
    # two movies: the same set, another order, other scores and the walk goes on from the latest
    a = chain_model.recommend_for_history([5, 20], k=3)
    b = chain_model.recommend_for_history([20, 5], k=3)
    assert a.item_ids[a.items[0, 0]] == 21 and b.item_ids[b.items[0, 0]] in (6, 7)
    walk = chain_model.recommend_for_history([11, 12, 13, 14], k=1)
    assert walk.item_ids[walk.items[0, 0]] == 15


def test_known_user_continues_their_walk(chain_model: BaseRecommender, chain_data: Dataset) -> None:
    frame = chain_data.to_frame()
    latest = frame.sort_values(C.TIMESTAMP).groupby(C.USER)[C.ITEM].last()
    recs = chain_model.recommend(latest.index, k=1)
    expected = latest.to_numpy() % CHAIN_LENGTH + 1
    assert (recs.item_ids[recs.items[:, 0]] == expected).mean() >= 0.9
    # a training user's own history, given as a new user's, scores the same
    user = int(latest.index[0])
    history = frame.loc[frame[C.USER] == user].sort_values(C.TIMESTAMP)[C.ITEM]
    np.testing.assert_allclose(
        chain_model._score_history_items(chain_data.item_index(history), np.ones(len(history))),
        chain_model.score([user])[0], rtol=1e-5, atol=1e-5,
    )  # fmt: skip


def test_empty_history_gets_popularity(chain_model: BaseRecommender) -> None:
    recs = chain_model.recommend_for_history([], k=3)
    popular = np.argsort(-chain_model.item_popularity_, kind="stable")[:3]
    assert recs.items[0].tolist() == popular.tolist()


def test_save_load_identical(chain_model: BaseRecommender, tmp_path: Path) -> None:
    path = chain_model.save(tmp_path / "sasrec")
    assert (path / "weights.pt").is_file()
    loaded = BaseRecommender.load(path)
    np.testing.assert_array_equal(loaded.score([1, 7, 150]), chain_model.score([1, 7, 150]))
    a = loaded.recommend_for_history([3, 4], k=5)
    b = chain_model.recommend_for_history([3, 4], k=5)
    np.testing.assert_array_equal(a.items, b.items)
    assert loaded.training_metrics_ == chain_model.training_metrics_


def test_seeded_fits_are_identical_and_seeds_differ(cluster_data: Dataset) -> None:
    params = {**SMALL, "n_epochs": 3}
    a = create_model("sasrec", **params).fit(cluster_data).score([1, 25])
    b = create_model("sasrec", **params).fit(cluster_data).score([1, 25])
    c = create_model("sasrec", **params, random_state=7).fit(cluster_data).score([1, 25])
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_no_nan_with_padding_and_long_histories(cluster_data: Dataset) -> None:
    # max_length 4 < 9 items per user (truncation) and 2 heads; a user with an empty sequence too
    model = create_model("sasrec", **{**SMALL, "max_length": 4, "n_heads": 2, "n_epochs": 2})
    model.fit(cluster_data)
    assert np.isfinite(model.score(cluster_data.user_ids)).all()
    assert np.isfinite(model.recommend_for_history([100], k=3).scores).all()
    assert np.isfinite(model.recommend_for_history(range(100, 110), k=3).scores).all()
    empty = model._score_sequences(np.zeros((1, 4), dtype=np.int64))
    np.testing.assert_array_equal(empty[0], model.item_popularity_.astype(np.float32))


def test_without_validation_all_epochs_run(cluster_data: Dataset) -> None:
    model = create_model("sasrec", **{**SMALL, "n_epochs": 2, "validation_fraction": 0.0})
    model.fit(cluster_data)
    assert model.training_metrics_ == {"best_epoch": 1, "validation_ndcg@10": None,
                                       "epochs_run": 2}  # fmt: skip


def test_needs_a_user_with_two_items() -> None:
    frame = pd.DataFrame({C.USER: [1, 2], C.ITEM: [10, 20], C.TIMESTAMP: [1, 2]})
    with pytest.raises(DataValidationError, match="two or more training items"):
        create_model("sasrec", **SMALL).fit(Dataset.from_frame(frame))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"hidden_dim": 0}, "hidden_dim must be a positive integer, got 0"),
        ({"n_blocks": 1.5}, "n_blocks must be a positive integer, got 1.5"),
        ({"hidden_dim": 10, "n_heads": 3}, "divisible by n_heads"),
        ({"max_length": True}, "max_length must be a positive integer, got True"),
        ({"dropout": 1.0}, r"sasrec: dropout must be a number in \[0, 1\), got 1.0"),
        ({"validation_fraction": -0.1}, "validation_fraction"),
        ({"learning_rate": 0}, "learning_rate must be a number > 0"),
        ({"patience": 0}, "patience must be a positive integer"),
        ({"num_threads": -1}, "num_threads"),
        ({"device": "tpu"}, "device must be"),
        ({"random_state": "x"}, "random_state must be an integer"),
    ],
)
def test_bad_params(params: dict[str, Any], match: str, cluster_data: Dataset) -> None:
    with pytest.raises(ConfigError, match=match):
        create_model("sasrec", **{**SMALL, **params}).fit(cluster_data)


def test_training_windows_cover_every_next_item_pair_once() -> None:
    from movielens_lessons.models.torch.sasrec import training_windows

    users = np.array([0] * 7 + [1] * 2 + [2])
    items = np.array([10, 11, 12, 13, 14, 15, 16, 20, 21, 30])
    windows = training_windows(users, items, 3, 3)
    np.testing.assert_array_equal(windows, [[14, 15, 16, 17], [0, 0, 21, 22], [11, 12, 13, 14]])
    pairs = {(int(a), int(b)) for w in windows for a, b in itertools.pairwise(w) if a}
    assert pairs == {(11, 12), (12, 13), (13, 14), (14, 15), (15, 16), (16, 17), (21, 22)}


def test_movies_without_training_positives_change_nothing(cluster_data: Dataset) -> None:
    # the same ratings under an id map that also knows movies 200-202 (e.g. from a test split)
    frame = cluster_frame()
    rows = np.flatnonzero(~frame[C.ITEM].isin([200, 201, 202]).to_numpy())
    wide = cluster_data.subset(rows)
    narrow = Dataset.from_frame(frame.iloc[rows], name="narrow")
    params = {**SMALL, "n_epochs": 3}
    a = create_model("sasrec", **params).fit(wide)
    b = create_model("sasrec", **params).fit(narrow)
    assert len(a.item_ids_) == len(b.item_ids_) + 3
    users = [1, 25]
    scores = a.score(users)
    shared = np.isin(a.item_ids_, b.item_ids_)
    np.testing.assert_array_equal(scores[:, shared], b.score(users))
    assert np.isneginf(scores[:, ~shared]).all()
    assert 200 not in a.recommend_for_history([100, 101, 200], k=30).to_frame()[C.ITEM].tolist()
    np.testing.assert_array_equal(
        a.recommend_for_history([100, 200, 101], k=5).to_frame()[C.ITEM],
        b.recommend_for_history([100, 101], k=5).to_frame()[C.ITEM],
    )
