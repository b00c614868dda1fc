"""Explicit baselines: global mean and regularised biases (checked against a plain-loop reference)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite


class TestGlobalMeanContract(ContractSuite):
    model_name = "global-mean"

    def check_known_answer(self, model: BaseRecommender) -> None:
        # Every pair is predicted as the training mean; with all items tied, ties go to lower ids.
        pred = model.predict([1, 2, 999_999], [100, 205, 100])
        np.testing.assert_allclose(pred, model.global_mean_)
        recs = model.recommend([1], k=3, exclude_seen=False)
        assert recs.items[0].tolist() == [0, 1, 2]


class TestBiasBaselineContract(ContractSuite):
    model_name = "bias-baseline"
    params = {"user_regularization": 2.0, "item_regularization": 1.0, "n_epochs": 3}

    def check_known_answer(self, model: BaseRecommender) -> None:
        # Biases cannot tell the two taste clusters apart; a user's list is the items by item bias.
        recs = model.recommend([1], k=5, exclude_seen=False)
        assert recs.items[0].tolist() == np.argsort(-model.item_bias_, kind="stable")[:5].tolist()
        generous = int(np.argmax(model.user_bias_))
        stingy = int(np.argmin(model.user_bias_))
        scores = model.score(model.user_ids_[[generous, stingy]])
        assert (scores[0] >= scores[1]).all() and (scores[0] > scores[1]).any()


def reference_biases(
    frame: pd.DataFrame, reg_u: float, reg_i: float, n_epochs: int
) -> tuple[float, dict, dict]:
    """The alternating damped means written as plain loops over dictionaries."""
    triples = list(zip(frame[C.USER], frame[C.ITEM], frame[C.RATING], strict=True))
    mu = sum(r for _, _, r in triples) / len(triples)
    b_u: dict = defaultdict(float)
    b_i: dict = {}
    for _ in range(n_epochs):
        num, cnt = defaultdict(float), defaultdict(int)
        for u, i, r in triples:
            num[i] += r - mu - b_u[u]
            cnt[i] += 1
        b_i = {i: num[i] / (reg_i + cnt[i]) for i in num}
        num, cnt = defaultdict(float), defaultdict(int)
        for u, i, r in triples:
            num[u] += r - mu - b_i[i]
            cnt[u] += 1
        b_u = defaultdict(float, {u: num[u] / (reg_u + cnt[u]) for u in num})
    return mu, dict(b_u), b_i


@pytest.mark.parametrize(("reg_u", "reg_i", "n_epochs"), [(0.0, 0.0, 1), (5.0, 3.0, 1), (2.0, 7.0, 4)])
def test_bias_baseline_matches_reference(
    tiny_ratings: pd.DataFrame, tiny: Dataset, reg_u: float, reg_i: float, n_epochs: int
) -> None:
    model = create_model(
        "bias-baseline", user_regularization=reg_u, item_regularization=reg_i, n_epochs=n_epochs
    ).fit(tiny)
    mu, b_u, b_i = reference_biases(tiny_ratings, reg_u, reg_i, n_epochs)
    assert model.global_mean_ == pytest.approx(mu, rel=1e-6)
    for user, bias in b_u.items():
        assert model.user_bias_[tiny.user_index([user])[0]] == pytest.approx(bias, abs=1e-5)
    for item, bias in b_i.items():
        assert model.item_bias_[tiny.item_index([item])[0]] == pytest.approx(bias, abs=1e-5)
    # a prediction is μ + b_u + b_i, clipped to the training scale [1, 5]
    users, items = tiny_ratings[C.USER].to_numpy(), tiny_ratings[C.ITEM].to_numpy()
    expected = np.clip([mu + b_u[u] + b_i[i] for u, i in zip(users, items, strict=True)], 1, 5)
    np.testing.assert_allclose(model.predict(users, items), expected, atol=1e-5)


def test_unknown_ids_fall_back_to_known_bias(tiny: Dataset) -> None:
    model = create_model("bias-baseline").fit(tiny)
    mu, bu, bi = model.global_mean_, model.user_bias_[0], model.item_bias_[0]
    pred = model.predict([1, 1, 999, 999], [10, 999, 10, 999])
    np.testing.assert_allclose(pred, [mu + bu + bi, mu + bu, mu + bi, mu], atol=1e-6)
    assert np.isfinite(pred).all()


def test_predictions_clipped_to_training_scale() -> None:
    # One user rates everything 5, one item is loved by everyone: μ + b_u + b_i would exceed 5.
    frame = pd.DataFrame(
        {
            C.USER: [1, 1, 1, 2, 2, 3, 3],
            C.ITEM: [10, 20, 30, 10, 20, 10, 30],
            C.RATING: [5.0, 5.0, 5.0, 5.0, 1.0, 5.0, 2.0],
        }
    )
    model = create_model(
        "bias-baseline", user_regularization=0.0, item_regularization=0.0
    ).fit(Dataset.from_frame(frame))
    raw = model.global_mean_ + model.user_bias_[0] + model.item_bias_[0]
    assert raw > 5.0  # the unclipped prediction leaves the scale...
    assert model.predict([1], [10])[0] == pytest.approx(5.0)  # ...the clipped one does not
    assert model.score([1]).max() <= 5.0 and model.score([2]).min() >= 1.0


def test_regularization_shrinks_rare_items(tiny: Dataset) -> None:
    loose = create_model("bias-baseline", item_regularization=0.0, n_epochs=1).fit(tiny)
    tight = create_model("bias-baseline", item_regularization=50.0, n_epochs=1).fit(tiny)
    assert np.abs(tight.item_bias_).max() < 0.2 * np.abs(loose.item_bias_).max()


def test_fold_in_reproduces_a_training_user(tiny_ratings: pd.DataFrame, tiny: Dataset) -> None:
    # Each round ends with the user step given b_i, so folding in a user's own ratings gives their b_u.
    model = create_model("bias-baseline", n_epochs=3).fit(tiny)
    rows = tiny_ratings[tiny_ratings[C.USER] == 3]
    recs = model.recommend_for_history(
        rows[C.ITEM], k=5, ratings=rows[C.RATING], exclude_seen=False
    )
    expected = model.score([3])[0]
    np.testing.assert_allclose(recs.scores[0], expected[recs.items[0]], atol=1e-5)


def test_global_mean_fold_in_is_the_mean(tiny: Dataset) -> None:
    model = create_model("global-mean").fit(tiny)
    recs = model.recommend_for_history([10], k=2, ratings=[1.0])
    np.testing.assert_allclose(recs.scores, model.global_mean_)


@pytest.mark.realdata
def test_bias_baseline_rmse_on_p1(ml_small: Dataset) -> None:
    from movielens_lessons.data.splits import user_random_split

    split = user_random_split(ml_small, test_size=0.25, seed=42)
    test = split.test.to_frame()
    err = {}
    for name in ("global-mean", "bias-baseline"):
        model = create_model(name).fit(split.train)
        pred = model.predict(test[C.USER], test[C.ITEM])
        err[name] = float(np.sqrt(np.mean((pred - test[C.RATING].to_numpy()) ** 2)))
    # the reference: a regularised bias baseline reaches 0.864 on P1
    assert err["bias-baseline"] <= 0.864 * 1.01
    assert err["bias-baseline"] < err["global-mean"] - 0.1
