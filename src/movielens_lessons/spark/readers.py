"""MovieLens ratings and bring-your-own interaction files read straight into Spark DataFrames.

The distributed twin of :mod:`movielens_lessons.data.readers`: the same files, the same canonical
schema, the same validation rules, read by Spark's own text and Parquet readers (no pandas, no driver
round trip), so that a ratings file larger than the driver's memory can be read on a cluster.

Output: ``userId`` int, ``movieId`` int, ``rating`` float, ``timestamp`` bigint (seconds since 1970,
UTC) — the columns of :data:`movielens_lessons.columns.RATINGS_COLUMNS`, Spark's names for the
int32/float32/int64 of the single-machine frame; ``rating``/``timestamp`` are absent where a user's
file has none. Rows keep the file's duplicates (``Dataset.from_frame`` resolves those).

- :func:`read_ratings`: one release ratings file by format: ``ratings.csv`` (header
  ``userId,movieId,rating,timestamp``), ``ratings.dat`` (``::``, no header), ``u.data`` (TAB, no
  header).
- :func:`read_release_ratings`: a release's ratings by name, from the data folder.
- :func:`read_interactions`: a user's CSV (any separator, with a header) or Parquet file, or a folder
  of such part files, with the column mapping and timestamp units of the single-machine reader.
- :func:`read_source`: a release name, an extracted release folder or a file, as
  :func:`movielens_lessons.data.loading.read_source`.

Validation is eager (one aggregation pass over the file) and follows
:func:`~movielens_lessons.data.readers.validate.validate_ratings`: required columns, at least one row,
ids whole numbers in int32 range, ratings finite and within the release's scale, timestamps whole
numbers in int64 range; text files also need the same number of fields on every line, and the
strings pyarrow reads as null (``NA``, ``null``, ...) count as missing. The error is a
:class:`~movielens_lessons.errors.DataValidationError` naming the file, the line (text; header and
empty lines count, as in an editor) or 1-based row (Parquet), the column and the value, for the first
offending row of the first rule broken, rules checked column by column as the single-machine reader
does. Text input: a field may be wrapped in double quotes (``"5"``) but may not hold the separator;
interaction files are numbers. Text timestamps must be numbers (``timestamp_unit`` ``s``, ``ms``,
``us``, ``ns``); Parquet timestamp columns are converted to seconds (a zone-less one taken as UTC).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlparse

import numpy as np
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from movielens_lessons import columns as C
from movielens_lessons.data.locate import release_dir
from movielens_lessons.data.readers.dat_release import SEP as DAT_SEP
from movielens_lessons.data.readers.interactions import PARQUET_SUFFIXES, UNITS, is_parquet
from movielens_lessons.data.readers.line_scan import NULL_STRINGS
from movielens_lessons.data.releases import (
    FORMAT_100K,
    FORMAT_CSV,
    FORMAT_DAT,
    RELEASES,
    Release,
    get_release,
)
from movielens_lessons.errors import (
    ConfigError,
    DataNotFoundError,
    DataValidationError,
    EmptyDataError,
    MissingColumnError,
)


@dataclass(frozen=True)
class TextLayout:
    """How a delimited ratings file is laid out: its ratings file name in a release folder, the
    field separator, and whether the first non-empty line is a header."""

    file: str
    sep: str
    header: bool


#: Each release format's ratings file (see :mod:`movielens_lessons.data.releases`).
LAYOUTS: dict[str, TextLayout] = {
    FORMAT_CSV: TextLayout("ratings.csv", ",", header=True),
    FORMAT_DAT: TextLayout("ratings.dat", DAT_SEP, header=False),
    FORMAT_100K: TextLayout("u.data", "\t", header=False),
}

#: Spark's type of each canonical column (int32, int32, float32, int64 on a single machine).
SPARK_TYPES = {C.USER: "int", C.ITEM: "int", C.RATING: "float", C.TIMESTAMP: "bigint"}

_INT32 = np.iinfo(np.int32)
_INT64 = np.iinfo(np.int64)
_INT_RE = r"^[+-]?[0-9]+$"
_FLOAT_RE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$|^[+-]?(inf|Infinity|NaN|nan)$"
_ID, _FILE, _VALUE = "_row_id", "_file", "value"
_IDS = "ids"
_TIMES = "timestamps (seconds since 1970, UTC)"


# --- entry points ------------------------------------------------------------------------------


def read_ratings(
    spark: Any, path: str | os.PathLike[str], *, format: str = FORMAT_CSV,
    scale: tuple[float, float] | None = None,
) -> DataFrame:
    """A release ratings file (``ratings.csv``, ``ratings.dat`` or ``u.data``, by ``format``: one of
    :data:`LAYOUTS`) → canonical DataFrame, validated against ``scale`` (``(min, max)``)."""
    if format not in LAYOUTS:
        raise ConfigError(f"unknown ratings format {format!r}; known: {', '.join(LAYOUTS)}")
    layout = LAYOUTS[format]
    mapping = {c: c for c in C.RATINGS_COLUMNS}
    names = None if layout.header else list(C.RATINGS_COLUMNS)
    return _read_text(spark, os.fspath(path), mapping, layout.sep, names, "s", scale,
                      typed_ids=True)


def read_release_ratings(
    spark: Any, release: str | Release, data_dir: str | os.PathLike[str] | None = None,
    *, folder: str | os.PathLike[str] | None = None,
) -> DataFrame:
    """A release's ratings from its folder (``folder``, else the data folder's, as
    :func:`~movielens_lessons.data.locate.release_dir`), validated against its rating scale."""
    rel = get_release(release) if isinstance(release, str) else release
    where = Path(folder) if folder is not None else release_dir(rel, data_dir)
    path = where / LAYOUTS[rel.format].file
    if not path.is_file():
        raise DataNotFoundError(
            f"{where}: {rel.name} is not there (missing {path.name}); "
            f"run: movielens-lessons data download {rel.name}"
        )
    return read_ratings(spark, path, format=rel.format, scale=rel.rating_scale)


def read_interactions(
    spark: Any,
    path: str | os.PathLike[str],
    *,
    user_col: str = C.USER,
    item_col: str = C.ITEM,
    rating_col: str | None = C.RATING,
    timestamp_col: str | None = C.TIMESTAMP,
    sep: str = ",",
    timestamp_unit: str = "s",
    scale: tuple[float, float] | None = None,
) -> DataFrame:
    """A user's CSV (with a header) or Parquet file, or a folder of part files → canonical DataFrame
    ``userId, movieId[, rating][, timestamp]``; options as
    :func:`movielens_lessons.data.readers.read_interactions` (``timestamp_unit``: ``s``, ``ms``,
    ``us`` or ``ns``)."""
    if timestamp_col is not None and timestamp_unit not in UNITS:
        raise ConfigError(
            f"timestamp_unit {timestamp_unit!r}: the Spark reader takes numeric timestamps in "
            f"{', '.join(UNITS)}; convert dates to epoch seconds first"
        )
    mapping = {C.USER: user_col, C.ITEM: item_col}
    if rating_col is not None:
        mapping[C.RATING] = rating_col
    if timestamp_col is not None:
        mapping[C.TIMESTAMP] = timestamp_col
    if len(set(mapping.values())) != len(mapping):
        raise ConfigError(f"one file column is mapped to two roles: {mapping}")
    source = os.fspath(path)
    if _is_parquet(source):
        return _read_parquet(spark, source, mapping, timestamp_unit, scale)
    return _read_text(spark, source, mapping, sep, None, timestamp_unit, scale,
                      typed_ids=False)


def read_source(
    spark: Any, source: str | os.PathLike[str], *,
    data_dir: str | os.PathLike[str] | None = None, **interaction_options: Any,
) -> DataFrame:
    """The ratings of ``source``: a release name (``"ml-1m"``), an extracted release folder
    (``.../ml-10M100K``), or a ratings file or folder of part files (:func:`read_interactions`)."""
    if isinstance(source, str) and source in RELEASES:
        if interaction_options:
            raise ConfigError(f"options {sorted(interaction_options)} apply to your own files, "
                              f"not to the release {source!r}")
        return read_release_ratings(spark, source, data_dir)
    path = Path(source).expanduser()
    release = next((r for r in RELEASES.values() if path.is_dir() and path.name == r.folder), None)
    if release is not None:
        if interaction_options:
            raise ConfigError(f"options {sorted(interaction_options)} apply to ratings files, "
                              "not to a release folder")
        return read_release_ratings(spark, release, folder=path)
    return read_interactions(spark, source, **interaction_options)


# --- reading -----------------------------------------------------------------------------------


def _local(path: str | os.PathLike[str]) -> Path | None:
    """``path`` as a local Path, or None for a URI Spark resolves itself (``s3a://``, ``hdfs://``)."""
    text = os.fspath(path)
    scheme = urlparse(text).scheme
    if scheme == "file":
        return Path(unquote(urlparse(text).path))
    return None if len(scheme) > 1 else Path(text)  # one letter: a Windows drive


def _check_path(path: str | os.PathLike[str]) -> str:
    """The path Spark reads, after checking that a local one exists."""
    local = _local(path)
    if local is not None:
        if not local.exists():
            raise DataNotFoundError(f"{local}: file not found")
        return str(local.resolve())
    return os.fspath(path)


def _is_parquet(path: str | os.PathLike[str]) -> bool:
    local = _local(path)
    if local is None:
        return os.fspath(path).lower().endswith(PARQUET_SUFFIXES)
    if local.is_dir():
        return any(p.suffix.lower() in PARQUET_SUFFIXES for p in local.iterdir())
    return local.is_file() and local.stat().st_size > 0 and is_parquet(local)


def _unquote(field: Column) -> Column:
    """A field without surrounding whitespace and one pair of double quotes (``"5"`` → ``5``)."""
    trimmed = F.trim(field)
    return F.regexp_replace(trimmed, r'^"(.*)"$', "$1")


def _read_text(
    spark: Any, path: str, mapping: Mapping[str, str], sep: str,
    names: list[str] | None, unit: str, scale: tuple[float, float] | None, *, typed_ids: bool,
) -> DataFrame:
    """A delimited file read as lines by Spark's text reader, split on ``sep``; ``names`` are the
    columns of a file without a header (None: the first non-empty line is the header).
    ``typed_ids``: the single-machine reader parses ids as int32 (release files), so an id out of
    that range is a parse error there, found in line order."""
    raw = (spark.read.text(_check_path(path))
           .select(_VALUE, F.col("_metadata.file_path").alias(_FILE),
                   F.monotonically_increasing_id().alias(_ID)))
    lines = raw.where(F.col(_VALUE) != "")
    pattern = "\\Q" + sep + "\\E"  # the separator literally (a Java regex quote)
    if names is None:
        first = lines.select(_VALUE).first()  # partition 0 holds the file's start
        if first is None:
            raise EmptyDataError("file has no header line; expected one naming the columns",
                                 path=path)
        header = first[0]
        names = [f.strip().strip('"') for f in header.split(sep)]
        lines = lines.where(F.col(_VALUE) != header)  # every part file's own header line
    _require(mapping, names, path)
    parts = F.split(F.col(_VALUE), pattern, -1)
    fields = {role: _unquote(F.get(parts, names.index(col))) for role, col in mapping.items()}
    frame = lines.select(_ID, _FILE, _VALUE, F.size(parts).alias("_n_fields"),
                         *[f.alias(role) for role, f in fields.items()])
    shown_sep = "TAB" if sep == "\t" else repr(sep)
    width = F.col("_n_fields") != len(names)
    checks = [Check("fields", "fields", width, F.col(_VALUE), parse=True)]
    for role in mapping:
        checks += _text_checks(role, F.col(role), scale, text=True, typed_ids=typed_ids)
    _validate(frame, raw, checks, path, mapping, text=True, width=(len(names), shown_sep),
              scale=scale)
    out = [_text_value(role, F.col(role), unit) for role in mapping]
    return frame.select(*out)


def _read_parquet(
    spark: Any, path: str, mapping: Mapping[str, str], unit: str,
    scale: tuple[float, float] | None,
) -> DataFrame:
    local = _local(path)
    if local is not None and local.is_file() and local.stat().st_size == 0:
        raise EmptyDataError("file is empty (0 bytes); expected data rows", path=path)
    raw = (spark.read.parquet(_check_path(path))
           .select("*", F.col("_metadata.file_path").alias(_FILE),
                   F.monotonically_increasing_id().alias(_ID)))
    _require(mapping, [f.name for f in raw.schema.fields if f.name not in (_FILE, _ID)], path)
    frame = raw.select(_ID, _FILE, *[F.col(f"`{col}`").alias(role) for role, col in mapping.items()])
    kinds = {role: frame.schema[role].dataType for role in mapping}
    checks: list[Check] = []
    for role in mapping:
        checks += _typed_checks(role, F.col(role), kinds[role], scale)
    _validate(frame, frame, checks, path, mapping, text=False, width=None, scale=scale)
    return frame.select(*[_typed_value(role, F.col(role), kinds[role], unit) for role in mapping])


def _require(mapping: Mapping[str, str], found: list[str], path: str) -> None:
    for role, col in mapping.items():
        if col not in found:
            extra = "" if role == col else f" (the {role} column)"
            raise MissingColumnError(f"missing column {col!r}{extra}; found columns {found}",
                                     path=path, column=col)


# --- the rules ---------------------------------------------------------------------------------


class Check(NamedTuple):
    """One rule: the canonical column (or ``"fields"``), its kind, the condition a row breaks it
    under, the offending value as Spark shows it, and whether the single-machine reader finds it
    while parsing (text only: the first such line in file order, whatever its column) rather than
    while validating (column by column, malformed values before out-of-range ones)."""

    role: str
    kind: str  # fields | missing | integer | number | finite | range | scale
    condition: Column
    value: Column
    parse: bool = False


_LATER = {"range", "scale"}  # within a column, validation reports these after every other kind


def _missing_text(v: Column) -> Column:
    return v.isNull() | v.isin(*sorted(NULL_STRINGS))


def _text_checks(role: str, v: Column, scale: tuple[float, float] | None, *, text: bool,
                 typed_ids: bool) -> list[Check]:
    """Rules on a text field; ``text``: a text file (parse errors first); ``typed_ids``: ids parsed
    as int32 (release files), so out-of-range ids are parse errors too."""
    missing = _missing_text(v)
    if role == C.RATING:
        number = v.try_cast("double")
        parses = v.rlike(_FLOAT_RE)
        checks = [Check(role, "missing", missing, v),
                  Check(role, "number", ~missing & ~parses, v, parse=text),
                  Check(role, "finite", parses & (F.isnan(number) | (F.abs(number) == float("inf"))),
                        v)]
        if scale is not None:
            outside = (number < float(scale[0])) | (number > float(scale[1]))
            checks.append(Check(role, "scale", outside, number.cast("string")))
        return checks
    info = _INT64 if role == C.TIMESTAMP else _INT32
    whole = v.rlike(_INT_RE)
    number = v.try_cast("long")  # null beyond int64
    outside = whole & (number.isNull() | (number < int(info.min)) | (number > int(info.max)))
    return [Check(role, "missing", missing, v),
            Check(role, "integer", ~missing & ~whole, v, parse=text),
            Check(role, "range", outside, v,
                  parse=text and (typed_ids or role == C.TIMESTAMP))]


def _typed_checks(role: str, v: Column, kind: T.DataType, scale: tuple[float, float] | None
                  ) -> list[Check]:
    """Rules on a typed (Parquet) column, as ``validate_ratings`` applies them to its dtype."""
    if isinstance(kind, T.StringType):
        return _text_checks(role, v, scale, text=False, typed_ids=False)
    text = v.cast("string")
    if role == C.TIMESTAMP and isinstance(kind, (T.TimestampType, T.TimestampNTZType)):
        return [Check(role, "missing", v.isNull(), text)]
    numeric = isinstance(kind, T.NumericType)
    number = v.cast("double") if numeric else F.lit(None).cast("double")
    missing = v.isNull() | (F.isnan(number) if numeric else F.lit(False))
    if role == C.RATING:
        checks = [Check(role, "missing", missing, text),
                  Check(role, "finite", ~missing & (number.isNull()
                                                    | (F.abs(number) == float("inf"))), text)]
        if scale is not None:
            outside = (number < float(scale[0])) | (number > float(scale[1]))
            checks.append(Check(role, "scale", outside, text))
        return checks
    info = _INT64 if role == C.TIMESTAMP else _INT32
    if isinstance(kind, T.IntegralType):
        whole: Column = F.lit(True)
        long_value = v.cast("long")
        outside = (long_value < int(info.min)) | (long_value > int(info.max))
    else:
        whole = F.lit(numeric) & (F.abs(number) < float("inf")) & (number == F.floor(number))
        # doubles hold the int32 bounds exactly; int64's upper one is 2**63
        top = (number >= 2.0 ** 63) if role == C.TIMESTAMP else (number > float(info.max))
        outside = whole & ((number < float(info.min)) | top)
    return [Check(role, "missing", missing, text),
            Check(role, "integer", ~missing & ~whole, text),
            Check(role, "range", outside, text)]


def _floor_div(v: Column, unit: str) -> Column:
    """``v // UNITS[unit]`` exactly (floor division, as the single-machine reader)."""
    d = UNITS[unit]
    return v if d == 1 else ((v - F.pmod(v, F.lit(d))) / F.lit(d)).cast("long")


def _text_value(role: str, v: Column, unit: str) -> Column:
    if role == C.RATING:
        return v.try_cast("double").cast("float").alias(role)
    value = v.try_cast("long")
    if role == C.TIMESTAMP:
        value = _floor_div(value, unit)
    return value.cast(SPARK_TYPES[role]).alias(role)


def _typed_value(role: str, v: Column, kind: T.DataType, unit: str) -> Column:
    if isinstance(kind, T.StringType):
        return _text_value(role, v, unit)
    if role == C.TIMESTAMP and isinstance(kind, T.TimestampType):
        return F.floor(F.unix_micros(v) / 1_000_000).cast("bigint").alias(role)
    if role == C.TIMESTAMP and isinstance(kind, T.TimestampNTZType):
        micros = F.expr(f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', `{role}`)")
        return F.floor(micros / 1_000_000).cast("bigint").alias(role)
    if role == C.RATING:
        return v.cast("double").cast("float").alias(role)
    value = v.cast("long") if isinstance(kind, T.IntegralType) else F.floor(v).cast("long")
    if role == C.TIMESTAMP:
        value = _floor_div(value, unit)
    return value.cast(SPARK_TYPES[role]).alias(role)


# --- running the checks and naming the first offence ----------------------------------------------


def _validate(
    frame: DataFrame, raw: DataFrame, checks: list[Check], path: str, mapping: Mapping[str, str],
    *, text: bool, width: tuple[int, str] | None, scale: tuple[float, float] | None,
) -> None:
    """One aggregation pass: the row count and, per rule, the first row (by position) breaking it;
    then the offence the single-machine reader would name first: parse errors in file order, then
    column by column, malformed values anywhere before out-of-range ones."""
    aggs = [F.count(F.lit(1)).alias("_n")]
    for i, check in enumerate(checks):
        first = F.struct(F.col(_ID), F.col(_FILE), check.value.alias("v"))
        aggs.append(F.min(F.when(F.coalesce(check.condition, F.lit(False)), first)).alias(f"_c{i}"))
    row = frame.agg(*aggs).first()
    assert row is not None
    if row["_n"] == 0:
        labels = ", ".join(mapping.values())
        raise EmptyDataError(f"no data rows; expected rows of {labels}", path=path)
    hits = [(check, row[f"_c{i}"]) for i, check in enumerate(checks) if row[f"_c{i}"] is not None]
    if not hits:
        return
    roles = ["fields", *mapping]

    def order(item: tuple[Check, Any]) -> tuple[int, int, int, int]:
        check, hit = item
        if check.parse:
            return 0, 0, 0, hit[_ID]
        return 1, roles.index(check.role), int(check.kind in _LATER), hit[_ID]

    check, hit = min(hits, key=order)  # min is stable: "missing" wins a tie
    role = check.role
    if check.parse and role != "fields":
        message, bad = _parse_message(role, check.kind, hit["v"])
    else:
        message, bad = _message(role, check.kind, hit["v"], text, width, scale)
    before = raw.where((F.col(_FILE) == hit[_FILE]) & (F.col(_ID) < hit[_ID])).count()
    local = _local(path)
    source = _file_path(hit[_FILE]) if local is not None and local.is_dir() else path
    column = None if role == "fields" else mapping[role]
    if text:
        raise DataValidationError(message, path=source, line=before + 1, column=column,
                                  value=bad)
    raise DataValidationError(f"row {before + 1}: {message}", path=source, column=column,
                              value=bad)


def _file_path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


def _message(role: str, kind: str, raw: str | None, text: bool, width: tuple[int, str] | None,
             scale: tuple[float, float] | None) -> tuple[str, object]:
    """The single-machine reader's words for a broken rule, and the value at fault."""
    value: object = raw if text or raw is None else _number(raw)
    if role == "fields":
        assert width is not None and raw is not None
        n, sep = width
        found = len(raw.split("\t" if sep == "TAB" else sep[1:-1]))
        return f"expected {n} fields separated by {sep}, found {found}", raw
    if role == C.RATING:
        if kind == "missing":
            return "missing rating (empty or NaN); ratings must be numbers", value
        if kind == "number":
            return f"value {value!r} is not a finite number", value
        if kind == "finite":
            number = float(raw) if raw is not None else math.nan
            return f"value {number!r} is not a finite number", number
        assert scale is not None and raw is not None
        rating = float(raw)
        return (f"rating {rating} is outside the allowed range {float(scale[0])} to "
                f"{float(scale[1])}"), rating
    what = _TIMES if role == C.TIMESTAMP else _IDS
    if kind == "missing":
        return f"missing value (empty or NaN); {what} must be integers", value
    if kind == "integer":
        return f"value {value!r} is not an integer; {what} must be integers", value
    info = _INT64 if role == C.TIMESTAMP else _INT32
    number = int(float(raw)) if raw is not None and not text else int(raw or 0)
    return f"value {number} is out of range; allowed {info.min}..{info.max}", number


def _parse_message(role: str, kind: str, raw: str) -> tuple[str, object]:
    """The single-machine parser's words (its line scan: ``line_scan.diagnose``) for a bad field."""
    if kind == "number":
        return f"value {raw!r} is not a number", raw
    if kind == "integer":
        return f"value {raw!r} is not an integer", raw
    bits, info = (64, _INT64) if role == C.TIMESTAMP else (32, _INT32)
    return f"value {raw!r} is outside the int{bits} range {info.min}..{info.max}", raw


def _number(raw: str) -> object:
    try:
        return int(raw)
    except ValueError:
        try:
            return float(raw)
        except ValueError:
            return raw


__all__ = [
    "LAYOUTS",
    "SPARK_TYPES",
    "TextLayout",
    "read_interactions",
    "read_ratings",
    "read_release_ratings",
    "read_source",
]
