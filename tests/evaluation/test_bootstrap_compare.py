"""Bootstrap intervals, paired comparisons and the Holm correction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.errors import ConfigError
from movielens_lessons.evaluation import EvaluationResult, compare, holm
from movielens_lessons.evaluation.bootstrap import bootstrap_mean, bootstrap_ratio, resample_counts


def test_resample_counts_sum_to_n():
    w = resample_counts(50, 7, np.random.default_rng(0))
    assert w.shape == (7, 50) and (w.sum(axis=1) == 50).all()


def test_bootstrap_interval_covers_the_normal_interval():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, 4000)
    lo, hi = bootstrap_mean(x, 2000, seed=0)
    se = x.std(ddof=1) / np.sqrt(len(x))
    assert lo == pytest.approx(x.mean() - 1.96 * se, abs=0.3 * se)
    assert hi == pytest.approx(x.mean() + 1.96 * se, abs=0.3 * se)


def test_ratio_statistic_and_nan_rows():
    num = np.array([[1.0, np.nan], [3.0, 2.0], [2.0, 4.0]])
    den = np.array([[1.0, np.nan], [1.0, 1.0], [1.0, 1.0]])
    lo, hi = bootstrap_ratio(num, den, 500, seed=0)
    assert 1.0 <= lo[0] <= hi[0] <= 3.0
    assert 2.0 <= lo[1] <= hi[1] <= 4.0  # the NaN row does not count in column 1


def test_holm_by_hand():
    # sorted p: 0.01·3 = 0.03, 0.02·2 = 0.04, 0.04·1 = 0.04 (monotone) → back in input order
    np.testing.assert_allclose(holm([0.04, 0.01, 0.02]), [0.04, 0.03, 0.04])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])


def _result(values: np.ndarray) -> EvaluationResult:
    n = len(values)
    per = pd.DataFrame({C.USER: np.arange(n), "metric": "ndcg",
                        "k": pd.array([10] * n, dtype="Int64"), "value": values})
    summary = pd.DataFrame({"metric": ["ndcg"], "k": pd.array([10], dtype="Int64"),
                            "mean": [values.mean()], "ci_low": [np.nan], "ci_high": [np.nan]})
    return EvaluationResult(per_user=per, summary=summary, ks=(10,), n_users=n)


@pytest.mark.parametrize("method", ["bootstrap", "wilcoxon"])
def test_compare_finds_a_real_difference_and_not_a_null_one(method):
    rng = np.random.default_rng(2)
    a = rng.random(400)
    better = np.clip(a + 0.1 + rng.normal(0, 0.05, 400), 0, 1)
    same = np.clip(a + rng.normal(0, 0.05, 400), 0, 1)
    out = compare({"a": _result(a), "better": _result(better), "same": _result(same)},
                  baseline="a", method=method, n_bootstrap=1000)
    row = out.set_index("model_b")
    assert row.loc["better", "significant"] and row.loc["better", "diff"] > 0.05
    assert not row.loc["same", "significant"]
    assert (out["p_holm"] >= out["p_value"]).all()


def test_compare_needs_the_same_users():
    with pytest.raises(ConfigError, match="same users"):
        compare({"a": _result(np.zeros(3)), "b": _result(np.zeros(4))})
