"""Spark's readers against the single-machine readers on the same files: the same rows and values in
the canonical schema, and the same rules (the same line and column named) for bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.loading import load_dataset
from movielens_lessons.data.readers import (
    read_interactions,
    read_ratings_csv,
    read_ratings_dat,
    read_u_data,
)
from movielens_lessons.data.releases import FORMAT_100K, FORMAT_CSV, FORMAT_DAT
from movielens_lessons.errors import (
    ConfigError,
    DataNotFoundError,
    DataValidationError,
    EmptyDataError,
    MissingColumnError,
)
from movielens_lessons.spark import readers as SR
from movielens_lessons.spark.frames import from_dataset, to_numpy

from ..data.rating_files import HEADER, one_line, write_file

pytestmark = [pytest.mark.spark, pytest.mark.usefixtures("spark")]

ROWS = [(1, 10, 4.0, 964982703), (1, 20, 0.5, 964981247), (2, 10, 5.0, 964982224),
        (3, 30, 3.5, 0), (2147483647, 40, 1.0, 1_700_000_000)]
ROWS_1_5 = [(u, i, max(r, 1.0), t) for u, i, r, t in ROWS]

#: format → (file name, line of a row, the single-machine reader, the release's scale)
FORMATS: dict[str, tuple[str, Callable[[tuple], str], Callable[..., pd.DataFrame], tuple]] = {
    FORMAT_CSV: ("ratings.csv", lambda r: ",".join(map(str, r)), read_ratings_csv, (0.5, 5.0)),
    FORMAT_DAT: ("ratings.dat", lambda r: "::".join(map(str, r)), read_ratings_dat, (1.0, 5.0)),
    FORMAT_100K: ("u.data", lambda r: "\t".join(map(str, r)), read_u_data, (1.0, 5.0)),
}


def release_file(tmp_path: Path, fmt: str, lines: list[str]) -> Path:
    """``lines`` in the exact layout of ``fmt``'s ratings file (a header line for the CSV one)."""
    name = FORMATS[fmt][0]
    head = HEADER if fmt == FORMAT_CSV else ""
    return write_file(tmp_path, name, head + "".join(line + "\n" for line in lines))


def collected(df) -> pd.DataFrame:
    """A Spark result on the driver through Arrow, rows in a fixed order."""
    cols = to_numpy(df)
    frame = pd.DataFrame(cols)
    return frame.sort_values(list(frame.columns), ignore_index=True)


def assert_same(spark_df, local: pd.DataFrame) -> None:
    got = collected(spark_df)
    want = local.sort_values(list(local.columns), ignore_index=True)
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        assert got[col].dtype == want[col].dtype, col
    pd.testing.assert_frame_equal(got, want)


@pytest.fixture(scope="module")
def canonical_schema(spark):
    """The schema every Spark path into data already uses (a Dataset through Arrow)."""
    frame = pd.DataFrame(ROWS, columns=list(C.RATINGS_COLUMNS))
    return from_dataset(spark, Dataset.from_frame(frame, name="schema")).schema


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_release_format_reads_as_the_single_machine_reader(
    spark, tmp_path: Path, fmt: str, canonical_schema
) -> None:
    _, line, local_reader, scale = FORMATS[fmt]
    rows = ROWS if scale[0] == 0.5 else ROWS_1_5
    path = release_file(tmp_path, fmt, [line(r) for r in rows])
    df = SR.read_ratings(spark, path, format=fmt, scale=scale)
    assert df.schema == canonical_schema
    assert_same(df, local_reader(path, scale=scale))


