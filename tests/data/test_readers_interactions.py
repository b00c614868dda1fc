"""Bring-your-own ratings files: CSV with any separator or Parquet, mapped onto the canonical schema."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.dataset import Dataset
from movielens_lessons.data.loading import load_dataset, read_source
from movielens_lessons.data.readers import read_interactions
from movielens_lessons.errors import (
    ConfigError,
    DataValidationError,
    MissingColumnError,
    UnknownReleaseError,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _epoch(text: str) -> int:
    """Seconds since 1970 of an ISO date-time, taken as UTC when it has no zone (independent check)."""
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def test_csv_with_own_column_names_and_separator(tmp_path: Path) -> None:
    path = tmp_path / "events.tsv"
    path.write_text("who\twhat\tstars\twhen\n7\t100\t4.5\t1000\n8\t200\t2\t2000\n")
    df = read_interactions(
        path, user_col="who", item_col="what", rating_col="stars", timestamp_col="when", sep="\t"
    )
    assert list(df.columns) == list(C.RATINGS_COLUMNS)
    assert df[C.USER].tolist() == [7, 8] and df[C.ITEM].tolist() == [100, 200]
    assert df[C.RATING].tolist() == [4.5, 2.0] and df[C.TIMESTAMP].tolist() == [1000, 2000]
    assert str(df[C.USER].dtype) == "int32" and str(df[C.TIMESTAMP].dtype) == "int64"


def test_implicit_feedback_without_rating_or_time(tmp_path: Path) -> None:
    path = tmp_path / "clicks.csv"
    path.write_text("user,item,extra\n1,5,x\n2,6,y\n")
    df = read_interactions(
        path, user_col="user", item_col="item", rating_col=None, timestamp_col=None
    )
    assert list(df.columns) == [C.USER, C.ITEM]
    ds = Dataset.from_frame(df)
    assert ds.ratings is None and ds.timestamps is None


@pytest.mark.parametrize(
    ("unit", "factor"), [("s", 1), ("ms", 1_000), ("us", 10**6), ("ns", 10**9)]
)
def test_numeric_timestamp_units(tmp_path: Path, unit: str, factor: int) -> None:
    seconds = [964982703, 964981247]
    path = tmp_path / "r.csv"
    path.write_text(
        "userId,movieId,rating,timestamp\n"
        + "".join(f"1,{i},4,{s * factor + factor // 2}\n" for i, s in enumerate(seconds))
    )
    df = read_interactions(path, timestamp_unit=unit)
    assert df[C.TIMESTAMP].tolist() == seconds


def test_iso_and_strftime_timestamps(tmp_path: Path) -> None:
    stamps = ["2018-09-24T14:27:30Z", "2001-01-01 00:00:00+02:00", "1999-12-31T23:59:59"]
    iso = tmp_path / "iso.csv"
    iso.write_text(
        "userId,movieId,rating,timestamp\n"
        + "".join(f'1,{i},3,"{t}"\n' for i, t in enumerate(stamps))
    )
    got = read_interactions(iso, timestamp_unit="iso")[C.TIMESTAMP].tolist()
    assert got == [_epoch(t.replace("Z", "+00:00")) for t in stamps]

    custom = tmp_path / "custom.csv"
    custom.write_text("u;i;r;t\n1;1;3;24/09/2018 14:27\n")
    df = read_interactions(
        custom,
        user_col="u",
        item_col="i",
        rating_col="r",
        timestamp_col="t",
        sep=";",
        timestamp_unit="%d/%m/%Y %H:%M",
    )
    assert df[C.TIMESTAMP].tolist() == [_epoch("2018-09-24T14:27:00")]


def test_bad_date_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("u,i,t\n1,1,2020-01-01\n1,2,yesterday\n")
    with pytest.raises(DataValidationError) as exc:
        read_interactions(
            path,
            user_col="u",
            item_col="i",
            rating_col=None,
            timestamp_col="t",
            timestamp_unit="iso",
        )
    assert (exc.value.line, exc.value.column, exc.value.value) == (3, "t", "yesterday")


def test_errors_use_the_files_own_column_names(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("user_id,item_id,score\n1,1,4\nbob,2,5\n")
    with pytest.raises(DataValidationError) as exc:
        read_interactions(
            path, user_col="user_id", item_col="item_id", rating_col="score", timestamp_col=None
        )
    assert (exc.value.line, exc.value.column, exc.value.value) == (3, "user_id", "bob")
    with pytest.raises(MissingColumnError, match=r"'userId' \(the userId column\); found columns"):
        read_interactions(path)


def test_scale_applies_to_own_files(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("userId,movieId,rating\n1,1,10\n")
    assert read_interactions(path, timestamp_col=None)[C.RATING].tolist() == [10.0]
    with pytest.raises(DataValidationError, match=r"line 2.*10\.0 is outside the allowed range"):
        read_interactions(path, timestamp_col=None, scale=(1, 5))


def test_double_colon_separator(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("userId::movieId::rating::timestamp\n1::2::3.5::4\n")
    df = read_interactions(path, sep="::")
    assert df.iloc[0].tolist() == [1, 2, 3.5, 4]


def test_parquet_with_mapping_and_native_timestamps(tmp_path: Path) -> None:
    when = pd.to_datetime(["2018-09-24 14:27:30", "2000-01-01 00:00:00"]).tz_localize("UTC")
    table = pa.table(
        {
            "u": pa.array([3, 4], pa.int64()),
            "m": pa.array([10, 20], pa.int32()),
            "r": pa.array([1.5, 5.0]),
            "t": pa.array(when),
        }
    )
    path = tmp_path / "ratings.parquet"
    pq.write_table(table, path)
    df = read_interactions(path, user_col="u", item_col="m", rating_col="r", timestamp_col="t")
    assert df[C.USER].tolist() == [3, 4]
    assert df[C.TIMESTAMP].tolist() == [
        _epoch("2018-09-24T14:27:30"),
        _epoch("2000-01-01T00:00:00"),
    ]
    renamed = tmp_path / "ratings.bin"  # recognised by its magic bytes, not its name
    renamed.write_bytes(path.read_bytes())
    pd.testing.assert_frame_equal(
        read_interactions(renamed, user_col="u", item_col="m", rating_col="r", timestamp_col="t"),
        df,
    )


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"userId": ["1", "x"], "movieId": [1, 2]}), path)
    with pytest.raises(DataValidationError, match=r"row 2: value 'x' is not an integer") as exc:
        read_interactions(path, rating_col=None, timestamp_col=None)
    assert exc.value.line is None and exc.value.column == C.USER


def test_bad_options_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("userId,movieId\n1,1\n")
    with pytest.raises(ConfigError, match="timestamp_unit"):
        read_interactions(path, timestamp_unit="fortnights")
    with pytest.raises(ConfigError, match="two roles"):
        read_interactions(path, item_col="userId", rating_col=None, timestamp_col=None)


# --- load_dataset: names, folders and files -------------------------------------------------------


def test_load_dataset_from_a_release_name_attaches_metadata() -> None:
    ds = load_dataset("ml-1m", data_dir=FIXTURES)
    assert ds.name == "ml-1m"
    assert ds.movies is not None and ds.users_meta is not None and ds.tags is None
    raw = read_source("ml-1m", data_dir=FIXTURES)
    assert len(ds) == len(raw.ratings)
    assert set(ds.user_ids.tolist()) == set(raw.ratings[C.USER].tolist())


def test_load_dataset_from_a_release_folder_and_from_a_file() -> None:
    by_folder = load_dataset(FIXTURES / "ml-10M100K")
    assert by_folder.name == "ml-10m" and by_folder.tags is not None
    by_file = load_dataset(FIXTURES / "ml-20m" / "ratings.csv", positive_threshold=4.0)
    assert by_file.name == "ratings" and by_file.movies is None
    expected_positive = (
        pd.read_csv(FIXTURES / "ml-20m" / "ratings.csv")[C.RATING].to_numpy() >= 4.0
    ).sum()
    assert by_file.implicit().nnz == expected_positive


def test_load_dataset_passes_interaction_options(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("a,b\n1,2\n1,3\n")
    ds = load_dataset(path, user_col="a", item_col="b", rating_col=None, timestamp_col=None)
    assert (ds.n_users, ds.n_items, len(ds)) == (1, 2, 2)
    with pytest.raises(ConfigError, match="release"):
        load_dataset("ml-1m", data_dir=FIXTURES, user_col="a")


def test_unknown_name_lists_the_releases() -> None:
    with pytest.raises(UnknownReleaseError, match="ml-latest-small"):
        load_dataset("ml-3m")


def test_folder_that_is_not_a_release(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a MovieLens release folder"):
        load_dataset(tmp_path)


def test_ratings_values_survive_the_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            C.USER: rng.integers(1, 50, 300),
            C.ITEM: rng.integers(1, 2**31 - 1, 300),
            C.RATING: rng.integers(1, 11, 300) / 2,
            C.TIMESTAMP: rng.integers(0, 2**40, 300),
        }
    )
    path = tmp_path / "r.csv"
    frame.to_csv(path, index=False)
    df = read_interactions(path)
    for col in C.RATINGS_COLUMNS:
        np.testing.assert_array_equal(
            df[col].to_numpy(), frame[col].to_numpy().astype(df[col].dtype)
        )
