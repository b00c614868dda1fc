"""The report opens in headless Chromium: every image loads, and a screenshot shows a drawn page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

#: Written into a copy of the page (never into the report itself): after load, the page's title
#: becomes "images:<total>:<broken>", where broken images did not decode (naturalWidth 0).
CHECK_SCRIPT = """<script>
window.addEventListener('load', () => {
  const imgs = Array.from(document.images);
  const broken = imgs.filter(i => !i.complete || i.naturalWidth === 0).length;
  document.title = 'images:' + imgs.length + ':' + broken;
});
</script>"""


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide chromium (apt-get install chromium) for the browser tests")
        pytest.skip("chromium is not installed (needed to open report.html headless)")
    return path


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run(
        [chromium(), *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_no_broken_images(synthetic_report, tmp_path: Path) -> None:
    page = tmp_path / "checked.html"
    html = synthetic_report.html.read_text(encoding="utf-8")
    page.write_text(html.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    result = run_chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r"<title>images:(\d+):(\d+)</title>", result.stdout)
    assert found, f"the check script did not run; DOM starts {result.stdout[:300]!r}"
    total, broken = int(found.group(1)), int(found.group(2))
    assert total == len(synthetic_report.figures) >= 10
    assert broken == 0


def test_screenshot_is_not_blank(synthetic_report, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = run_chromium(
        tmp_path,
        f"--screenshot={shot}",
        "--window-size=1280,4000",
        "--virtual-time-budget=5000",
        synthetic_report.html.as_uri(),
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.format == "PNG" and im.size == (1280, 4000)
        pixels = np.asarray(im.convert("L"), dtype=np.float64)
    # A drawn report: many non-white pixels (text, bars) and real contrast, not one flat colour.
    assert (pixels < 200).mean() > 0.01
    assert pixels.std() > 20
