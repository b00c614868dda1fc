"""The report's leaderboard tables: the primary metric (with its interval) first after the model,
the config's metric order, every metric at every K in the toggle, cells that sort on their value,
and rows whose cells add up to the header's columns."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons.evaluation.evaluate import CATALOGUE_METRICS, DEFAULT_METRICS
from movielens_lessons.experiments.config import BenchmarkConfig
from movielens_lessons.experiments.config_loading import load_config
from movielens_lessons.experiments.leaderboard import metric_columns, metric_key
from movielens_lessons.experiments.leaderboard_html import (
    DETAIL_METRICS,
    MAIN_METRICS,
    main_metrics,
    tables_html,
)
from movielens_lessons.models import registry
from movielens_lessons.reporting.html import SORT_SCRIPT

from ..reporting.test_html import parse

SHIPPED_TOML = Path(__file__).resolve().parents[2] / "experiments" / "ml-latest-small.toml"


@pytest.fixture(scope="module")
def shipped() -> BenchmarkConfig:
    """The shipped benchmark config: 12 metrics at K = 10 and 20, primary ndcg@10, 14 models."""
    return load_config(SHIPPED_TOML)


def fake_board(config: BenchmarkConfig, models: list[str], *, seed: int = 0,
               failed: dict[str, str] | None = None) -> pd.DataFrame:
    """Leaderboard rows of one protocol as :func:`build_leaderboard` lays them out: every metric of
    ``config`` at every K (distinct random values; no interval for the catalogue metrics), RMSE and
    MAE for the explicit models, costs with 4-digit numbers, ranked by the primary metric; then
    one row per ``failed`` model (name → message) with status ``skipped``."""
    rng = np.random.default_rng(seed)
    primary = metric_key(*config.primary())
    rows = []
    for name in models:
        explicit = registry.MODELS[name].feedback == "explicit"
        row: dict[str, object] = {"protocol": "p", "model": name,
                                  "feedback": registry.MODELS[name].feedback, "status": "ok"}
        for k in config.k:
            for metric in config.metrics or ():
                key = f"{metric}@{k}"
                value = float(rng.uniform(0.0, 100.0 if metric == "arp" else 1.0))
                row[key] = value
                no_ci = metric in CATALOGUE_METRICS
                row[f"{key}_ci_low"] = math.nan if no_ci else value * 0.9
                row[f"{key}_ci_high"] = math.nan if no_ci else value * 1.1
        row.update(rmse=0.8765 if explicit else math.nan, mae=0.6789 if explicit else math.nan,
                   rating_coverage=1.0 if explicit else math.nan, fit_seconds=999.99,
                   recommend_seconds=99.99, predict_seconds=9.99, peak_memory_mb=9999.0,
                   traced_memory_mb=999.0, rss_delta_mb=99.0, message=None, params="{}")
        rows.append(row)
    rows.sort(key=lambda r: r[primary], reverse=True)
    for rank, row in enumerate(rows, start=1):
        row.update(rank=rank, p_vs_best=math.nan if rank == 1 else 0.0123,
                   tied_with_best=rank % 2 == 1)
    for name, message in (failed or {}).items():
        rows.append({"protocol": "p", "model": name, "feedback": "implicit", "status": "skipped",
                     "rank": None, "p_vs_best": math.nan, "tied_with_best": None,
                     "message": message, "params": "{}"})
    board = pd.DataFrame(rows)
    board["rank"] = board["rank"].astype("Int64")
    return board


@dataclass
class Table:
    caption: str = ""
    head: list[str] = field(default_factory=list)
    head_attrs: list[dict[str, str | None]] = field(default_factory=list)
    rows: list[list[tuple[str, dict[str, str | None]]]] = field(default_factory=list)


class Tables(HTMLParser):
    """The tables of a page: caption, header texts (``<br>`` as a space) and attributes, and each
    body row's (text, attributes) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[Table] = []
        self.cell: list[str] | None = None
        self.where = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(Table())
        elif tag in ("thead", "tbody", "caption"):
            self.where = tag
            self.cell = [] if tag == "caption" else None
        elif tag == "tr" and self.where == "tbody":
            self.tables[-1].rows.append([])
        elif tag in ("td", "th"):
            self.cell = []
            if tag == "th":
                self.tables[-1].head_attrs.append(dict(attrs))
            else:
                self.tables[-1].rows[-1].append(("", dict(attrs)))
        elif tag == "br" and self.cell is not None:
            self.cell.append(" ")

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self.cell is None:
            return
        text = re.sub(r"\s+", " ", "".join(self.cell).replace("\N{NO-BREAK SPACE}", " ")).strip()
        if tag == "caption":
            self.tables[-1].caption = text
        elif tag == "th":
            self.tables[-1].head.append(text.replace(" @", "@"))
        elif tag == "td":
            self.tables[-1].rows[-1][-1] = (text, self.tables[-1].rows[-1][-1][1])
        else:
            return
        self.cell = None


