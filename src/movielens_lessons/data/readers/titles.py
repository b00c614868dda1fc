"""Movie titles and genres: the release year at the end of a title, and genre strings as lists.

MovieLens titles end in the release year in parentheses, ``"Toy Story (1995)"``, but not always:
``"Babylon 5"`` has none, series carry a range ``"Fawlty Towers (1975-1979)"`` (en dash in newer files),
some titles have trailing spaces, and earlier parentheses hold alternative titles
``"City of Lost Children, The (Cité des enfants perdus, La) (1995)"``. The year is taken from the *last*
parenthesised four digits at the very end; the title itself is always kept exactly as in the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from movielens_lessons import columns as C

#: "(1995)" or "(1975-1979)" / "(2006–2007)" / "(2006- )" at the end, trailing spaces allowed.
YEAR_AT_END = re.compile(r"\((\d{4})(?:\s*[-–]\s*(?:\d{4})?\s*)?\)\s*$")


def parse_year(title: str | None) -> int | None:
    """The release year at the end of ``title``, or ``None`` when there is none."""
    if not isinstance(title, str):
        return None
    m = YEAR_AT_END.search(title)
    return int(m.group(1)) if m else None


def parse_years(titles: pd.Series) -> pd.Series:
    """:func:`parse_year` of every title, as pandas' nullable ``Int16`` (``<NA>`` without a year)."""
    found = titles.astype("string").str.extract(YEAR_AT_END, expand=False)
    return pd.to_numeric(found, errors="coerce").astype("Int16")


def split_genres(genres: Iterable[str | None], sep: str = "|") -> list[list[str]]:
    """Each genre string as a list; ``"(no genres listed)"`` and empty/missing strings give ``[]``."""
    out: list[list[str]] = []
    for g in genres:
        if not isinstance(g, str) or g in ("", C.NO_GENRES):
            out.append([])
        else:
            out.append(g.split(sep))
    return out


def movies_frame(
    movie_ids: Sequence[int] | np.ndarray,
    titles: Sequence[str] | pd.Series,
    genres: list[list[str]],
) -> pd.DataFrame:
    """The canonical movies frame: ``movieId`` int32, ``title`` str, ``year`` Int16, ``genres`` lists."""
    title = pd.Series(titles, dtype="str")
    genre_col = pd.Series(genres, dtype=object)
    return pd.DataFrame(
        {
            C.ITEM: np.asarray(movie_ids, dtype=np.int32),
            C.TITLE: title,
            C.YEAR: parse_years(title),
            C.GENRES: genre_col,
        }
    )
