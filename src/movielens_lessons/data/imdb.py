"""IMDb enrichment: the ``title.basics`` and ``title.ratings`` dumps joined to MovieLens through ``links.csv``.

Each MovieLens movie gets the IMDb fields of the title its ``links.csv`` row points to (null where there is
no link or the dumps lack the title); the result is written to and read from Parquet. Reading the titles
from the dumps (DuckDB, no pandas) is :mod:`movielens_lessons.data.imdb_titles`; finding, checking and
downloading the dumps is :mod:`movielens_lessons.data.imdb_dumps`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movielens_lessons import columns as C
from movielens_lessons.data.download import ensure_release
from movielens_lessons.data.imdb_dumps import download_imdb, resolve_imdb_dir
from movielens_lessons.data.imdb_titles import as_genre_list, read_linked_titles
from movielens_lessons.data.readers.csv_release import read_links_csv, read_movies_csv
from movielens_lessons.data.releases import RELEASES, get_release
from movielens_lessons.errors import ConfigError, DataNotFoundError, MissingColumnError

PathLike = str | os.PathLike[str]

#: Columns of the enriched items table after the MovieLens ones (``movieId, title, year, genres``).
ENRICHED_COLUMNS = (
    C.IMDB_ID,
    C.IMDB_TCONST,
    C.IMDB_TITLE_TYPE,
    C.IMDB_PRIMARY_TITLE,
    C.IMDB_IS_ADULT,
    C.IMDB_START_YEAR,
    C.IMDB_RUNTIME,
    C.IMDB_GENRES,
    C.IMDB_RATING,
    C.IMDB_VOTES,
)


# --- the enriched items table ----------------------------------------------------------------------


def enrich_items(movies: pd.DataFrame, links: pd.DataFrame, imdb_dir: PathLike) -> pd.DataFrame:
    """One row per ``movieId`` of ``movies``: its MovieLens columns, then :data:`ENRICHED_COLUMNS`.

    ``links`` is the reader's ``links.csv`` frame (``movieId, imdbId, tconst``). A movie without a link, or
    whose ``tconst`` is in neither dump, keeps null IMDb columns; see :func:`read_linked_titles` for types.
    """
    if C.ITEM not in movies.columns:
        raise MissingColumnError(f"movies frame lacks {C.ITEM!r}; found {list(movies.columns)}")
    links = _with_tconst(links)
    link = links[[C.ITEM, C.IMDB_ID, C.IMDB_TCONST]].drop_duplicates(C.ITEM, keep="first")
    titles = read_linked_titles(imdb_dir, link[C.IMDB_TCONST].dropna().unique().tolist())
    base = movies.drop_duplicates(C.ITEM, keep="first").reset_index(drop=True)
    out = base.merge(link, on=C.ITEM, how="left").merge(titles, on=C.IMDB_TCONST, how="left")
    out[C.IMDB_GENRES] = [as_genre_list(g) for g in out[C.IMDB_GENRES]]
    return out[[*base.columns, *ENRICHED_COLUMNS]]


def enrich_release(
    release: str,
    *,
    data_dir: PathLike | None = None,
    imdb_dir: PathLike | None = None,
    download: bool = False,
    progress: bool = True,
) -> pd.DataFrame:
    """:func:`enrich_items` for an installed CSV release (only those ship ``links.csv``).

    Reads just ``movies.csv`` and ``links.csv`` (never the ratings); ``imdb_dir`` defaults to
    ``<data dir>/imdb``; ``download`` fetches missing dumps first (:func:`download_imdb`).
    """
    rel = get_release(release)
    if "links.csv" not in rel.members:
        with_links = [r.name for r in RELEASES.values() if "links.csv" in r.members]
        raise ConfigError(
            f"{rel.name} has no links.csv to join IMDb through; use one of: {', '.join(with_links)}"
        )
    folder = ensure_release(rel, data_dir, download=False)
    folder_imdb = resolve_imdb_dir(imdb_dir, data_dir)
    if download:
        download_imdb(folder_imdb, progress=progress)
    movies = read_movies_csv(folder / "movies.csv")
    links = read_links_csv(folder / "links.csv")
    return enrich_items(movies, links, folder_imdb)


def _with_tconst(links: pd.DataFrame) -> pd.DataFrame:
    """``links`` with a ``tconst`` column (derived from zero-padded ``imdbId`` when absent)."""
    for col in (C.ITEM, C.IMDB_ID):
        if col not in links.columns:
            raise MissingColumnError(f"links frame lacks {col!r}; found {list(links.columns)}")
    if C.IMDB_TCONST in links.columns:
        return links
    # links.csv drops IMDb's leading zeros in some tools' hands; IMDb pads to at least 7 digits.
    digits = links[C.IMDB_ID].astype("string").str.strip().str.zfill(7)
    return links.assign(**{C.IMDB_TCONST: ("tt" + digits).astype("str")})


def imdb_join_report(enriched: pd.DataFrame) -> dict[str, object]:
    """How well the join covered the catalogue, from :func:`enrich_items`' output.

    Keys: ``movies``, ``linked_movies`` (with a ``tconst``), ``joined_basics`` / ``joined_ratings`` (movies
    found in each dump), ``linked_share`` (of movies), ``basics_share`` / ``ratings_share`` (of linked
    movies; 0.0 when none are linked) and ``title_types`` (``{titleType: movies}``, most common first).
    """
    n = len(enriched)
    linked = int(enriched[C.IMDB_TCONST].notna().sum())
    basics = int(enriched[C.IMDB_TITLE_TYPE].notna().sum())
    ratings = int(enriched[C.IMDB_VOTES].notna().sum())
    types = enriched[C.IMDB_TITLE_TYPE].dropna().astype(str).value_counts()
    return {
        "movies": n,
        "linked_movies": linked,
        "joined_basics": basics,
        "joined_ratings": ratings,
        "linked_share": linked / n if n else 0.0,
        "basics_share": basics / linked if linked else 0.0,
        "ratings_share": ratings / linked if linked else 0.0,
        "title_types": {str(k): int(v) for k, v in types.items()},
    }


def write_enriched_items(frame: pd.DataFrame, path: PathLike) -> Path:
    """Write the enriched table to Parquet atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path


def read_enriched_items(path: PathLike) -> pd.DataFrame:
    """An enriched table written by :func:`write_enriched_items`, genre cells as plain lists."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(
            f"{path}: no such file; write it with `movielens-lessons data imdb`"
        )
    frame = pd.read_parquet(path)
    frame[C.IMDB_GENRES] = pd.Series(
        [as_genre_list(g) for g in frame[C.IMDB_GENRES]], index=frame.index, dtype=object
    )
    return frame


__all__ = [
    "ENRICHED_COLUMNS",
    "enrich_items",
    "enrich_release",
    "imdb_join_report",
    "read_enriched_items",
    "write_enriched_items",
]
