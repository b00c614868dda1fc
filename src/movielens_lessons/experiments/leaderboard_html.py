"""The leaderboard of one protocol as the report's HTML tables, each narrow enough for the report's
1000-pixel text column, so that none is wider than a 1280-pixel window:

- the main table: rank, model, the primary metric with its 95 % interval, the next
  :data:`MAIN_METRICS` of the config's metrics at the primary K (config order, values only), the
  feedback, RMSE, fit time, peak memory and the p-value against the best model; a model that failed
  or was skipped is one row with its message where the metrics would be;
- under it, in a ``<details>`` toggle: every metric at every K with its interval (value over
  interval), K by K, in the config's order, at most :data:`DETAIL_METRICS` metrics a table; then
  RMSE, MAE and every cost. Only the models that ran are in these.

Every table is ``sortable`` (:data:`movielens_lessons.reporting.html.SORT_SCRIPT`): a number cell
holds its full value in ``data-sort`` (empty when missing), so a column sorts on the value, not on
the text shown. Rows come ranked by the primary metric, which its header states with
``aria-sort='descending'``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Hashable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import pandas as pd

from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.leaderboard import metric_columns, metric_key

#: Metric columns of the main table after the primary metric (the config's next ones at its K):
#: as many as fit 1000 px with 14-character model names, the interval and the cost columns.
MAIN_METRICS = 3
#: Most metric columns (value over interval) in one table of the toggle.
DETAIL_METRICS = 6
_NBSP = "\N{NO-BREAK SPACE}"
#: (leaderboard column, header, decimals) of the main table's columns after the feedback.
MAIN_EXTRAS = (("rmse", "RMSE", 4), ("fit_seconds", f"fit{_NBSP}s", 2),
               ("peak_memory_mb", "peak MiB", 0))
#: The same for the toggle's last table: rating prediction and every cost.
DETAIL_EXTRAS = (("rmse", "RMSE", 4), ("mae", "MAE", 4), ("fit_seconds", f"fit{_NBSP}s", 2),
                 ("recommend_seconds", f"rec{_NBSP}s", 2), ("peak_memory_mb", "peak MiB", 0))

#: The rules of these tables, for the page's stylesheet (after the shared one).
CSS = (
    ".leaderboard td,.leaderboard th{padding:.25rem .4rem}.leaderboard th{vertical-align:bottom}"
    ".leaderboard td.num,.leaderboard th.num{text-align:right}.leaderboard td{white-space:nowrap}"
    ".leaderboard td.message{white-space:normal;overflow-wrap:anywhere}"
    ".leaderboard small{color:#666}.leaderboard.stacked small{display:block}"
    ".leaderboard.stacked td{vertical-align:top}"
    ".leaderboard caption{text-align:left;font-weight:600;padding:.5rem 0 0}"
    "details.metrics{margin:.5rem 0 1rem}details.metrics summary{cursor:pointer;color:#3b6ea5}"
)


def _float(v: Any) -> float | None:
    """``v`` as a finite float; None when missing (None, NA, NaN)."""
    if v is None or v is pd.NA:
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _header(label: str, *, numeric: bool = True, sorted_desc: bool = False, note: str = "") -> str:
    """A ``<th>``: a metric's ``@K`` (``ndcg@10``) on a line of its own, then ``note`` smaller."""
    cls = " class='num'" if numeric else ""
    sort = " aria-sort='descending'" if sorted_desc else ""
    small = f"<br><small>{html.escape(note)}</small>" if note else ""
    return f"<th{cls}{sort}>{html.escape(label).replace('@', '<br>@')}{small}</th>"


def _number(v: Any, digits: int, extra: str = "") -> str:
    """A right-aligned cell: ``v`` to ``digits`` decimals (``–`` if missing), sorting on ``v``."""
    f = _float(v)
    if f is None:
        return "<td class='num' data-sort=''>–</td>"
    return f"<td class='num' data-sort='{f!r}'>{f:.{digits}f}{extra}</td>"


def _metric(r: Mapping[Hashable, Any], key: str, *, interval: bool) -> str:
    """The cell of metric ``key``: its mean, then ``[low, high]`` (95 % interval) if asked and
    known."""
    lo, hi = _float(r.get(f"{key}_ci_low")), _float(r.get(f"{key}_ci_high"))
    shown = interval and lo is not None and hi is not None
    return _number(r.get(key), 4, f" <small>[{lo:.4f}, {hi:.4f}]</small>" if shown else "")


def _text(v: Any) -> str:
    return f"<td>{html.escape(str(v))}</td>"


def _p_value(r: Mapping[Hashable, Any]) -> str:
    """``best`` for the best model, else the Holm-corrected p-value, marked ``(tied)`` when tied."""
    p = _float(r["p_vs_best"])
    if r["rank"] == 1 and p is None:
        return "<td class='num' data-sort=''><b>best</b></td>"
    return _number(p, 3, " <span class='tied'>(tied)</span>" if r["tied_with_best"] else "")


