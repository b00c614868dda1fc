"""The IMDb dump fixtures (``fixtures/imdb``) and an independent parse of them, shared by the IMDb tests."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "imdb"
MISSING = "tt7654321"  # linked, in neither dump


def fixture_rows(name: str) -> list[list[str]]:
    """An independent parse of a plain-text fixture: IMDb's format has no quoting, so split on TAB."""
    lines = (FIXTURES / name.removesuffix(".gz")).read_text("utf-8").splitlines()
    return [line.split("\t") for line in lines]


def by_tconst(name: str) -> dict[str, dict[str, str | None]]:
    """The fixture ``name`` as ``{tconst: {column: value, None for \\N}}``."""
    header, *body = fixture_rows(name)
    return {
        r[0]: {h: (None if v == "\\N" else v) for h, v in zip(header, r, strict=True)} for r in body
    }
