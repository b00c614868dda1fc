"""Exploratory data analysis of a MovieLens release: numbers, figures and the report that explains them.

``build_report(read_source("ml-latest-small"), "out/")`` writes ``report.html`` (self-contained),
``report.md``, ``summary.json`` and ``figures/*.png``; :func:`compute_sections` gives the numbers alone.
"""

from __future__ import annotations

from movielens_lessons.eda.report import Report, build_report, compute_sections
from movielens_lessons.eda.section import Section
from movielens_lessons.eda.stats import gini, top_share

__all__ = [
    "Report",
    "Section",
    "build_report",
    "compute_sections",
    "gini",
    "top_share",
]