def tables_of(page: str) -> list[Table]:
    parser = Tables()
    parser.feed(page)
    parser.close()
    return parser.tables


def metric_heads(table: Table) -> list[str]:
    return [h for h in table.head if "@" in h and not h.startswith("p vs best")]


def test_main_table_puts_the_primary_metric_and_its_interval_first(shipped) -> None:
    board = fake_board(shipped, ["ease", "item-knn", "bias-baseline", "most-popular"])
    main, *details = tables_of(tables_html(shipped, board))
    assert main.head == ["#", "model", "ndcg@10", "recall@10", "precision@10", "map@10",
                         "feedback", "RMSE", "fit s", "peak MiB", "p vs best ndcg@10, Holm"]
    assert main.head_attrs[2].get("aria-sort") == "descending"  # rows come ranked by it
    assert [a.get("aria-sort") for a in main.head_attrs].count(None) == len(main.head) - 1
    for row, r in zip(main.rows, board.to_dict("records"), strict=True):
        text, attrs = row[2]
        assert attrs["data-sort"] == repr(r["ndcg@10"])
        assert text == f"{r['ndcg@10']:.4f} [{r['ndcg@10_ci_low']:.4f}, {r['ndcg@10_ci_high']:.4f}]"
        assert row[3][0] == f"{r['recall@10']:.4f}"  # the other metrics: values only
        assert row[1][0] == r["model"]
    assert main.rows[0][-1][0] == "best" and main.rows[1][-1][1]["data-sort"] == repr(0.0123)
    assert len(details) == 5


@pytest.mark.parametrize(("metrics", "primary", "expected"), [
    (("mrr", "ndcg", "recall", "precision", "novelty"), "precision@20",
     ["precision@20", "mrr@20", "ndcg@20", "recall@20"]),
    (("coverage", "hit_rate", "ndcg"), "ndcg@10", ["ndcg@10", "coverage@10", "hit_rate@10"]),
])
def test_main_metrics_follow_the_config_order_at_the_primary_k(shipped, metrics, primary,
                                                                expected) -> None:
    config = replace(shipped, metrics=metrics, primary_metric=primary)
    board = fake_board(config, ["ease", "svd"])
    assert main_metrics(config, board) == expected
    assert len(expected) <= 1 + MAIN_METRICS
    assert metric_heads(tables_of(tables_html(config, board))[0]) == expected


