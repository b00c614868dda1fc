"""ease: contract, agreement with the float64 textbook formula, pruning, memory refusal, CLI error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError
from movielens_lessons.models.autoencoders import ease as ease_module
from movielens_lessons.models.autoencoders.ease import (
    EASE,
    check_memory,
    gram,
    memory_estimate_bytes,
)
from movielens_lessons.models.base import BaseRecommender
from movielens_lessons.models.registry import create_model

from ..contract import ContractSuite, cluster_frame


class TestEaseContract(ContractSuite):
    model_name = "ease"
    params = {"regularization": 10.0}


class TestEasePrunedContract(ContractSuite):
    """min_item_count=1 keeps every cluster item, so the whole contract still applies."""

    model_name = "ease"
    params = {"regularization": 5.0, "min_item_count": 1, "max_items": 1000}


def random_data(n_users: int = 60, n_items: int = 30, seed: int = 2) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.random((n_users, n_items)) < rng.uniform(0.05, 0.5, n_items)[None, :]
    x[:, x.sum(axis=0) == 0] = True
    x[x.sum(axis=1) == 0, 0] = True
    users, items = np.nonzero(x)
    return Dataset.from_frame(pd.DataFrame({C.USER: users + 1, C.ITEM: items + 1}), name="random")


def textbook_ease(x: np.ndarray, lam: float) -> np.ndarray:
    """Steck's closed form with a float64 generic inverse."""
    p = np.linalg.inv(x.T @ x + lam * np.eye(x.shape[1]))
    b = -p / np.diag(p)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


@pytest.mark.parametrize("lam", [1.0, 10.0, 250.0])
def test_weights_match_textbook_formula(lam: float) -> None:
    ds = random_data()
    x = ds.implicit().toarray().astype(np.float64)
    model = EASE(regularization=lam).fit(ds)
    assert model.weights_.dtype == np.float32
    expected = textbook_ease(x, lam)
    np.testing.assert_allclose(model.weights_, expected, atol=2e-5 * np.abs(expected).max())
    assert (np.diag(model.weights_) == 0).all()
    np.testing.assert_allclose(model.score(ds.user_ids), x @ expected, atol=1e-4)


def test_gram_is_dense_xtx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ease_module, "_BLOCK_BYTES", 16 * 30 * 7)  # force several row blocks
    ds = random_data()
    x = ds.implicit()
    np.testing.assert_array_equal(gram(x), (x.T @ x).toarray())


def test_max_items_keeps_the_most_popular(cluster_data: Dataset) -> None:
    model = EASE(regularization=5.0, max_items=6).fit(cluster_data)
    counts = cluster_data.item_counts()
    kept = model.kept_items_
    assert len(kept) == 6 and model.weights_.shape == (6, 6)
    assert counts[kept].min() >= np.delete(counts, kept).max()
    scores = model.score([1, 25])
    pruned = np.setdiff1d(np.arange(cluster_data.n_items), kept)
    assert np.isneginf(scores[:, pruned]).all() and np.isfinite(scores[:, kept]).all()
    recs = model.recommend(k=10, exclude_seen=False)
    assert not np.isin(recs.items[recs.items >= 0], pruned).any()


def test_min_item_count_drops_rare_and_absent_items() -> None:
    frame = cluster_frame()
    frame = pd.concat(
        [frame, pd.DataFrame({C.USER: [1], C.ITEM: [999], C.RATING: [5.0], C.TIMESTAMP: [1]})]
    )
    # 777 is in the id map but has no interaction (as a test-only item of a split would be)
    item_ids = np.sort(np.append(frame[C.ITEM].unique(), 777))
    ds = Dataset.from_frame(frame, item_ids=item_ids)
    idx = ds.item_index([777, 999])
    default = EASE(regularization=5.0).fit(ds)
    assert idx[0] not in default.kept_items_ and idx[1] in default.kept_items_
    strict = EASE(regularization=5.0, min_item_count=2).fit(ds)
    assert not np.isin(idx, strict.kept_items_).any()
    assert len(strict.kept_items_) == ds.n_items - 2
    everything = EASE(regularization=5.0, min_item_count=0).fit(ds)
    assert len(everything.kept_items_) == ds.n_items
    # an item nobody interacted with gets no weight from anyone: score 0, not -inf
    assert (everything.score([5])[0, idx[0]] == 0).all()


