"""Paired significance tests between models evaluated on the same users, Holm-corrected.

Two models scored on the same test users give paired per-user values; the test is on the per-user
differences. ``bootstrap``: resample users, the p-value is twice the smaller tail share of resampled mean
differences on either side of 0 (percentile test). ``wilcoxon``: scipy's signed-rank test (zero
differences dropped, "wilcox" zero method). Holm's step-down correction controls the family-wise error over
every (pair of models, metric, k) tested in one call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from movielens_lessons import columns as C
from movielens_lessons.errors import ConfigError
from movielens_lessons.evaluation.bootstrap import resample_counts
from movielens_lessons.evaluation.evaluate import EvaluationResult


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values: p_(i) · (m − i + 1), made monotone, capped at 1."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def paired_bootstrap_p(diff: np.ndarray, n_resamples: int, rng: np.random.Generator,
                       level: float = 0.95) -> tuple[float, float, float]:
    """(p-value, ci_low, ci_high) of the mean paired difference by a percentile bootstrap."""
    n = len(diff)
    means = np.empty(n_resamples)
    chunk = max(1, min(n_resamples, (64 * 2**20) // (8 * max(n, 1))))
    for s in range(0, n_resamples, chunk):
        w = resample_counts(n, min(chunk, n_resamples - s), rng)
        means[s : s + len(w)] = (w @ diff) / n
    # +1 in both counts: a finite number of resamples can never show p = 0
    tail = min((means <= 0).sum(), (means >= 0).sum())
    p = min(1.0, 2 * (tail + 1) / (n_resamples + 1))
    a = (1 - level) / 2
    return p, float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def compare(
    results: Mapping[str, EvaluationResult],
    *,
    baseline: str | None = None,
    metrics: Sequence[str] | None = None,
    method: Literal["bootstrap", "wilcoxon"] = "bootstrap",
    n_bootstrap: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired tests for each pair of models (or each model against ``baseline``), metric and k.

    Returns one row per test: ``model_a, model_b, metric, k, mean_a, mean_b, diff`` (b − a),
    ``ci_low, ci_high`` (bootstrap CI of the difference; NaN for Wilcoxon), ``p_value, p_holm,
    significant`` (``p_holm < alpha``). Only per-user metrics can be paired; users must match.
    """
    if method not in ("bootstrap", "wilcoxon"):
        raise ConfigError(f"method must be 'bootstrap' or 'wilcoxon'; got {method!r}")
    names = list(results)
    if len(names) < 2:
        raise ConfigError("compare needs at least two evaluation results")
    if baseline is not None and baseline not in results:
        raise ConfigError(f"baseline {baseline!r} is not one of {names}")
    pairs = ([(baseline, n) for n in names if n != baseline] if baseline is not None
             else list(combinations(names, 2)))
    rng = np.random.default_rng(seed)
    rows = []
    for a, b in pairs:
        pa, pb = results[a].per_user, results[b].per_user
        if metrics is not None:
            pa, pb = pa[pa["metric"].isin(metrics)], pb[pb["metric"].isin(metrics)]
        keys = [C.USER, "metric", "k"]
        merged = pa.merge(pb, on=keys, suffixes=("_a", "_b"), how="outer", indicator=True)
        if (merged["_merge"] != "both").any():
            raise ConfigError(f"models {a!r} and {b!r} were not evaluated on the same users/metrics")
        for (metric, k), g in merged.groupby(["metric", "k"], observed=True, dropna=False):
            va, vb = g["value_a"].to_numpy(float), g["value_b"].to_numpy(float)
            ok = ~(np.isnan(va) | np.isnan(vb))
            va, vb = va[ok], vb[ok]
            diff = vb - va
            lo = hi = np.nan
            if len(diff) == 0 or np.all(diff == 0):
                p = 1.0
            elif method == "bootstrap":
                p, lo, hi = paired_bootstrap_p(diff, n_bootstrap, rng)
            else:
                p = float(wilcoxon(vb, va, zero_method="wilcox").pvalue)
            rows.append((a, b, metric, k, va.mean() if len(va) else np.nan,
                         vb.mean() if len(vb) else np.nan, diff.mean() if len(diff) else np.nan,
                         lo, hi, p))
    out = pd.DataFrame(rows, columns=["model_a", "model_b", "metric", "k", "mean_a", "mean_b",
                                      "diff", "ci_low", "ci_high", "p_value"])
    out["metric"] = out["metric"].astype(str)
    out["k"] = out["k"].astype("Int64")
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["significant"] = out["p_holm"] < alpha
    return out
