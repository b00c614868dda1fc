"""IMDb titles read from the dumps: DuckDB streams ``title.basics`` and ``title.ratings`` and joins them.

The dumps (https://datasets.imdbws.com/) are gzip, TAB-separated, with a header line, *no quoting* (a title
such as ``"Weird" Al`` holds literal double quotes) and ``\\N`` for null. ``title.basics.tsv.gz`` is about
170 MB compressed and 12 million rows, so it is never loaded into pandas: DuckDB streams it and joins it,
inside DuckDB, against the few thousand ``tconst`` s that MovieLens links to. Numeric fields are read as
text and cast with ``TRY_CAST`` because the dumps carry the odd malformed value; lines with the wrong number
of fields are skipped and counted in a :class:`DataQualityWarning`. Joining the titles to MovieLens is
:mod:`movielens_lessons.data.imdb`.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import duckdb
import pandas as pd
import pyarrow as pa

from movielens_lessons import columns as C
from movielens_lessons.data.imdb_dumps import (
    BASICS_FILE,
    DUMP_COLUMNS,
    RATINGS_FILE,
    PathLike,
    check_dump,
    dump_paths,
)
from movielens_lessons.errors import DataQualityWarning

#: DuckDB's memory cap while scanning the dumps (see ``_query_titles``).
DUCKDB_MEMORY_LIMIT = "512MB"


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
            C.IMDB_GENRES: [as_genre_list(g) for g in frame[C.IMDB_GENRES]],
            C.IMDB_RATING: frame[C.IMDB_RATING].astype("float64"),
            C.IMDB_VOTES: frame[C.IMDB_VOTES].astype("Int64"),
        }
    )
    return out


def as_genre_list(value: object) -> list[str] | None:
    """A genre cell as a plain list (pyarrow gives arrays; Parquet round trips too); null stays None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return [str(v) for v in cast(Iterable[Any], value)]  # a list or a pyarrow/NumPy array
