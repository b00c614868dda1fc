"""The benchmark report opens in headless Chromium with every figure decoded (no broken images)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..eda.test_browser import CHECK_SCRIPT, run_chromium

pytestmark = pytest.mark.browser


def test_report_has_no_broken_images(finished_run, tmp_path: Path) -> None:
    report = finished_run.out_dir / "report.html"
    html = report.read_text(encoding="utf-8")
    n_figures = len(list((finished_run.out_dir / "figures").glob("*.png")))
    assert n_figures >= 10 and html.count("data:image/png;base64,") == n_figures
    page = tmp_path / "checked.html"
    page.write_text(html.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    result = run_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r"<title>images:(\d+):(\d+)</title>", result.stdout)
    assert found, f"the check script did not run; DOM starts {result.stdout[:300]!r}"
    assert int(found.group(1)) == n_figures
    assert int(found.group(2)) == 0


def test_report_shows_every_model_and_the_failures(finished_run) -> None:
    html = (finished_run.out_dir / "report.html").read_text(encoding="utf-8")
    for model in finished_run.leaderboard["model"].unique():
        assert f"<td>{model}</td>" in html
    assert "failed: " in html and "skipped: " in html and 'pip install' in html
    assert "Holm" in html and "<b>best</b>" in html