def _table(head: Sequence[str], body: Sequence[str], *, stacked: bool = False,
           caption: str = "") -> str:
    cls = "leaderboard sortable stacked" if stacked else "leaderboard sortable"
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (f"<table class='{cls}'>{cap}<thead><tr>{''.join(head)}</tr></thead><tbody>"
            + "".join(body) + "</tbody></table>")


def main_metrics(config: BenchmarkConfig, rows: pd.DataFrame) -> list[str]:
    """The main table's metric columns: the primary metric, then the next :data:`MAIN_METRICS` of
    the config's metrics at the primary K, in the config's order."""
    metric, k = config.primary()
    primary = metric_key(metric, k)
    same_k = [c for c in metric_columns(rows, config) if c.endswith(f"@{k}") and c != primary]
    return [primary, *same_k[:MAIN_METRICS]] if primary in rows.columns else same_k[:MAIN_METRICS]


def main_table(config: BenchmarkConfig, rows: pd.DataFrame) -> str:
    """The main leaderboard table of one protocol (``rows``: its leaderboard rows, ranked)."""
    primary = metric_key(*config.primary())
    metrics = main_metrics(config, rows)
    extras = [e for e in MAIN_EXTRAS if e[0] in rows.columns]
    head = [_header("#"), _header("model", numeric=False),
            *[_header(c, sorted_desc=c == primary) for c in metrics],
            _header("feedback", numeric=False), *[_header(label) for _, label, _ in extras],
            _header(f"p{_NBSP}vs{_NBSP}best", note=f"{primary}, Holm")]
    body = []
    for r in rows.to_dict("records"):
        if r["status"] == "ok":
            cells = [_number(r["rank"], 0), _text(r["model"]),
                     *[_metric(r, c, interval=c == primary) for c in metrics],
                     _text(r["feedback"]),
                     *[_number(r.get(col), digits) for col, _, digits in extras], _p_value(r)]
            body.append("<tr>" + "".join(cells) + "</tr>")
            continue
        # the message where the metrics would be (after the feedback if there are none)
        message = html.escape(f"{r['status']}: {r['message']}")
        rest = len(extras) + 1
        cells = ["<td></td>", _text(r["model"])]
        if metrics:
            cells += [f"<td class='message' colspan='{len(metrics)}'>{message}</td>",
                      _text(r["feedback"]), f"<td colspan='{rest}'></td>"]
        else:
            cells += [_text(r["feedback"]), f"<td class='message' colspan='{rest}'>{message}</td>"]
        body.append("<tr class='failed'>" + "".join(cells) + "</tr>")
    return _table(head, body)


def _chunks(items: list[str], most: int) -> list[list[str]]:
    """``items`` in order, cut into the fewest parts of at most ``most``, as even as can be (13 by
    6: 5, 4, 4)."""
    n = -(-len(items) // most)
    cuts = [-(-i * len(items) // n) for i in range(n + 1)] if n else []
    return [items[a:b] for a, b in pairwise(cuts)]


def detail_tables(config: BenchmarkConfig, rows: pd.DataFrame) -> str:
    """The toggle under the main table: every metric of the models that ran with its interval, K by
    K in the config's order, then RMSE, MAE and the costs ("" if no model ran)."""
    primary = metric_key(*config.primary())
    ok = rows[rows["status"] == "ok"].to_dict("records")
    if not ok:
        return ""
    columns = metric_columns(rows, config)
    tables = []
    for k in dict.fromkeys(c.partition("@")[2] for c in columns):  # "10", "20", "" (no K)
        parts = _chunks([c for c in columns if c.partition("@")[2] == k], DETAIL_METRICS)
        for i, part in enumerate(parts):
            caption = (f"At K = {k}" if k else "Without K") + (
                f", part {i + 1} of {len(parts)}" if len(parts) > 1 else "")
            head = [_header("#"), _header("model", numeric=False),
                    *[_header(c, sorted_desc=c == primary) for c in part]]
            body = ["<tr>" + _number(r["rank"], 0) + _text(r["model"])
                    + "".join(_metric(r, c, interval=True) for c in part) + "</tr>" for r in ok]
            tables.append(_table(head, body, stacked=True, caption=caption))
    extras = [e for e in DETAIL_EXTRAS if e[0] in rows.columns]
    if extras:
        head = [_header("#"), _header("model", numeric=False),
                *[_header(label) for _, label, _ in extras]]
        body = ["<tr>" + _number(r["rank"], 0) + _text(r["model"])
                + "".join(_number(r.get(col), digits) for col, _, digits in extras) + "</tr>"
                for r in ok]
        tables.append(_table(head, body, caption="Rating prediction and costs"))
    return ("<details class='metrics'><summary>Every metric at every K with its 95 % interval, "
            "and the costs</summary>" + "".join(tables) + "</details>")


def tables_html(config: BenchmarkConfig, rows: pd.DataFrame) -> str:
    """The leaderboard of one protocol (``rows``: its rows of the leaderboard frame, ranked): the
    main table, then the toggle with the detail tables."""
    return main_table(config, rows) + detail_tables(config, rows)
