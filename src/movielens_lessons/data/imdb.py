"""IMDb enrichment: the ``title.basics`` and ``title.ratings`` dumps joined to MovieLens through ``links.csv``.

The dumps (https://datasets.imdbws.com/) are gzip, TAB-separated, with a header line, *no quoting* (a title
such as ``"Weird" Al`` holds literal double quotes) and ``\\N`` for null. ``title.basics.tsv.gz`` is about
170 MB compressed and 12 million rows, so it is never loaded into pandas: DuckDB streams it and joins it,
inside DuckDB, against the few thousand ``tconst`` s that MovieLens links to. Numeric fields are read as
text and cast with ``TRY_CAST`` because the dumps carry the odd malformed value; lines with the wrong number
of fields are skipped and counted in a :class:`DataQualityWarning`. Finding, checking and downloading the
dumps is :mod:`movielens_lessons.data.imdb_dumps`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movielens_lessons import columns as C
from movielens_lessons.data.download import ensure_release
from movielens_lessons.data.imdb_dumps import (
    BASICS_FILE,
    DUMP_COLUMNS,
    RATINGS_FILE,
    check_dump,
    download_imdb,
    dump_paths,
    resolve_imdb_dir,
)
from movielens_lessons.data.readers.csv_release import read_links_csv, read_movies_csv
from movielens_lessons.data.releases import RELEASES, get_release
from movielens_lessons.errors import (
    ConfigError,
    DataNotFoundError,
    DataQualityWarning,
    MissingColumnError,
)

PathLike = str | os.PathLike[str]

#: DuckDB's memory cap while scanning the dumps (see ``_query_titles``).
DUCKDB_MEMORY_LIMIT = "512MB"

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


# --- reading ---------------------------------------------------------------------------------------


def _scan(name: str) -> str:
    """A ``read_csv`` call for dump ``name`` (path bound as a parameter), every column as text."""
    cols = ", ".join(f"'{col}': 'VARCHAR'" for col in DUMP_COLUMNS[name])
    # quote='' and escape='' turn quoting off: IMDb writes quotes in titles literally.
    return (
        "read_csv(?, delim='\t', quote='', escape='', nullstr='\\N', header=true, "
        f"compression='gzip', auto_detect=false, store_rejects=true, columns={{{cols}}})"
    )


def read_linked_titles(imdb_dir: PathLike, tconsts: Iterable[str]) -> pd.DataFrame:
    """IMDb fields of the given ``tconst`` s, one row each (also for ids in neither dump: all null).

    Columns: ``tconst, titleType, primaryTitle, isAdult`` (boolean), ``startYear`` (Int16),
    ``runtimeMinutes`` (Int32, minutes), ``imdbGenres`` (list of str; empty where IMDb has ``\\N``, ``None``
    where the id is not in ``title.basics``), ``averageRating`` (float, 1-10), ``numVotes`` (Int64).
    """
    paths = dump_paths(imdb_dir)
    for name, path in paths.items():
        check_dump(path, name)
    linked = pd.DataFrame({C.IMDB_TCONST: pd.Series(list(tconsts), dtype=object)})
    linked = linked.dropna().drop_duplicates()
    with tempfile.TemporaryDirectory(prefix="movielens-duckdb-") as spill:
        table = _query_titles(paths, linked, Path(spill))
    return _typed_titles(table.to_pandas())


def _query_titles(paths: dict[str, Path], linked: pd.DataFrame, spill: Path) -> pa.Table:
    con = duckdb.connect()
    try:
        # DuckDB keeps buffers up to its memory limit (80 % of RAM by default): on the real
        # title.basics that is over 2 GB although the result is a few thousand rows. A cap keeps the
        # peak near it for ~30 % more time. No progress bar: stdout carries the CLI's result.
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET temp_directory = '" + str(spill).replace("'", "''") + "'")
        con.register("linked", linked)
        # Both scans are filtered by the join as DuckDB streams the files; QUALIFY guards against a
        # repeated id in a dump multiplying rows.
        query = f"""
            WITH b AS (
                SELECT s.* FROM {_scan(BASICS_FILE)} s JOIN linked USING ({C.IMDB_TCONST})
                QUALIFY row_number() OVER (PARTITION BY s.{C.IMDB_TCONST}) = 1
            ), r AS (
                SELECT s.* FROM {_scan(RATINGS_FILE)} s JOIN linked USING ({C.IMDB_TCONST})
                QUALIFY row_number() OVER (PARTITION BY s.{C.IMDB_TCONST}) = 1
            )
            SELECT
                l.{C.IMDB_TCONST},
                b.{C.IMDB_TITLE_TYPE},
                b.{C.IMDB_PRIMARY_TITLE},
                TRY_CAST(b.{C.IMDB_IS_ADULT} AS INTEGER) = 1 AS {C.IMDB_IS_ADULT},
                TRY_CAST(b.{C.IMDB_START_YEAR} AS SMALLINT) AS {C.IMDB_START_YEAR},
                TRY_CAST(b.{C.IMDB_RUNTIME} AS INTEGER) AS {C.IMDB_RUNTIME},
                CASE WHEN b.{C.IMDB_TCONST} IS NULL THEN NULL
                     ELSE coalesce(string_split(b.genres, ','), CAST([] AS VARCHAR[])) END
                    AS {C.IMDB_GENRES},
                TRY_CAST(r.{C.IMDB_RATING} AS DOUBLE) AS {C.IMDB_RATING},
                TRY_CAST(r.{C.IMDB_VOTES} AS BIGINT) AS {C.IMDB_VOTES}
            FROM linked l
            LEFT JOIN b ON b.{C.IMDB_TCONST} = l.{C.IMDB_TCONST}
            LEFT JOIN r ON r.{C.IMDB_TCONST} = l.{C.IMDB_TCONST}
            ORDER BY l.{C.IMDB_TCONST}
        """
        table = con.sql(
            query, params=[str(paths[BASICS_FILE]), str(paths[RATINGS_FILE])]
        ).to_arrow_table()
        _warn_rejects(con)
    finally:
        con.close()
    return table


def _warn_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """One :class:`DataQualityWarning` per dump with lines DuckDB skipped (wrong number of fields)."""
    rows = con.execute(
        """SELECT s.file_path, count(*), min(e.line), any_value(e.error_message)
           FROM reject_errors e JOIN reject_scans s USING (scan_id, file_id)
           GROUP BY s.file_path ORDER BY s.file_path"""
    ).fetchall()
    for path, n, line, message in rows:
        warnings.warn(
            f"{path}: skipped {n:,} malformed line(s), first at line {line} ({message})",
            DataQualityWarning,
            stacklevel=4,
        )


def _typed_titles(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            C.IMDB_TCONST: frame[C.IMDB_TCONST].astype("str"),
            C.IMDB_TITLE_TYPE: frame[C.IMDB_TITLE_TYPE].astype("str"),
            C.IMDB_PRIMARY_TITLE: frame[C.IMDB_PRIMARY_TITLE].astype("str"),
            C.IMDB_IS_ADULT: frame[C.IMDB_IS_ADULT].astype("boolean"),
            C.IMDB_START_YEAR: frame[C.IMDB_START_YEAR].astype("Int16"),
            C.IMDB_RUNTIME: frame[C.IMDB_RUNTIME].astype("Int32"),
            C.IMDB_GENRES: [_as_list(g) for g in frame[C.IMDB_GENRES]],
            C.IMDB_RATING: frame[C.IMDB_RATING].astype("float64"),
            C.IMDB_VOTES: frame[C.IMDB_VOTES].astype("Int64"),
        }
    )
    return out


def _as_list(value: object) -> list[str] | None:
    """A genre cell as a plain list (pyarrow gives arrays; Parquet round trips too); null stays None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return [str(v) for v in value]  # type: ignore[union-attr]


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
    out[C.IMDB_GENRES] = [_as_list(g) for g in out[C.IMDB_GENRES]]
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
    frame[C.IMDB_GENRES] = [_as_list(g) for g in frame[C.IMDB_GENRES]]
    return frame


__all__ = [
    "ENRICHED_COLUMNS",
    "enrich_items",
    "enrich_release",
    "imdb_join_report",
    "read_enriched_items",
    "read_linked_titles",
    "write_enriched_items",
]
