"""The service's web page: one self-contained HTML file (no CDN, no network resource) served at ``/``."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse


def page_html() -> str:
    """The page (``serving/static/index.html``) in the reports' style (the same CSS)."""
    from movielens_lessons.reporting.html import CSS

    template = resources.files("movielens_lessons.serving").joinpath("static/index.html")
    return template.read_text("utf-8").replace("/*REPORT_CSS*/", CSS)


def add_page(app: FastAPI) -> None:
    """Serve the page at ``/`` (left out of the OpenAPI schema: it is not part of the API)."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(page_html())
