"""Distributed evaluation: Spark's metrics agree with :mod:`movielens_lessons.evaluation` to 1e-9."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.errors import ConfigError, DataValidationError, MissingColumnError
from movielens_lessons.evaluation import evaluate, evaluate_predictions
from movielens_lessons.recommendations import Recommendations

pytestmark = [pytest.mark.spark, pytest.mark.usefixtures("spark")]

TOL = 1e-9


def sdf(spark, frame: pd.DataFrame):
    """A Spark DataFrame through Arrow (never Spark's pandas path, whose pandas-3 warning fails)."""
    return spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))


def frame(users, items, **extra) -> pd.DataFrame:
    return pd.DataFrame({C.USER: np.asarray(users, dtype=np.int64),
                         C.ITEM: np.asarray(items, dtype=np.int64), **extra})


# train: 5 users; popularity 10:3, 20:1, 40:2, 50:1, 60:1 (item 30 is not in the catalogue)
TRAIN = frame([1, 1, 2, 2, 3, 3, 4, 5], [40, 50, 10, 40, 10, 20, 10, 60],
              **{C.RATING: np.array([5, 2, 4, 3, 5, 1, 4, 5], dtype=np.float32)})
# relevant: user 1 {10, 20}, user 2 {30}, user 4 {40}; user 3 is not in the test set
TEST = frame([1, 1, 2, 4], [10, 20, 30, 40], **{C.RATING: np.array([5, 3, 4, 2], np.float32)})
# user 1: 10 30 20; user 2: 10 20; user 3 (not scored, ignored everywhere): 50 60; user 4: none
RECS = frame([1, 1, 1, 2, 2, 3, 3], [10, 30, 20, 10, 20, 50, 60],
             **{C.RANK: np.array([1, 2, 3, 1, 2, 1, 2], dtype=np.int32)})


def test_hand_checked_values(spark) -> None:
    from movielens_lessons.spark.metrics import evaluate_spark

    got = evaluate_spark(sdf(spark, RECS), sdf(spark, TEST), sdf(spark, TRAIN), k=(2, 3))
    idcg2 = 1 + 1 / math.log2(3)
    # three scored users (1, 2, 4); only user 1 has hits: rank 1 (and rank 3 within K = 3)
    expected = {
        "precision@2": 0.5 / 3, "recall@2": 0.5 / 3, "hit_rate@2": 1 / 3,
        "ndcg@2": 1 / idcg2 / 3, "map@2": 0.5 / 3, "mrr@2": 1 / 3,
        "precision@3": (2 / 3) / 3, "recall@3": 1 / 3, "hit_rate@3": 1 / 3,
        "ndcg@3": 1.5 / idcg2 / 3, "map@3": (1 + 2 / 3) / 2 / 3, "mrr@3": 1 / 3,
        # slots 10, 30, 10, 20 of 5 training users; 30 is unseen and counts as seen by one
        "novelty@2": (2 * math.log2(5 / 3) + 2 * math.log2(5)) / 4,
        "arp@2": (3 + 0 + 3 + 1) / 4,
        # catalogue {10, 20, 40, 50, 60}; exposures at K = 2: 10→2, 20→1 (30 is outside it)
        "coverage@2": 2 / 5,
        "gini@2": (2 * 1 + 4 * 2) / (5 * 3),  # sorted 0 0 0 1 2: Σ (2i − n − 1) x_i / (n Σ x)
        "personalization@2": 1 - 1 / (1 * 2),  # two lists of 2 share one item
    }
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    assert list(got)[:6] == ["precision@2", "recall@2", "hit_rate@2", "ndcg@2", "map@2", "mrr@2"]