def test_release_ratings_by_name_and_folder(spark, tmp_path: Path) -> None:
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    release_file(folder, FORMAT_DAT, ["::".join(map(str, r)) for r in ROWS_1_5])
    expected = read_ratings_dat(folder / "ratings.dat", scale=(1.0, 5.0))
    assert_same(SR.read_release_ratings(spark, "ml-1m", data_dir=tmp_path), expected)
    assert_same(SR.read_source(spark, folder), expected)
    assert_same(SR.read_source(spark, "ml-1m", data_dir=tmp_path), expected)
    release_file(folder, FORMAT_DAT, ["1::10::0.5::5"])
    with pytest.raises(DataValidationError, match=re.escape("outside the allowed range 1.0 to 5.0")):
        SR.read_source(spark, folder)
    with pytest.raises(DataNotFoundError, match="ml-100k is not there"):
        SR.read_release_ratings(spark, "ml-100k", data_dir=tmp_path)
    with pytest.raises(ConfigError, match="apply to your own files"):
        SR.read_source(spark, "ml-1m", data_dir=tmp_path, sep=";")


def test_empty_lines_crlf_and_quoted_fields_read_as_the_single_machine_reader(
    spark, tmp_path: Path
) -> None:
    path = write_file(tmp_path, "ratings.csv",
                      HEADER + '1,10,4.0,5\r\n\r\n"2",20,"3.5",6\r\n\n3,30,1,7\r\n')
    assert_same(SR.read_ratings(spark, path), read_ratings_csv(path))


def test_interactions_csv_with_own_names_separator_and_units(spark, tmp_path: Path) -> None:
    text = "item;who;stars;ms\n10;1;4.5;1999\n20;1;3;-1\n10;2;5;1700000000123\n"
    path = write_file(tmp_path, "mine.csv", text)
    options = dict(user_col="who", item_col="item", rating_col="stars", timestamp_col="ms",
                   sep=";", timestamp_unit="ms")
    assert_same(SR.read_interactions(spark, path, **options), read_interactions(path, **options))
    implicit = dict(user_col="who", item_col="item", rating_col=None, timestamp_col=None, sep=";")
    df = SR.read_interactions(spark, path, **implicit)
    assert df.columns == [C.USER, C.ITEM]
    assert_same(df, read_interactions(path, **implicit))


def test_parquet_with_typed_columns_reads_as_the_single_machine_reader(
    spark, tmp_path: Path, canonical_schema
) -> None:
    table = pa.table({
        C.USER: pa.array([1, 2, 3], pa.int64()),
        C.ITEM: pa.array([10.0, 20.0, 30.0], pa.float64()),  # whole floats are ids too
        C.RATING: pa.array([4.5, 1.0, 3.0], pa.float64()),
        C.TIMESTAMP: pa.array([0, 1_500_000_000, 86_401], pa.int64()),
    })
    path = tmp_path / "ratings.parquet"
    pq.write_table(table, path)
    df = SR.read_interactions(spark, path)
    assert df.schema == canonical_schema
    assert_same(df, read_interactions(path))
    assert_same(SR.read_source(spark, str(path)), read_interactions(path))


@pytest.mark.parametrize("tz", ["UTC", None])
def test_parquet_timestamp_columns_become_epoch_seconds(spark, tmp_path: Path, tz) -> None:
    stamps = pa.array(np.array([0, 1_500_000_000_500_000, -1_500_000], dtype="datetime64[us]"),
                      pa.timestamp("us", tz=tz))
    table = pa.table({C.USER: [1, 2, 3], C.ITEM: [1, 1, 1], "when": stamps})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path)
    options = dict(rating_col=None, timestamp_col="when")
    assert_same(SR.read_interactions(spark, path, **options), read_interactions(path, **options))


