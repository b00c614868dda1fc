"""The benchmark report in headless Chromium at 1280 × 800 (Playwright driving Debian's chromium):
no table is wider than the window or its own column, with the toggles closed and open, every
header sorts its table in place, and the page asks for nothing over the network.

A full-page screenshot of each report checked is left under the test's ``tmp_path`` (printed; run
with ``-s`` to see the path)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from movielens_lessons.experiments.config_loading import load_config
from movielens_lessons.experiments.leaderboard_html import CSS, tables_html
from movielens_lessons.models import registry
from movielens_lessons.reporting.html import PAGE_END, SORT_SCRIPT, page_start

from ..eda.test_browser import chromium
from .conftest import small_config
from .test_leaderboard_html import SHIPPED_TOML, fake_board

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 800

#: Page width, scroll width and, for each table, whether it shows, its right edge and that of its
#: parent element.
LAYOUT = """() => ({
  clientWidth: document.documentElement.clientWidth,
  scrollWidth: document.documentElement.scrollWidth,
  tables: Array.from(document.querySelectorAll('table'), (t, i) => ({
    name: i + ': ' + (t.caption ? t.caption.textContent : t.tHead.rows[0].cells[2].textContent),
    visible: t.checkVisibility(),
    right: t.getBoundingClientRect().right,
    parentRight: t.parentElement.getBoundingClientRect().right,
  })),
})"""

#: The rows of the n-th table: each row's data-sort in column col (null if none) and its model.
ROWS = """([n, col]) => Array.from(document.querySelectorAll('table')[n].tBodies[0].rows, r => [
  r.cells[col] && r.cells[col].colSpan === 1 && r.cells[col].dataset.sort !== undefined
    ? r.cells[col].dataset.sort : null,
  r.cells[1].textContent])"""


@pytest.fixture(scope="module")
def shipped_metrics_run(tmp_path_factory, tiny_config, synth_data):
    """A run of the test models (one failing, one "not installed") on two protocols, evaluated on
    the shipped config's 12 metrics at K = 10 and 20 (24 metric columns: the old table's overflow)."""
    from movielens_lessons.experiments.benchmark import run_benchmark

    shipped = load_config(SHIPPED_TOML)
    config = replace(small_config(tiny_config), k=shipped.k, metrics=shipped.metrics,
                     primary_metric=shipped.primary_metric)
    with pytest.MonkeyPatch.context() as mp:
        spec = registry.MODELS["als"]
        mp.setitem(registry.MODELS, "als", replace(spec, requires=("no_such_module_for_test",)))
        return run_benchmark(config, tmp_path_factory.mktemp("runs") / "shipped-metrics",
                             dataset=synth_data, store=False)


@contextmanager
def opened(page_file: Path) -> Iterator[Any]:
    """``page_file`` open in headless Chromium at 1280 × 800; any request that is not for a
    ``file:`` or ``data:`` URL is aborted and fails the test when the page closes."""
    from playwright.sync_api import sync_playwright

    executable = chromium()  # skips without chromium, fails under CI
    foreign: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
                    else foreign.append(r.url))
            page.route("**/*", guard)
            page.goto(page_file.as_uri(), wait_until="load")
            yield page
        finally:
            browser.close()
    assert foreign == [], f"the page asked the network for {sorted(set(foreign))}"


def assert_tables_fit(page: Any, *, all_visible: bool) -> int:
    """No horizontal scroll at 1280 px, and every laid-out table ends inside the window and inside
    its parent (the report's text column); returns how many tables were checked."""
    layout = page.evaluate(LAYOUT)
    assert layout["scrollWidth"] <= min(WIDTH, layout["clientWidth"]), (
        f"the page scrolls sideways: {layout['scrollWidth']} px wide in a {WIDTH} px window")
    shown = [t for t in layout["tables"] if t["visible"]]  # not those of a closed toggle
    if all_visible:
        assert len(shown) == len(layout["tables"])
    for t in shown:
        assert t["right"] <= layout["clientWidth"], f"table {t['name']} overflows the window: {t}"
        assert t["right"] <= t["parentRight"] + 0.5, f"table {t['name']} overflows its parent: {t}"
    return len(shown)


def open_toggles(page: Any) -> None:
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


def test_report_tables_fit_a_1280_px_window(shipped_metrics_run, tmp_path: Path) -> None:
    report = shipped_metrics_run.out_dir / "report.html"
    with opened(report) as page:
        n_main = assert_tables_fit(page, all_visible=False)
        assert n_main == 2  # one main table per protocol; the others wait in their toggles
        open_toggles(page)
        n_all = assert_tables_fit(page, all_visible=True)
        assert n_all == 2 * (1 + 4 + 1)  # main; K = 10 and 20 in two parts each; costs
        shot = tmp_path / "report-1280.png"
        page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot of the report at {WIDTH} px, toggles open: {shot}")
    with Image.open(shot) as im:
        assert im.width == WIDTH and im.height > HEIGHT


def test_clicking_the_primary_header_sorts_the_rows(shipped_metrics_run) -> None:
    report = shipped_metrics_run.out_dir / "report.html"
    with opened(report) as page:
        col = 2  # after # and model
        header = page.locator("table").first.locator("th").nth(col)
        assert header.inner_text().split() == ["ndcg", "@10"]
        before = page.evaluate(ROWS, [0, col])
        ok = [(float(v), m) for v, m in before if v is not None]
        failed = [m for v, m in before if v is None]
        assert len(ok) >= 4 and failed  # als skipped, pure-svd failed: last, with no value
        assert [v for v, _ in ok] == sorted((v for v, _ in ok), reverse=True)
        assert len({v for v, _ in ok}) == len(ok)  # distinct, so each order is unique
        assert header.get_attribute("aria-sort") == "descending"

        header.click()
        rows = page.evaluate(ROWS, [0, col])
        assert header.get_attribute("aria-sort") == "ascending"
        assert [m for _, m in rows] == [m for _, m in sorted(ok)] + failed
        assert_tables_fit(page, all_visible=False)

        header.click()
        assert header.get_attribute("aria-sort") == "descending"
        assert page.evaluate(ROWS, [0, col]) == before
        assert_tables_fit(page, all_visible=False)


def test_every_header_of_every_table_sorts(shipped_metrics_run) -> None:
    report = shipped_metrics_run.out_dir / "report.html"
    with opened(report) as page:
        open_toggles(page)
        n_tables = page.locator("table").count()
        assert page.locator("table.sortable").count() == n_tables
        assert page.locator("th").count() == page.locator("th > button").count() > 0
        # a toggle's table by its model names (text), then by a metric (number on data-sort)
        table = page.locator("#user-random table",
                             has=page.locator("caption", has_text="K = 20, part 2"))
        n = int(table.evaluate("t => Array.from(document.querySelectorAll('table')).indexOf(t)"))
        table.locator("th", has_text="model").click()
        models = [m for _, m in page.evaluate(ROWS, [n, 1])]
        assert models == sorted(models)
        novelty = table.locator("th", has_text="novelty")
        col = int(novelty.evaluate("th => th.cellIndex"))
        novelty.click()
        novelty.click()
        values = [float(v) for v, _ in page.evaluate(ROWS, [n, col])]
        assert values == sorted(values, reverse=True) and len(set(values)) > 1
        assert novelty.get_attribute("aria-sort") == "descending"
        assert table.locator("th[aria-sort]").count() == 1


def test_a_leaderboard_of_every_shipped_model_fits(tmp_path: Path) -> None:
    """The widest table the shipped config makes: its 14 models (one skipped, with its install
    hint), 4-digit costs, p-values with (tied)."""
    shipped = load_config(SHIPPED_TOML)
    board = fake_board(shipped, [m.name for m in shipped.models if m.name != "lightfm"], failed={
        "lightfm": 'lightfm is not installed: pip install "movielens-lessons[models]"'})
    page_file = tmp_path / "leaderboard.html"
    page_file.write_text(page_start("Every shipped model", CSS) + "</nav>"
                         + tables_html(shipped, board) + SORT_SCRIPT + PAGE_END, encoding="utf-8")
    with opened(page_file) as page:
        assert assert_tables_fit(page, all_visible=False) == 1
        open_toggles(page)
        assert assert_tables_fit(page, all_visible=True) == 6
        shot = tmp_path / "every-shipped-model-1280.png"
        page.screenshot(path=str(shot), full_page=True)
    print(f"\nscreenshot of a leaderboard of every shipped model at {WIDTH} px: {shot}")