def numpy_reference(recs: pd.DataFrame, test: pd.DataFrame, train: pd.DataFrame, ks, **kwargs):
    """The single-machine metrics for the same frames (shared id maps over everything)."""
    users = np.unique(np.concatenate([recs[C.USER], test[C.USER], train[C.USER]]))
    items = np.unique(np.concatenate([recs[C.ITEM], test[C.ITEM], train[C.ITEM]]))
    threshold = kwargs.pop("train_positive_threshold", None)
    tr = Dataset.from_frame(train, user_ids=users, item_ids=items, positive_threshold=threshold)
    te = Dataset.from_frame(test, user_ids=users, item_ids=items)
    r = Recommendations.from_frame(recs, users, items)
    result = evaluate(r, te, tr, k=ks, metrics=kwargs.pop("metrics"), n_bootstrap=0, **kwargs)
    return {key: v for key, v in result.to_dict().items() if "_ci_" not in key}


def assert_parity(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(want)
    for key, value in want.items():
        if math.isnan(value):
            assert math.isnan(got[key]), key
        else:
            assert abs(got[key] - value) <= TOL, (key, got[key], value)


@pytest.mark.parametrize("options", [
    {},
    {"relevance_threshold": 3.5, "train_positive_threshold": 4.0},
])
def test_random_synthetic_parity(spark, options: dict) -> None:
    from movielens_lessons.spark.metrics import SPARK_METRICS, evaluate_spark

    rng = np.random.default_rng(7)
    n_users, n_items = 40, 60

    def interactions(n: int) -> pd.DataFrame:
        pairs = np.unique(rng.integers(0, [n_users, n_items], size=(n, 2)), axis=0)
        return frame(pairs[:, 0] + 1, pairs[:, 1] * 10,
                     **{C.RATING: rng.choice([1.0, 2.5, 3.5, 4.0, 5.0], len(pairs))})

    train, test = interactions(500), interactions(150)
    rows = []
    for u in range(1, n_users + 5):  # some users only here, some lists short, some with gaps
        if rng.random() < 0.15:
            continue
        length = int(rng.integers(1, 16))
        its = rng.choice(n_items + 5, size=length, replace=False) * 10
        ranks = np.sort(rng.choice(20, size=length, replace=False)) + 1
        rows.append(frame(np.full(length, u), its, **{C.RANK: ranks}))
    recs = pd.concat(rows, ignore_index=True)
    ks = (1, 5, 10)
    metrics = list(SPARK_METRICS)
    want = numpy_reference(recs, test, train, ks, metrics=metrics, **options)
    got = evaluate_spark(sdf(spark, recs), sdf(spark, test), sdf(spark, train), k=ks,
                         metrics=metrics, **options)
    assert_parity(got, want)


def test_only_requested_metrics_and_clear_errors(spark) -> None:
    from movielens_lessons.spark.metrics import evaluate_spark

    recs, test, train = sdf(spark, RECS), sdf(spark, TEST), sdf(spark, TRAIN)
    got = evaluate_spark(recs, test, train, k=5, metrics=["ndcg", "gini"])
    assert set(got) == {"ndcg@5", "gini@5"}
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate_spark(recs, test, train, metrics=["ndgc"])
    with pytest.raises(MissingColumnError, match="rank"):
        evaluate_spark(recs.drop(C.RANK), test, train)
    twice = sdf(spark, frame([1, 1], [10, 10], **{C.RANK: np.array([1, 2])}))
    with pytest.raises(DataValidationError, match="same item twice"):
        evaluate_spark(twice, test, train, metrics=["precision"])
    with pytest.raises(DataValidationError, match="no relevant interactions"):
        evaluate_spark(recs, test, train, relevance_threshold=6.0)


def test_rating_errors_hand_checked(spark) -> None:
    from movielens_lessons.spark.metrics import rating_errors

    pred = frame([1, 1, 2, 4, 9], [10, 20, 30, 40, 90],
                 **{C.PREDICTION: np.array([4.0, 3.0, np.nan, 4.0, 1.0])})
    got = rating_errors(sdf(spark, pred), sdf(spark, TEST))
    # finite predictions for (1,10): err -1, (1,20): 0, (4,40): +2; (2,30) is NaN; (9,90) outside
    assert got["rmse"] == pytest.approx(math.sqrt(5 / 3), abs=1e-12)
    assert got["mae"] == pytest.approx(1.0, abs=1e-12)
    assert (got["coverage"], got["n_test"], got["n_predicted"]) == (0.75, 4, 3)
    assert got == pytest.approx(evaluate_predictions(pred, Dataset.from_frame(TEST)), nan_ok=True)
    dup = sdf(spark, frame([1, 1], [10, 10], **{C.PREDICTION: np.array([1.0, 2.0])}))
    with pytest.raises(DataValidationError, match="duplicate prediction for userId 1 movieId 10"):
        rating_errors(dup, sdf(spark, TEST))


@pytest.fixture(scope="module")
def real_split(_ml_small_shared):
    from movielens_lessons.data.split_registry import split

    return split(_ml_small_shared[0], "user-random", test_size=0.25, seed=42)


def dataset_frame(ds: Dataset, ratings: bool = True) -> pd.DataFrame:
    """Interactions with external ids (built from the id maps, so no copy of the shared data)."""
    cols = {C.USER: ds.user_ids[ds.users].astype(np.int64),
            C.ITEM: ds.item_ids[ds.items].astype(np.int64)}
    if ratings and ds.ratings is not None:
        cols[C.RATING] = np.asarray(ds.ratings, dtype=np.float64)
    return pd.DataFrame(cols)


@pytest.mark.realdata
@pytest.mark.parametrize("model_name", ["most-popular", "item-knn"])
def test_parity_on_ml_latest_small(spark, real_split, model_name: str) -> None:
    from movielens_lessons.models.registry import create_model
    from movielens_lessons.spark.metrics import SPARK_METRICS, evaluate_spark

    train, test = real_split.train, real_split.test
    recs = create_model(model_name).fit(train).recommend(k=20)  # every training user
    ks = (10, 20)
    metrics = list(SPARK_METRICS)
    want = evaluate(recs, test, train, k=ks, metrics=metrics, n_bootstrap=0).to_dict()
    want = {key: v for key, v in want.items() if "_ci_" not in key}
    got = evaluate_spark(
        sdf(spark, recs.to_frame()[[C.USER, C.ITEM, C.RANK]]), sdf(spark, dataset_frame(test)),
        sdf(spark, dataset_frame(train)), k=ks, metrics=metrics)
    assert len(want) == 2 * len(SPARK_METRICS)
    assert_parity(got, want)
    # and with a relevance threshold: only ratings ≥ 4 are relevant
    want = evaluate(recs, test, train, k=10, metrics=["ndcg", "map", "recall"],
                    relevance_threshold=4.0, n_bootstrap=0).to_dict()
    got = evaluate_spark(
        sdf(spark, recs.to_frame()[[C.USER, C.ITEM, C.RANK]]), sdf(spark, dataset_frame(test)),
        sdf(spark, dataset_frame(train)), k=10, metrics=["ndcg", "map", "recall"],
        relevance_threshold=4.0)
    assert_parity(got, {key: v for key, v in want.items() if "_ci_" not in key})


@pytest.mark.realdata
def test_rating_error_parity_on_ml_latest_small(spark, real_split) -> None:
    from movielens_lessons.models.registry import create_model
    from movielens_lessons.spark.metrics import rating_errors

    train, test = real_split.train, real_split.test
    pairs = dataset_frame(test, ratings=False)
    model = create_model("bias-baseline").fit(train)
    pred = pairs.assign(**{C.PREDICTION: model.predict(pairs[C.USER], pairs[C.ITEM])})
    want = evaluate_predictions(pred, test)
    got = rating_errors(sdf(spark, pred), sdf(spark, dataset_frame(test)))
    assert {k: got[k] for k in ("n_test", "n_predicted", "n_ignored")} == {
        k: want[k] for k in ("n_test", "n_predicted", "n_ignored")}
    for key in ("rmse", "mae", "coverage"):
        assert abs(got[key] - want[key]) <= TOL, key


def assert_same_result(got, want) -> None:
    """Two EvaluationResults agree: summary (means and intervals) to TOL, per-user values, counts."""
    assert got.n_users == want.n_users
    assert got.n_users_without_recs == want.n_users_without_recs
    assert got.n_recommended_users_not_in_test == want.n_recommended_users_not_in_test
    assert got.info == want.info
    a, b = got.summary, want.summary
    assert a[["metric", "k"]].astype(str).equals(b[["metric", "k"]].astype(str))
    for col in ("mean", "ci_low", "ci_high"):
        np.testing.assert_allclose(a[col].to_numpy(float), b[col].to_numpy(float), atol=TOL,
                                   equal_nan=True, err_msg=col)
    pa_, pb = got.per_user, want.per_user
    assert pa_[[C.USER, "metric", "k"]].astype(str).equals(pb[[C.USER, "metric", "k"]].astype(str))
    np.testing.assert_allclose(pa_["value"].to_numpy(float), pb["value"].to_numpy(float),
                               atol=TOL, equal_nan=True)


def test_per_user_result_with_intervals_matches_evaluate(spark) -> None:
    from movielens_lessons.spark.metrics import SPARK_METRICS, evaluate_spark_result

    rng = np.random.default_rng(11)
    train = frame(rng.integers(1, 30, 400), rng.integers(0, 50, 400) * 10).drop_duplicates(
        [C.USER, C.ITEM])
    test = frame(rng.integers(1, 35, 120), rng.integers(0, 55, 120) * 10).drop_duplicates(
        [C.USER, C.ITEM])
    rows = [frame(np.full(5, u), rng.choice(60, 5, replace=False) * 10, **{C.RANK: np.arange(1, 6)})
            for u in range(1, 40) if u % 7]  # some scored users without a list, some extra lists
    recs = pd.concat(rows, ignore_index=True)
    users = np.unique(np.concatenate([recs[C.USER], test[C.USER], train[C.USER]]))
    items = np.unique(np.concatenate([recs[C.ITEM], test[C.ITEM], train[C.ITEM]]))
    tr = Dataset.from_frame(train, user_ids=users, item_ids=items)
    te = Dataset.from_frame(test, user_ids=users, item_ids=items)
    want = evaluate(Recommendations.from_frame(recs, users, items), te, tr, k=(3, 5),
                    metrics=list(SPARK_METRICS), n_bootstrap=200, seed=5)
    got = evaluate_spark_result(sdf(spark, recs), sdf(spark, test), sdf(spark, train), k=(3, 5),
                                metrics=list(SPARK_METRICS), n_bootstrap=200, seed=5)
    assert want.n_users_without_recs > 0 and want.n_recommended_users_not_in_test > 0
    assert_same_result(got, want)


@pytest.mark.realdata
def test_per_user_result_parity_on_ml_latest_small(spark, real_split) -> None:
    from movielens_lessons.models.registry import create_model
    from movielens_lessons.spark.metrics import SPARK_METRICS, evaluate_spark_result

    train, test = real_split.train, real_split.test
    recs = create_model("item-knn").fit(train).recommend(test.user_ids[test.active_users], k=20)
    want = evaluate(recs, test, train, k=(10, 20), metrics=list(SPARK_METRICS), seed=42)
    got = evaluate_spark_result(
        sdf(spark, recs.to_frame()[[C.USER, C.ITEM, C.RANK]]), sdf(spark, dataset_frame(test)),
        sdf(spark, dataset_frame(train)), k=(10, 20), metrics=list(SPARK_METRICS), seed=42)
    assert want.n_bootstrap == got.n_bootstrap == 1000
    assert_same_result(got, want)
