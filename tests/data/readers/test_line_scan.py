"""The slow line-by-line scan: a file that fails to parse gets an error naming its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from movielens_lessons import columns as C
from movielens_lessons.data.readers import (
    read_movies_csv,
    read_ratings_csv,
    read_ratings_dat,
    read_u_data,
)
from movielens_lessons.errors import DataValidationError

from ..rating_files import HEADER, one_line, write_file


def test_non_numeric_id_names_file_line_column_and_value(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER + "1,10,4.0,100\n1,11,4.0,100\n2,abc,3.0,100\n")
    with pytest.raises(DataValidationError) as exc:
        read_ratings_csv(path)
    message = one_line(exc)
    assert message.startswith(f"{path}, line 4, column 'movieId'")
    assert "'abc'" in message and "integer" in message
    assert (exc.value.path, exc.value.line, exc.value.value) == (str(path), 4, "abc")


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    # line 1 header, 2 data, 3 blank, 4-5 one record whose quoted field spans two lines, 6 bad.
    text = 'userId,movieId,rating,timestamp\n1,10,4.0,100\n\n1,11,4.0,"1\n00"\nx,12,3.0,100\n'
    path = write_file(tmp_path, "ratings.csv", text)
    with pytest.raises(DataValidationError) as exc:
        read_ratings_csv(path)
    # The first fault is the line break inside a number, on the line where that record starts.
    assert (exc.value.line, exc.value.column) == (4, C.TIMESTAMP)
    assert "\n" not in str(exc.value)


def test_line_numbers_after_a_multi_line_title(tmp_path: Path) -> None:
    text = 'movieId,title,genres\n1,"Two\nlines (1999)",Drama\n2,ok (2000),Drama\nX,bad,Drama\n'
    path = write_file(tmp_path, "movies.csv", text)
    with pytest.raises(DataValidationError) as exc:
        read_movies_csv(path)
    assert (exc.value.line, exc.value.column, exc.value.value) == (5, C.ITEM, "X")


def test_blank_lines_shift_the_reported_line(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER + "1,10,4.0,100\n\n\n7x,11,4.0,100\n")
    with pytest.raises(DataValidationError) as exc:
        read_ratings_csv(path)
    assert exc.value.line == 5 and exc.value.column == C.USER


def test_non_numeric_id_in_a_dat_file(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.dat", "1::10::4::100\n1::eleven::4::100\n")
    with pytest.raises(
        DataValidationError, match=r"ratings\.dat, line 2, column 'movieId'.*'eleven'"
    ):
        read_ratings_dat(path)


def test_single_colon_in_a_dat_file_is_not_silently_accepted(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.dat", "1::10::4::100\n1:10::4::100::\n")
    with pytest.raises(DataValidationError) as exc:
        read_ratings_dat(path)
    assert exc.value.line == 2


def test_non_numeric_id_in_u_data(tmp_path: Path) -> None:
    path = write_file(tmp_path, "u.data", "1\t10\t4\t100\n2\t20\t3\t100\nu3\t30\t3\t100\n")
    with pytest.raises(DataValidationError, match=r"u\.data, line 3, column 'userId'.*'u3'"):
        read_u_data(path)


def test_wrong_number_of_fields_names_the_line(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER + "1,10,4.0,100\n1,11,4.0\n")
    with pytest.raises(DataValidationError, match=r"line 3: expected 4 fields.*found 3"):
        read_ratings_csv(path)


def test_id_outside_int32_is_an_error(tmp_path: Path) -> None:
    path = write_file(tmp_path, "ratings.csv", HEADER + "1,10,4.0,100\n1,99999999999,4.0,100\n")
    with pytest.raises(DataValidationError) as exc:
        read_ratings_csv(path)
    assert exc.value.line == 3 and exc.value.column == C.ITEM
