"""Every bad input gets one line naming the file, line, column and value at fault."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.loading import load_dataset
from movielens_lessons.data.readers import (
    read_movies_dat,
    read_ratings_csv,
    read_release,
    read_u_item,
    validate_ratings,
)
from movielens_lessons.errors import (
    DataNotFoundError,
    DataQualityWarning,
    DataValidationError,
    EmptyDataError,
    MissingColumnError,
)

from .rating_files import HEADER, one_line, write_file

FIXTURES = Path(__file__).parent / "fixtures"


# --- missing column ------------------------------------------------------------------------------


def test_missing_column_is_named_with_the_columns_found(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", "userId,movieId,timestamp\n1,2,3\n")
    with pytest.raises(MissingColumnError) as exc:
        read_ratings_csv(path)
    message = one_line(exc)
    assert str(path) in message
    assert "'rating'" in message
    assert "['userId', 'movieId', 'timestamp']" in message
    assert exc.value.column == C.RATING


def test_validate_ratings_names_a_missing_column() -> None:
    df = pd.DataFrame({C.USER: [1], C.RATING: [3.0], C.TIMESTAMP: [1]})
    with pytest.raises(MissingColumnError, match="'movieId'"):
        validate_ratings(df, source="frame")


# --- malformed lines of small text files ---------------------------------------------------------


def test_bad_u_item_line(tmp_path: Path) -> None:
    path = write_file(tmp_path, "u.item", "1|Toy Story (1995)|01-Jan-1995||url|0|1\n", "latin-1")
    with pytest.raises(DataValidationError, match=r"line 1: expected 24"):
        read_u_item(path)


def test_bad_movies_dat_id(tmp_path: Path) -> None:
    path = write_file(
        tmp_path, "movies.dat", "1::Toy Story (1995)::Comedy\nX::Jumanji (1995)::Fantasy\n"
    )
    with pytest.raises(DataValidationError, match=r"line 2, column 'movieId'.*'X'"):
        read_movies_dat(path)


# --- ratings outside the scale ------------------------------------------------------------------------


def test_rating_outside_scale_names_value_line_and_range(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER + "1,10,4.0,100\n1,11,5.5,100\n")
    read_ratings_csv(path)  # no scale: any finite rating is fine
    with pytest.raises(DataValidationError) as exc:
        read_ratings_csv(path, scale=(0.5, 5.0))
    message = one_line(exc)
    assert "line 3" in message and "'rating'" in message
    assert "5.5" in message and "0.5 to 5.0" in message


def test_release_scale_is_enforced(tmp_path: Path) -> None:
    folder = tmp_path / "ml-100k"
    shutil.copytree(FIXTURES / "ml-100k", folder)
    with open(folder / "u.data", "a") as f:
        f.write("196\t302\t0.5\t881250999\n")  # half stars do not exist in ml-100k
    n_lines = len((folder / "u.data").read_text().splitlines())
    with pytest.raises(DataValidationError) as exc:
        read_release("ml-100k", tmp_path)
    assert exc.value.line == n_lines
    assert "1.0 to 5.0" in str(exc.value)


# --- missing timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["NaN", "", "nan", "NA"])
def test_nan_timestamp_names_the_line(tmp_path: Path, missing: str) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER + f"1,10,4.0,100\n1,11,4.0,{missing}\n")
    with pytest.raises(DataValidationError) as exc:
        read_ratings_csv(path)
    message = one_line(exc)
    assert "line 3" in message and "'timestamp'" in message and "missing" in message


def test_nan_rating_names_the_line(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER + "1,10,NaN,100\n")
    with pytest.raises(DataValidationError, match=r"line 2, column 'rating': missing rating"):
        read_ratings_csv(path)


# --- empty and absent files -----------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", "")
    with pytest.raises(EmptyDataError, match="empty") as exc:
        read_ratings_csv(path)
    assert str(path) in one_line(exc)


def test_header_only_file(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER)
    with pytest.raises(EmptyDataError, match="no data rows"):
        read_ratings_csv(path)


def test_file_not_found_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "nope" / "ratings.csv"
    with pytest.raises(DataNotFoundError) as exc:
        read_ratings_csv(path)
    assert str(path) in one_line(exc)
    assert isinstance(exc.value, FileNotFoundError)


# --- duplicates: reported by load_dataset --------------------------------------------------------


def test_duplicate_pairs_are_counted_and_the_latest_kept(tmp_path: Path) -> None:
    rows = [
        "1,10,4.0,100",
        "1,10,2.0,300",
        "1,10,3.0,200",
        "2,10,5.0,100",
        "2,20,1.0,100",
        "2,20,2.0,50",
    ]
    path = write_file(tmp_path, "ratings.csv", HEADER + "\n".join(rows) + "\n")
    with pytest.warns(DataQualityWarning) as record:
        ds = load_dataset(path)
    expected_dups = len(rows) - len({r.split(",")[0] + "," + r.split(",")[1] for r in rows})
    assert ds.n_duplicates_dropped == expected_dups == 3
    assert any(f"{expected_dups} duplicate" in str(w.message) for w in record)
    frame = ds.to_frame().set_index([C.USER, C.ITEM])
    assert frame.loc[(1, 10), C.RATING] == 2.0  # timestamp 300 is the latest
    assert frame.loc[(2, 20), C.RATING] == 1.0


def test_no_warning_without_duplicates() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        ds = load_dataset(FIXTURES / "ml-20m" / "ratings.csv")
    assert ds.n_duplicates_dropped == 0


# --- validate_ratings on frames --------------------------------------------------------------------


def test_validate_ratings_casts_to_the_canonical_dtypes() -> None:
    df = pd.DataFrame(
        {C.USER: ["1", "2"], C.ITEM: [10.0, 20.0], C.RATING: ["4.5", 3], C.TIMESTAMP: [1, 2]}
    )
    out = validate_ratings(df, source="frame", scale=(0.5, 5.0))
    assert {c: str(t) for c, t in out.dtypes.items()} == {
        C.USER: "int32",
        C.ITEM: "int32",
        C.RATING: "float32",
        C.TIMESTAMP: "int64",
    }
    np.testing.assert_array_equal(out[C.USER], [1, 2])
    np.testing.assert_allclose(out[C.RATING], [4.5, 3.0])


def test_validate_ratings_reports_rows_when_there_are_no_lines() -> None:
    df = pd.DataFrame(
        {C.USER: [1, 2, 3], C.ITEM: [1.0, 2.5, 3.0], C.RATING: [1.0] * 3, C.TIMESTAMP: [1] * 3}
    )
    with pytest.raises(DataValidationError, match=r"row 2: value 2\.5 is not an integer") as exc:
        validate_ratings(df, source="x.parquet", line_of=None)
    assert exc.value.line is None


def test_validate_ratings_default_lines_assume_one_header_line() -> None:
    df = pd.DataFrame(
        {C.USER: [1, None], C.ITEM: [1, 2], C.RATING: [1.0, 2.0], C.TIMESTAMP: [1, 2]}
    )
    with pytest.raises(DataValidationError) as exc:
        validate_ratings(df, source="r.csv")
    assert exc.value.line == 3


def test_validate_ratings_does_not_mutate_its_input() -> None:
    df = pd.DataFrame({C.USER: ["1"], C.ITEM: ["2"], C.RATING: ["3"], C.TIMESTAMP: ["4"]})
    before = df.copy()
    validate_ratings(df, source="frame")
    pd.testing.assert_frame_equal(df, before)
