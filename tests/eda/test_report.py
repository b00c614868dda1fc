"""The EDA report: key numbers equal values computed independently from the raw files; files and images
exist and decode; sections without data say so; the IMDb section renders from the part-A fixtures."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from movielens_lessons.data.loading import read_source
from movielens_lessons.eda import build_report, compute_sections
from movielens_lessons.eda.narrative import narrate

from .conftest import FIXTURES, LINKED_IMDB_IDS


def raw_counts(folder: Path) -> dict:
    """Counts, Gini (O(n²) pairwise definition) and top shares straight from ``ratings.csv``."""
    with open(folder / "ratings.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    per_movie = Counter(r["movieId"] for r in rows)
    x = sorted(per_movie.values(), reverse=True)
    n, total = len(x), sum(x)
    # Σ_i Σ_j |x_i − x_j|, all n² pairs, in row blocks to bound memory.
    arr = np.array(x, dtype=np.float64)
    mad = sum(
        float(np.abs(arr[i : i + 1000, None] - arr[None, :]).sum()) for i in range(0, n, 1000)
    )
    with open(folder / "movies.csv", encoding="utf-8", newline="") as f:
        n_movies = sum(1 for _ in csv.DictReader(f))
    return {
        "ratings": len(rows),
        "users": len({r["userId"] for r in rows}),
        "rated_movies": n,
        "movies": n_movies,
        "gini": mad / (2 * n * n * (total / n)),
        "top1_share": sum(x[: math.ceil(n / 100)]) / total,
        "top20_share": sum(x[: math.ceil(n / 5)]) / total,
        "single_rating": sum(1 for v in x if v == 1),
        "mean": sum(float(r["rating"]) for r in rows) / len(rows),
    }


def check_key_numbers(summary: dict, raw: dict) -> None:
    over, items = summary["sections"]["overview"], summary["sections"]["items"]
    for key in ("ratings", "users", "rated_movies", "movies"):
        assert over[key] == raw[key], key
    assert items["gini"] == pytest.approx(raw["gini"], rel=1e-9)
    assert items["top1_share"] == pytest.approx(raw["top1_share"], rel=1e-12)
    assert items["top20_share"] == pytest.approx(raw["top20_share"], rel=1e-12)
    assert items["single_rating"] == raw["single_rating"]
    assert summary["sections"]["ratings"]["mean"] == pytest.approx(raw["mean"], rel=1e-6)


def html_images(html: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r"src='data:image/png;base64,([^']+)'", html)]


def test_key_numbers_match_the_raw_files(synthetic_report, synthetic_data_dir: Path) -> None:
    summary = json.loads(synthetic_report.summary.read_text(encoding="utf-8"))
    raw = raw_counts(synthetic_data_dir / "ml-latest-small")
    check_key_numbers(summary, raw)
    # The narrative quotes the same numbers.
    md = synthetic_report.markdown.read_text(encoding="utf-8")
    assert f"Gini coefficient of item popularity is {raw['gini']:.3f}" in md
    assert f"{raw['ratings']:,} ratings by {raw['users']:,} users" in md


def test_html_is_self_contained_with_ten_decodable_figures(synthetic_report) -> None:
    html = synthetic_report.html.read_text(encoding="utf-8")
    images = html_images(html)
    assert len(images) >= 10
    assert len(images) == html.count("<img ")  # every image is embedded, none points elsewhere
    for png in images:
        with Image.open(io.BytesIO(png)) as im:
            im.load()
            assert im.format == "PNG" and im.width > 200 and im.height > 200
    assert "http://" not in html and "https://" not in html  # opens offline


def test_markdown_links_existing_figures(synthetic_report) -> None:
    md = synthetic_report.markdown.read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", md)
    assert len(linked) >= 10
    for rel in linked:
        with Image.open(synthetic_report.out_dir / rel) as im:
            im.verify()
    for s in synthetic_report.sections:
        assert f"## {s.title}" in md


def test_every_section_has_two_or_three_sentences(synthetic_report) -> None:
    for s in synthetic_report.sections:
        assert s.available, s.missing
        assert 2 <= len(narrate(s)) <= 3, s.key


def imdb_fixture_ids(name: str) -> dict[str, list[str]]:
    with open(FIXTURES / "imdb" / name, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return {r[0]: r for r in rows[1:]}


def test_imdb_section_renders_from_the_fixtures(synthetic_report) -> None:
    linked = {"tt" + i for i in LINKED_IMDB_IDS}
    basics = imdb_fixture_ids("title.basics.tsv")
    ratings = imdb_fixture_ids("title.ratings.tsv")
    sec = synthetic_report.section("imdb")
    assert sec.available
    n = sec.numbers
    assert n["matched"] == len(linked & basics.keys())
    assert n["with_imdb_rating"] == len(linked & ratings.keys())
    assert n["title_types"] == dict(Counter(basics[t][1] for t in linked & basics.keys()))
    runtimes = sorted(int(basics[t][7]) for t in linked & basics.keys() if basics[t][7] != "\\N")
    mid = len(runtimes) // 2
    assert n["runtime_median"] == pytest.approx(
        (runtimes[mid - 1] + runtimes[mid]) / 2 if len(runtimes) % 2 == 0 else runtimes[mid]
    )
    assert {"imdb_runtime", "imdb_votes"} <= set(synthetic_report.figures)
    html = synthetic_report.html.read_text(encoding="utf-8")
    assert f"{n['matched']} of {n['catalogue']} movies" in html


@pytest.mark.parametrize(
    ("release", "missing"),
    [
        ("ml-100k", {"tags", "imdb"}),
        ("ml-1m", {"tags", "imdb"}),
        ("ml-10m", {"imdb"}),
        ("ml-20m", {"imdb"}),
    ],
)
def test_every_release_format_and_missing_sections(release: str, missing: set[str]) -> None:
    data = read_source(release, data_dir=FIXTURES)
    sections = compute_sections(data)
    assert {s.key for s in sections if not s.available} == missing
    for s in sections:
        text = narrate(s)
        assert text and all(t.strip() for t in text)
        if not s.available:
            assert text[0].startswith("Not available: ")
            assert s.key == "imdb" or data.name in text[0]  # names the release that lacks the data


def test_half_star_sentence_follows_the_data() -> None:
    whole = {s.key: s for s in compute_sections(read_source("ml-1m", data_dir=FIXTURES))}
    half = {s.key: s for s in compute_sections(read_source("ml-10m", data_dir=FIXTURES))}
    assert "whole stars only" in " ".join(narrate(whole["ratings"]))
    assert "Half stars hold" in " ".join(narrate(half["ratings"]))


@pytest.mark.realdata
@pytest.mark.slow
def test_real_ml_latest_small(real_data_dir: Path, tmp_path: Path) -> None:
    report = build_report(read_source("ml-latest-small", data_dir=real_data_dir), tmp_path)
    summary = json.loads(report.summary.read_text(encoding="utf-8"))
    check_key_numbers(summary, raw_counts(real_data_dir / "ml-latest-small"))
    assert summary["sections"]["overview"]["ratings"] == 100_836
    assert len(html_images(report.html.read_text(encoding="utf-8"))) >= 10
    assert summary["missing"] == {"imdb": report.section("imdb").missing}
