"""The service's web page: served with the reports' style, a known user's history endpoint, and an
end-to-end run in headless Chromium (Playwright driving Debian's chromium): search, rate three movies,
see ten recommendations with reasons; a title holding markup is shown as text."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx2")  # the TestClient's HTTP client

from fastapi.testclient import TestClient

from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.readers.titles import movies_frame
from movielens_lessons.models.registry import create_model
from movielens_lessons.reporting.html import CSS
from movielens_lessons.serving.app import create_app
from movielens_lessons.serving.catalogue import Catalogue

from ..eda.test_browser import chromium
from ..models.contract import cluster_frame

IDS = [*range(100, 111), *range(200, 211)]
SCRIPT_TITLE = "<img src=x onerror=alert(1)><script>alert(2)</script> Comedy Movie 109 (1990)"


def _title(m: int) -> str:
    if m == 109:
        return SCRIPT_TITLE
    return f"{'Comedy' if m < 200 else 'Horror'} Movie {m} ({1990 if m < 200 else 2010})"


@pytest.fixture(scope="module")
def app() -> Any:
    catalogue = Catalogue(movies_frame(IDS, [_title(m) for m in IDS],
                                       [["Comedy"] if m < 200 else ["Horror"] for m in IDS]))  # fmt: skip
    data = Dataset.from_frame(cluster_frame())
    models = {name: create_model(name).fit(data) for name in ("item-knn", "most-popular")}
    return create_app(models, catalogue=catalogue)


def test_the_page_is_self_contained_in_the_report_style(app) -> None:
    page = TestClient(app).get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert CSS in html and "/*REPORT_CSS*/" not in html
    assert "http://" not in html.replace('href="docs"', "") and "https://" not in html
    assert ".innerHTML" not in html  # every text goes through textContent
    assert "/" not in TestClient(app).get("/openapi.json").json()["paths"]


def test_a_known_users_history(app) -> None:
    client = TestClient(app)
    body = client.get("/users/3/history", params={"limit": 4}).json()
    seen = sorted(cluster_frame().query("userId == 3")["movieId"])
    assert body["total"] == len(seen) == 9
    assert [m["movieId"] for m in body["items"]] == seen[:4]
    assert body["items"][0]["title"] == _title(seen[0])
    missing = client.get("/users/999/history")
    assert missing.status_code == 404 and missing.json() == {
        "detail": "userId 999 is not known to model item-knn"
    }


@pytest.fixture(scope="module")
def served(app) -> Iterator[str]:
    """The app on a real uvicorn server on 127.0.0.1, in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
def test_search_rate_three_and_get_ten_recommendations_in_chromium(served: str, tmp_path: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    executable = chromium()  # skips without chromium, fails under CI
    foreign: list[str] = []
    dialogs: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda r: None if r.url.startswith(served) else foreign.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(served, wait_until="load")
            page.wait_for_selector("#model option", state="attached")
            assert page.locator("#model").input_value() == "item-knn"

            # search, then rate three comedies
            page.fill("#search", "comedy movie")
            page.wait_for_selector("#results li[data-movie-id]")
            for movie, stars in ((100, 5), (101, 4), (102, 5)):
                page.locator(f"#results li[data-movie-id='{movie}'] .stars button").nth(stars - 1).click()
            assert page.locator("#rated li").count() == 3
            page.click("#recommend")
            page.wait_for_selector("#recs .card")
            cards = page.locator("#recs .card")
            assert cards.count() == 10
            shown = [int(v) for v in cards.evaluate_all("cs => cs.map(c => c.dataset.movieId)")]
            assert not {100, 101, 102} & set(shown)
            reasons = page.locator("#recs .card .reason").all_text_contents()
            assert len(reasons) == 10 and all(r.startswith("because you liked ") for r in reasons)

            # a title holding markup is text: shown verbatim, nothing injected or run
            page.fill("#search", "alert")
            page.wait_for_selector("#results li[data-movie-id='109']")
            text = page.locator("#results li[data-movie-id='109']").inner_text()
            assert "<script>alert(2)</script>" in text and "<img src=x" in text
            assert page.locator("#results img, #results script").count() == 0

            # a known user: their history next to their recommendations
            page.fill("#user-id", "3")
            page.click("#user-go")
            page.wait_for_selector("#user-recs .card")
            assert page.locator("#history li").count() == 9
            assert page.locator("#user-recs .card").count() == 10
            assert page.locator("#error").inner_text() == ""
            shot = tmp_path / "service-page.png"
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the service page: {shot}")
        finally:
            browser.close()
    assert foreign == [], f"the page asked for {sorted(set(foreign))}"
    assert dialogs == [], f"a title's markup ran: {dialogs}"