def test_pruned_model_survives_save_and_load(cluster_data: Dataset, tmp_path: Path) -> None:
    model = EASE(regularization=5.0, max_items=5).fit(cluster_data)
    loaded = BaseRecommender.load(model.save(tmp_path / "ease"))
    np.testing.assert_array_equal(loaded.kept_items_, model.kept_items_)
    np.testing.assert_array_equal(loaded.score([3, 33]), model.score([3, 33]))


def test_fold_in_matches_training_user(cluster_data: Dataset) -> None:
    model = EASE(regularization=10.0).fit(cluster_data)
    frame = cluster_data.to_frame()
    history = frame.loc[frame[C.USER] == 7, C.ITEM]
    folded = model.recommend_for_history(history, k=5)
    known = model.recommend([7], k=5)
    np.testing.assert_array_equal(folded.items, known.items)
    np.testing.assert_allclose(folded.scores, known.scores, rtol=1e-5)


def test_memory_estimate_and_refusal() -> None:
    assert memory_estimate_bytes(1000) == 3 * 4 * 1000**2
    check_memory(1000, available=memory_estimate_bytes(1000))  # exactly enough: fine
    with pytest.raises(ConfigError) as info:
        check_memory(50_000, available=8 * 2**30)
    message = str(info.value)
    assert "\n" not in message
    assert "27.9 GiB" in message and "8.0 GiB" in message and "50000 items" in message
    # the suggested max_items fits, one more would not
    suggested = int(message.split("max_items=")[1].split(")")[0])
    assert memory_estimate_bytes(suggested) <= 8 * 2**30 < memory_estimate_bytes(suggested + 1)


def test_fit_refuses_when_memory_is_short(
    cluster_data: Dataset,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ease_module, "available_memory_bytes", lambda: 1000)
    with pytest.raises(
        ConfigError, match=r"ease on 20 items needs .* set max_items \(e.g. max_items=9\)"
    ):
        EASE().fit(cluster_data)
    # pruning to what fits makes the same fit work
    EASE(max_items=9).fit(cluster_data)


def test_available_memory_is_read() -> None:
    available = ease_module.available_memory_bytes()
    if Path("/proc/meminfo").is_file():
        assert available is not None and available > 2**20


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"regularization": 0.0}, "regularization > 0"),
        ({"max_items": 0}, "max_items must be a positive integer"),
        ({"min_item_count": 1.5}, "min_item_count"),
        ({"min_item_count": -1}, "min_item_count must be an integer ≥ 0"),
        ({"min_item_count": 100}, "kept no items"),
    ],
)
def test_bad_params(params: dict, match: str, cluster_data: Dataset) -> None:
    with pytest.raises(Exception, match=match):
        create_model("ease", **params).fit(cluster_data)


def test_cli_train_reports_bad_regularization_in_one_line(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    cluster_frame().to_csv(ratings, index=False)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "movielens_lessons",
            "train",
            "ease",
            "--ratings",
            str(ratings),
            "--param",
            "regularization=-5",
            "--out",
            str(tmp_path / "model"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "regularization > 0, got -5" in errors[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.realdata
@pytest.mark.slow
def test_quality_on_ml_small_random_split(ml_small: Dataset) -> None:
    """Shipped defaults are at least as good as the peer EASE (λ = 100: NDCG@10 0.3944) on P1."""
    from movielens_lessons.data.splits import user_random_split
    from movielens_lessons.evaluation import evaluate

    split = user_random_split(ml_small, test_size=0.25, seed=42)
    model = create_model("ease").fit(split.train)
    users = split.test.user_ids[split.test.active_users]
    result = evaluate(
        model.recommend(users, k=10), split.test, split.train, k=10, metrics=["ndcg"], n_bootstrap=0
    )
    assert result.value("ndcg") >= 0.3944


def test_similar_items_from_the_weight_profiles(cluster_data) -> None:
    model = create_model("ease", regularization=10.0).fit(cluster_data)
    sims = model.similar_items([100, 205], k=3)
    ext = sims.item_ids[sims.items]
    own_a = (ext[0] >= 100) & (ext[0] < 110)  # neighbours of a cluster-A movie are mostly cluster A
    own_b = (ext[1] >= 200) & (ext[1] < 210)
    assert own_a[0] and own_b[0]
    assert own_a.sum() >= 2 and own_b.sum() >= 2
    assert 100 not in ext[0] and 205 not in ext[1]