def test_a_folder_of_part_files_is_one_frame(spark, tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    write_file(folder, "part-0.csv", HEADER + "1,10,4.0,5\n2,20,3.0,6\n")
    write_file(folder, "part-1.csv", HEADER + "3,30,2.0,7\n")
    got = collected(SR.read_interactions(spark, folder))
    assert got[C.USER].tolist() == [1, 2, 3]
    write_file(folder, "part-2.csv", HEADER + "4,40,2.0,8\n5,x,1.0,9\n")
    with pytest.raises(DataValidationError) as exc:
        SR.read_interactions(spark, folder)
    assert exc.value.path == str(folder / "part-2.csv")  # the part file, not the folder
    assert exc.value.line == 3


# --- bad input: the same rule broken, at the same line and column as on a single machine ----------

BAD_CSV = {
    "letter in an id": ["1,10,4.0,5", "2,x,4.0,6"],
    "empty id": ["1,10,4.0,5", ",10,4.0,6"],
    "null string id": ["1,10,4.0,5", "NA,10,4.0,6"],
    "id beyond int32": ["1,10,4.0,5", "2147483648,10,4.0,6"],
    "id beyond int64": ["1,10,4.0,5", "1,99999999999999999999,4.0,6"],
    "fractional id": ["1,10,4.0,5", "1.5,10,4.0,6"],
    "rating above the scale": ["1,10,4.0,5", "2,10,5.5,6"],
    "rating below the scale": ["1,10,0.0,5"],
    "text rating": ["1,10,good,5"],
    "missing rating": ["1,10,,5"],
    "infinite rating": ["1,10,inf,5"],
    "fractional timestamp": ["1,10,4.0,5", "1,11,4.0,5.5"],
    "too few fields": ["1,10,4.0,5", "1,10,4.0"],
    "too many fields": ["1,10,4.0,5", "1,10,4.0,5,9"],
    # column order decides: the bad movieId on line 3 beats the bad rating on line 2
    "two rules broken": ["1,10,9.0,5", "1,x,4.0,5"],
    # a malformed id anywhere comes before an out-of-range one earlier in the file
    "range then letter": ["3000000000,10,4.0,5", "y,10,4.0,5"],
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv_names_the_same_line_and_column(spark, tmp_path: Path, case: str) -> None:
    path = release_file(tmp_path, FORMAT_CSV, BAD_CSV[case])
    with pytest.raises(DataValidationError) as local:
        read_ratings_csv(path, scale=(0.5, 5.0))
    with pytest.raises(DataValidationError) as distributed:
        SR.read_ratings(spark, path, scale=(0.5, 5.0))
    assert one_line(distributed) == str(local.value)
    assert (distributed.value.line, distributed.value.column) == (local.value.line,
                                                                  local.value.column)


@pytest.mark.parametrize("case", ["range then letter", "id beyond int32", "infinite rating",
                                  "two rules broken", "too many fields"])
def test_bad_interaction_csv_names_the_same_line_and_column(spark, tmp_path: Path, case) -> None:
    # here ids are parsed as int64, so an id beyond int32 is found by validation, not parsing
    path = write_file(tmp_path, "mine.csv", HEADER + "".join(f"{r}\n" for r in BAD_CSV[case]))
    with pytest.raises(DataValidationError) as local:
        read_interactions(path)
    with pytest.raises(DataValidationError) as distributed:
        SR.read_interactions(spark, path)
    assert (distributed.value.line, distributed.value.column) == (local.value.line,
                                                                  local.value.column)
    assert str(distributed.value) == str(local.value)


@pytest.mark.parametrize("fmt", [FORMAT_DAT, FORMAT_100K])
def test_bad_dat_and_u_data_name_the_same_line(spark, tmp_path: Path, fmt: str) -> None:
    _, line, local_reader, scale = FORMATS[fmt]
    bad = line((7, 10, 4.0, 5)).replace("10", "ten")
    path = release_file(tmp_path, fmt, [line(r) for r in ROWS_1_5] + ["", bad])
    with pytest.raises(DataValidationError) as local:
        local_reader(path, scale=scale)
    with pytest.raises(DataValidationError, match="'ten' is not an integer") as distributed:
        SR.read_ratings(spark, path, format=fmt, scale=scale)
    assert distributed.value.line == local.value.line == len(ROWS_1_5) + 2
    assert distributed.value.path == str(path)


def test_messages_say_what_was_allowed(spark, tmp_path: Path) -> None:
    path = release_file(tmp_path, FORMAT_CSV, ["1,10,4.0,5", "2,10,5.5,6"])
    with pytest.raises(DataValidationError) as exc:
        SR.read_ratings(spark, path, scale=(0.5, 5.0))
    assert one_line(exc) == (f"{path}, line 3, column 'rating': rating 5.5 is outside the "
                             "allowed range 0.5 to 5.0")
    path = release_file(tmp_path, FORMAT_DAT, ["1::10::4::5", "1::10::4"])
    with pytest.raises(DataValidationError, match="expected 4 fields separated by '::', found 3"):
        SR.read_ratings(spark, path, format=FORMAT_DAT)
    path = release_file(tmp_path, FORMAT_CSV, ["1,2147483648,4.0,5"])
    with pytest.raises(DataValidationError,
                       match=re.escape("outside the int32 range -2147483648..2147483647")):
        SR.read_ratings(spark, path)
    path = write_file(tmp_path, "mine.csv", HEADER + "1,2147483648,4.0,5\n")
    with pytest.raises(DataValidationError,
                       match=re.escape("out of range; allowed -2147483648..2147483647")):
        SR.read_interactions(spark, path)


def test_bad_parquet_names_the_row(spark, tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({C.USER: [1, 2, 3], C.ITEM: [10.0, 20.5, 30.0],
                             C.RATING: [1.0, 2.0, 3.0], C.TIMESTAMP: [1, 2, 3]}), path)
    with pytest.raises(DataValidationError) as local:
        read_interactions(path)
    with pytest.raises(DataValidationError) as distributed:
        SR.read_interactions(spark, path)
    assert one_line(distributed) == str(local.value)
    assert "row 2: value 20.5 is not an integer" in str(distributed.value)


def test_missing_columns_and_empty_files(spark, tmp_path: Path) -> None:
    path = write_file(tmp_path, "r.csv", "userId,movieId,stars\n1,2,3\n")
    with pytest.raises(MissingColumnError, match="missing column 'rating'") as exc:
        SR.read_interactions(spark, path)
    assert exc.value.path == str(path)
    with pytest.raises(EmptyDataError, match="no data rows"):
        SR.read_ratings(spark, write_file(tmp_path, "h.csv", HEADER + "\n"))
    with pytest.raises(EmptyDataError):
        SR.read_ratings(spark, write_file(tmp_path, "e.csv", ""))
    parquet = tmp_path / "none.parquet"
    pq.write_table(pa.table({C.USER: pa.array([], pa.int32()), C.ITEM: pa.array([], pa.int32())}),
                   parquet)
    with pytest.raises(EmptyDataError, match="no data rows"):
        SR.read_interactions(spark, parquet, rating_col=None, timestamp_col=None)
    with pytest.raises(DataNotFoundError, match="file not found"):
        SR.read_interactions(spark, tmp_path / "nowhere.csv")
    with pytest.raises(ConfigError, match="numeric timestamps"):
        SR.read_interactions(spark, path, timestamp_unit="iso")
    with pytest.raises(ConfigError, match="unknown ratings format"):
        SR.read_ratings(spark, path, format="xml")


# --- the real ml-latest-small ------------------------------------------------------------------


@pytest.mark.realdata
def test_real_ratings_csv_matches_load_dataset(spark, real_data_dir: Path) -> None:
    df = SR.read_release_ratings(spark, "ml-latest-small", data_dir=real_data_dir)
    ds = load_dataset("ml-latest-small", data_dir=real_data_dir)
    from pyspark.sql import functions as F

    got = df.agg(F.count("*").alias("n"), F.sum(C.USER).alias("u"), F.sum(C.ITEM).alias("i"),
                 F.sum(F.col(C.RATING).cast("double")).alias("r"), F.sum(C.TIMESTAMP).alias("t"),
                 F.countDistinct(C.USER).alias("nu"), F.countDistinct(C.ITEM).alias("ni")).first()
    assert got is not None
    users, items = ds.user_ids[ds.users], ds.item_ids[ds.items]
    assert ds.n_duplicates_dropped == 0  # so the two row sets can be compared one to one
    assert got["n"] == ds.n_interactions
    assert got["u"] == int(users.astype(np.int64).sum())
    assert got["i"] == int(items.astype(np.int64).sum())
    assert got["r"] == pytest.approx(float(np.asarray(ds.ratings, np.float64).sum()), rel=1e-12)
    assert got["t"] == int(np.asarray(ds.timestamps, np.int64).sum())
    assert (got["nu"], got["ni"]) == (ds.n_users, ds.n_items)