def test_the_toggle_has_every_metric_at_every_k_in_config_order(shipped) -> None:
    board = fake_board(shipped, ["ease", "svd", "item-knn"], failed={"lightfm": "not installed"})
    page = tables_html(shipped, board)
    assert page.count("<details") == 1 and page.index("<details") > page.index("</table>")
    _, *details = tables_of(page)
    *metric_tables, costs = details
    expected = [f"{m}@{k}" for k in shipped.k for m in shipped.metrics or ()]
    assert metric_columns(board, shipped) == expected
    assert [h for t in metric_tables for h in metric_heads(t)] == expected
    assert [t.caption for t in metric_tables] == [
        "At K = 10, part 1 of 2", "At K = 10, part 2 of 2",
        "At K = 20, part 1 of 2", "At K = 20, part 2 of 2"]
    assert all(len(metric_heads(t)) <= DETAIL_METRICS for t in metric_tables)
    ok = board[board["status"] == "ok"].to_dict("records")
    for table in metric_tables:
        assert [row[1][0] for row in table.rows] == [r["model"] for r in ok]  # no skipped model
        for row, r in zip(table.rows, ok, strict=True):
            for key, (text, attrs) in zip(metric_heads(table), row[2:], strict=True):
                assert attrs["data-sort"] == repr(r[key])
                ci = "" if math.isnan(r[f"{key}_ci_low"]) else (
                    f" [{r[f'{key}_ci_low']:.4f}, {r[f'{key}_ci_high']:.4f}]")
                assert text == f"{r[key]:.4f}{ci}"
    assert costs.caption == "Rating prediction and costs"
    assert costs.head == ["#", "model", "RMSE", "MAE", "fit s", "rec s", "peak MiB"]
    svd = next(row for row in costs.rows if row[1][0] == "svd")
    assert [c[0] for c in svd[2:]] == ["0.8765", "0.6789", "999.99", "99.99", "9999"]
    ease = next(row for row in costs.rows if row[1][0] == "ease")
    assert ease[2] == ("–", {"class": "num", "data-sort": ""})


def test_the_default_metrics_are_cut_into_even_tables(shipped) -> None:
    config = replace(shipped, metrics=None, k=(10,))
    board = fake_board(replace(config, metrics=DEFAULT_METRICS), ["ease"])
    _, *details, _ = tables_of(tables_html(config, board))
    assert len(DEFAULT_METRICS) == 13
    assert [len(metric_heads(t)) for t in details] == [5, 4, 4]
    assert [h for t in details for h in metric_heads(t)] == [f"{m}@10" for m in DEFAULT_METRICS]


def test_every_row_spans_the_header_including_failed_models(shipped) -> None:
    board = fake_board(shipped, ["ease", "svd"], failed={
        "lightfm": 'lightfm is not installed: pip install "movielens-lessons[models]"'})
    page = tables_html(shipped, board)
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    for table in tables_of(page):
        for row in table.rows:
            assert sum(int(a.get("colspan") or 1) for _, a in row) == len(table.head)
    main = tables_of(page)[0]
    skipped = main.rows[-1]
    assert [c[0] for c in skipped] == [
        "", "lightfm", 'skipped: lightfm is not installed: pip install "movielens-lessons[models]"',
        "implicit", ""]
    assert skipped[2][1] == {"class": "message", "colspan": str(1 + MAIN_METRICS)}


def test_a_protocol_where_every_model_failed_still_gives_a_whole_table(shipped) -> None:
    board = fake_board(shipped, [], failed={"ease": "boom", "svd": "bang"})
    board = board[[c for c in board.columns if "@" not in c]]  # no model was evaluated
    page = tables_html(shipped, board)
    (main,) = tables_of(page)
    assert "<details" not in page
    assert main.head[:3] == ["#", "model", "feedback"]
    for row in main.rows:
        assert sum(int(a.get("colspan") or 1) for _, a in row) == len(main.head)
    assert main.rows[0][3][0] == "skipped: boom"


def test_the_report_page_sorts_in_place_and_loads_nothing(finished_run) -> None:
    page = (finished_run.out_dir / "report.html").read_text(encoding="utf-8")
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    assert page.count(SORT_SCRIPT) == 1 and page.count("<script") == 1
    assert page.index(SORT_SCRIPT) > page.rindex("</table>")
    tables = tables_of(page)
    assert len(tables) == page.count("<table class='leaderboard sortable")
    for tag, attrs in parsed.attrs.items():  # nothing but the page itself and data: URIs
        for a in attrs:
            for name in ("src", "href"):
                url = a.get(name)
                assert url is None or url.startswith(("data:", "#")), (tag, url)
    assert not {"link", "iframe", "object", "embed"} & parsed.attrs.keys()
    assert not re.search(r"https?://", SORT_SCRIPT)
