"""Assemble the EDA report: compute every section, draw the figures, write HTML, Markdown and JSON.

``report.html`` is self-contained (figures embedded as base64 PNG, inline CSS, no scripts, no network),
in the shared look of :mod:`movielens_lessons.reporting`; ``report.md`` links the same figures under
``figures/``, and ``summary.json`` holds every key number.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from movielens_lessons.data.raw import MovieLensData
from movielens_lessons.eda import catalogue, figures, interactions, narrative, quality
from movielens_lessons.eda.imdb_section import imdb
from movielens_lessons.eda.section import Section, plain
from movielens_lessons.reporting.figures import png_bytes
from movielens_lessons.reporting.html import PAGE_END, figure_html, nav_link, page_start
from movielens_lessons.reporting.style import draw

#: ``progress(done, total, what)``: called before each step of :func:`build_report`.
Progress = Callable[[int, int, str], None]


@dataclass
class Report:
    """What :func:`build_report` wrote: paths, the sections (numbers, data) and the figure files."""

    out_dir: Path
    html: Path
    markdown: Path
    summary: Path
    sections: list[Section]
    figures: dict[str, Path] = field(default_factory=dict)

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


def compute_sections(
    data: MovieLensData,
    imdb_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    total: int | None = None,
) -> list[Section]:
    """Every section of the report for ``data``, numbers made JSON-plain (NaN → ``None``)."""
    steps: list[tuple[str, Callable[[], Section]]] = [
        ("overview", lambda: interactions.overview(data)),
        ("ratings", lambda: interactions.ratings(data)),
        ("users and sessions", lambda: interactions.users(data)),
        ("long tail", lambda: interactions.items(data)),
        ("time", lambda: interactions.time(data)),
        ("genres", lambda: catalogue.content(data)),
        ("tags", lambda: catalogue.tags(data)),
        ("data quality", lambda: quality.quality(data)),
        ("IMDb", lambda: imdb(data, imdb_dir)),
    ]
    out = []
    for i, (what, step) in enumerate(steps):
        if progress:
            progress(i, total or len(steps), f"computing {what}")
        sec = step()
        sec.numbers = plain(sec.numbers)
        out.append(sec)
    return out


N_SECTION_STEPS = 9


def build_report(
    data: MovieLensData,
    out_dir: str | os.PathLike[str],
    *,
    imdb_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Write ``report.html``, ``report.md``, ``summary.json`` and ``figures/*.png`` for ``data``."""
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    total = N_SECTION_STEPS + len(figures.FIGURES) + 1
    sections = compute_sections(data, imdb_dir, progress, total)
    by_key = {s.key: s for s in sections}
    pngs: dict[str, bytes] = {}
    done = N_SECTION_STEPS
    for name, key, function, _ in figures.FIGURES:
        if progress:
            progress(done, total, f"drawing {name}")
        done += 1
        fig = draw(function, by_key[key]) if by_key[key].available else None
        if fig is None:
            continue
        pngs[name] = png_bytes(fig, dpi=110)
        (out / "figures" / f"{name}.png").write_bytes(pngs[name])
    if progress:
        progress(done, total, "writing report")
    title = f"MovieLens EDA: {data.name}"
    report = Report(
        out_dir=out,
        html=out / "report.html",
        markdown=out / "report.md",
        summary=out / "summary.json",
        sections=sections,
        figures={n: out / "figures" / f"{n}.png" for n in pngs},
    )
    report.html.write_text(_html(title, sections, pngs), encoding="utf-8")
    report.markdown.write_text(_markdown(title, sections, pngs), encoding="utf-8")
    summary = {
        "name": data.name,
        "sections": {s.key: s.numbers for s in sections},
        "missing": {s.key: s.missing for s in sections if s.missing},
        "figures": sorted(pngs),
    }
    report.summary.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    if progress:
        progress(total, total, "done")
    return report


def tables(section: Section) -> list[tuple[str, pd.DataFrame]]:
    """The tables shown in a section: (caption, frame)."""
    n = section.numbers
    if section.key == "overview":
        rows = [
            ("ratings", n["ratings"]),
            ("users", n["users"]),
            ("movies rated", n["rated_movies"]),
            ("movies in catalogue", n["movies"]),
            ("tags", n["tags"]),
            ("density", f"{n['density']:.3%}"),
            ("first rating", n["first_date"]),
            ("last rating", n["last_date"]),
            ("rating scale", " – ".join(f"{v:g}" for v in n["rating_scale"] or []) or None),
        ]
        rows = [(k, f"{v:,}" if isinstance(v, int) else v) for k, v in rows if v is not None]
        return [("Counts", pd.DataFrame(rows, columns=["what", "value"]))]
    if section.key == "quality" and section.available:
        return [("Checks (0 = clean)", section.data["checks"])]
    if section.key == "imdb" and section.available:
        types = section.data["title_types"]
        return [
            (
                "IMDb title types of the joined movies",
                pd.DataFrame({"titleType": types.index, "movies": types.to_numpy()}),
            )
        ]
    return []


def _html(title: str, sections: list[Section], pngs: dict[str, bytes]) -> str:
    esc = html.escape
    parts = [page_start(title)]
    parts += [nav_link(s.key, s.title) for s in sections]
    parts.append("</nav>")
    for s in sections:
        parts.append(f"<section id='{s.key}'><h2>{esc(s.title)}</h2>")
        cls = " class='missing'" if not s.available else ""
        parts += [f"<p{cls}>{esc(line)}</p>" for line in narrative.narrate(s)]
        for caption, frame in tables(s):
            parts.append(
                f"<h3>{esc(caption)}</h3>" + frame.to_html(index=False, border=0, na_rep="-")
            )
        for name, key, _, caption in figures.FIGURES:
            if key == s.key and name in pngs:
                parts.append(figure_html(pngs[name], name, caption))
        parts.append("</section>")
    parts.append(PAGE_END)
    return "\n".join(parts)


def _md_table(frame: pd.DataFrame) -> str:
    def cell(v: object) -> str:
        return "-" if v is None or (isinstance(v, float) and v != v) else str(v).replace("|", "\\|")

    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _markdown(title: str, sections: list[Section], pngs: dict[str, bytes]) -> str:
    lines = [f"# {title}", ""]
    for s in sections:
        lines += [f"## {s.title}", "", " ".join(narrative.narrate(s)), ""]
        for caption, frame in tables(s):
            lines += [f"**{caption}**", "", _md_table(frame), ""]
        for name, key, _, caption in figures.FIGURES:
            if key == s.key and name in pngs:
                lines += [f"![{caption}](figures/{name}.png)", ""]
    return "\n".join(lines)
