"""The leaderboard: one row per (protocol, model) with metric means, 95 % CIs, costs and significance.

Significance: within each protocol, every evaluated model is compared with the best one on the primary
metric (e.g. nDCG@10) by a paired bootstrap over test users
(:func:`movielens_lessons.evaluation.compare`); the p-values of one protocol are Holm-corrected together.
``p_vs_best`` is that corrected p-value; ``tied_with_best`` is True when it is ≥ alpha (the model cannot be
told apart from the best at that level). The best model itself has ``p_vs_best`` empty and is tied.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movielens_lessons.evaluation.compare import compare
from movielens_lessons.evaluation.evaluate import DEFAULT_METRICS, EvaluationResult
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.runner import ModelRun, ProtocolRun

#: Columns before the metric columns, in order.
ID_COLUMNS = ["protocol", "model", "feedback", "status", "rank"]
COST_COLUMNS = ["fit_seconds", "recommend_seconds", "predict_seconds", "peak_memory_mb",
                "traced_memory_mb", "rss_delta_mb"]
SIGNIFICANCE_COLUMNS = ["p_vs_best", "tied_with_best"]
RATING_COLUMNS = ["rmse", "mae", "rating_coverage"]
#: Fewest paired-bootstrap resamples for the tests against the best model.
SIGNIFICANCE_RESAMPLES = 5000


def metric_key(metric: str, k: Any) -> str:
    """``ndcg@10``, or ``coverage@10``; a metric without K (AUC) is its bare name."""
    return metric if k is None or (isinstance(k, float) and math.isnan(k)) or k is pd.NA else (
        f"{metric}@{int(k)}")


def metric_columns(board: pd.DataFrame, config: BenchmarkConfig) -> list[str]:
    """The metric columns of ``board`` (``ndcg@10``, ``auc``; not their ``_ci_`` bounds) in the
    config's order: by K as ``config.k`` lists them, then by metric as ``config.metrics`` does (the
    evaluation's default order when it is unset); a metric without K comes after every K."""
    names = list(DEFAULT_METRICS if config.metrics is None else config.metrics)
    ks = list(config.k)
    keys = [c for c in board.columns if ("@" in c or c == "auc")
            and not c.endswith(("_ci_low", "_ci_high"))]

    def order(key: str) -> tuple[int, int, str]:
        name, _, k = key.partition("@")
        k_pos = ks.index(int(k)) if k.isdigit() and int(k) in ks else len(ks)
        return k_pos, names.index(name) if name in names else len(names), key

    return sorted(keys, key=order)


def _row(m: ModelRun) -> dict[str, Any]:
    row: dict[str, Any] = {"protocol": m.protocol, "model": m.model, "feedback": m.feedback,
                           "status": m.status}
    if m.result is not None:
        r: Any  # metric str, k Int64, mean/ci_low/ci_high float (pandas-stubs type any scalar)
        for r in m.result.summary.itertuples(index=False):
            key = metric_key(r.metric, r.k)
            row[key] = float(r.mean)
            row[f"{key}_ci_low"] = float(r.ci_low)
            row[f"{key}_ci_high"] = float(r.ci_high)
    for col in COST_COLUMNS:
        row[col] = getattr(m, col)
    if m.rating is not None:
        row["rmse"], row["mae"] = m.rating["rmse"], m.rating["mae"]
        row["rating_coverage"] = m.rating["coverage"]
    row["message"] = m.message
    row["params"] = json.dumps(m.params, sort_keys=True)
    return row


def significance(models: list[ModelRun], metric: str, k: int, *, n_bootstrap: int = 1000,
                 seed: int = 0) -> tuple[str | None, dict[str, float]]:
    """(best model, Holm-corrected p-value of each other model vs the best) on ``metric@k``."""
    ok = [(m.model, m.result) for m in models if m.result is not None]
    if not ok:
        return None, {}
    best = max(ok, key=lambda pair: pair[1].value(metric, k))[0]
    if len(ok) < 2:
        return best, {}

    def only(result: EvaluationResult) -> EvaluationResult:
        pu = result.per_user
        sel = pu[(pu["metric"].astype(str) == metric) & (pu["k"] == k)]
        return replace(result, per_user=sel)

    # p = 2(tail + 1)/(B + 1) cannot go below 2/(B + 1): B must be large enough for Holm over
    # every model to reach alpha, whatever the (smaller) number of resamples used for the CIs.
    table = compare({name: only(result) for name, result in ok}, baseline=best, metrics=[metric],
                    n_bootstrap=max(n_bootstrap, SIGNIFICANCE_RESAMPLES), seed=seed)
    return best, dict(zip(table["model_b"], table["p_holm"].astype(float), strict=True))


def build_leaderboard(config: BenchmarkConfig, protocols: list[ProtocolRun]) -> pd.DataFrame:
    """One row per (protocol, model), ranked within each protocol by the primary metric."""
    metric, k = config.primary()
    primary = metric_key(metric, k)
    frames = []
    for p in protocols:
        rows = pd.DataFrame([_row(m) for m in p.models])
        best, pvals = significance(p.models, metric, k, n_bootstrap=config.n_bootstrap,
                                   seed=config.seed)
        rows["p_vs_best"] = [pvals.get(name, np.nan) for name in rows["model"]]
        tied = [(name == best) or (pvals.get(name, 0.0) >= config.alpha) for name in rows["model"]]
        rows["tied_with_best"] = [t if s == "ok" else None for t, s in zip(tied, rows["status"],
                                                                           strict=True)]
        if primary in rows:
            score = rows[primary].where(rows["status"] == "ok")
            rows["rank"] = score.rank(ascending=False, method="min").astype("Int64")
            rows = rows.sort_values([primary, "model"], ascending=[False, True],
                                    na_position="last", kind="stable")
        else:
            rows["rank"] = pd.array([pd.NA] * len(rows), dtype="Int64")
        frames.append(rows)
    board = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=ID_COLUMNS)
    metric_cols = [c for c in board.columns if "@" in c or c == "auc"]
    rating = [c for c in RATING_COLUMNS if c in board.columns]
    cols = [*ID_COLUMNS, *metric_cols, *rating, *COST_COLUMNS, *SIGNIFICANCE_COLUMNS, "message",
            "params"]
    return board.reindex(columns=cols).reset_index(drop=True)


def _json_value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def write_leaderboard(board: pd.DataFrame, out_dir: Path, run_info: dict[str, Any]) -> tuple[Path,
                                                                                            Path]:
    """``leaderboard.csv`` (flat, one row per model) and ``leaderboard.json`` (run info + rows)."""
    csv = out_dir / "leaderboard.csv"
    board.to_csv(csv, index=False, float_format="%.6g")
    rows = [{k: _json_value(v) for k, v in rec.items()} for rec in board.to_dict("records")]
    for r in rows:
        r["params"] = json.loads(r["params"]) if r.get("params") else {}
    js = out_dir / "leaderboard.json"
    js.write_text(json.dumps({"run": run_info, "rows": rows}, indent=2, allow_nan=False) + "\n",
                  encoding="utf-8")
    return csv, js


def markdown_table(board: pd.DataFrame, config: BenchmarkConfig, protocol: str,
                   columns: list[str] | None = None) -> str:
    """A Markdown table of one protocol (for the README and the terminal): metrics as ``mean ±``."""
    metric, k = config.primary()
    primary = metric_key(metric, k)
    rows = board[board["protocol"] == protocol]
    if columns is None:
        columns = [c for c in (primary, f"recall@{k}", f"coverage@{k}", f"novelty@{k}",
                               f"gini@{k}") if c in rows.columns]
    head = ["model", *columns, "RMSE", "fit s", "peak MiB", f"p vs best ({primary}, Holm)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows.to_dict("records"):
        if r["status"] != "ok":
            cells = [r["model"], *(["–"] * (len(head) - 2)), f"{r['status']}: {r['message']}"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        cells = [r["model"]]
        for c in columns:
            lo, hi = r.get(f"{c}_ci_low"), r.get(f"{c}_ci_high")
            v = r[c]
            if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
                cells.append(f"{v:.4f} ± {(hi - lo) / 2:.4f}")
            else:
                cells.append("–" if v is None or math.isnan(v) else f"{v:.4f}")
        rm = r.get("rmse")
        cells.append("–" if rm is None or (isinstance(rm, float) and math.isnan(rm)) else
                     f"{rm:.4f}")
        cells.append(f"{r['fit_seconds']:.1f}")
        cells.append(f"{r['peak_memory_mb']:.0f}")
        p = r["p_vs_best"]
        cells.append("best" if r["rank"] == 1 and (p is None or math.isnan(p)) else
                     f"{p:.3g}" + (" (tied)" if r["tied_with_best"] else ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
