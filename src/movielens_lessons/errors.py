"""Every error and warning type the library raises.

Each message is one line that names the file, line, column or value at fault and what was allowed; the CLI
prints ``str(error)`` and exits non-zero, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class MovieLensError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code: int = 1


# --- data: finding, downloading, verifying ---------------------------------------------------------


class UnknownReleaseError(MovieLensError, KeyError):
    """A release name that is not in the catalogue."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(f"unknown MovieLens release {name!r}; known: {', '.join(known)}")

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class DataNotFoundError(MovieLensError, FileNotFoundError):
    """A file or release that is not where it was looked for."""


class DownloadError(MovieLensError):
    """A download that failed (network, HTTP status, interrupted transfer)."""


class ChecksumError(DownloadError):
    """Downloaded or imported bytes whose hash or size differs from the pinned one."""


class ArchiveError(DownloadError):
    """A file that should be a MovieLens zip but is not one (truncated, HTML page, missing members)."""


# --- data: reading and validating ------------------------------------------------------------------


class DataValidationError(MovieLensError, ValueError):
    """Input data that breaks the schema; the message names the file and, where known, line and column."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column
        self.value = value
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class MissingColumnError(DataValidationError):
    """A required column that the file does not have."""


class EmptyDataError(DataValidationError):
    """A file with no data rows."""


class ConfigError(MovieLensError, ValueError):
    """A bad option, parameter or configuration value."""


# --- models -------------------------------------------------------------------------------------


class NotFittedError(MovieLensError, RuntimeError):
    """A model used before ``fit``."""


class MissingExtraError(MovieLensError, ImportError):
    """An optional framework that is not installed; the message names the pip command that fixes it."""

    def __init__(self, module: str, extra: str) -> None:
        self.module = module
        self.extra = extra
        super().__init__(
            f'{module!r} is not installed; run: pip install "movielens-lessons[{extra}]"'
        )


class SystemDependencyError(MovieLensError, RuntimeError):
    """A program outside Python that a framework needs (Java for Spark) is missing or too old; the
    message says which, what was found and how to install it."""


# --- experiments --------------------------------------------------------------------------------


class RunFailedError(MovieLensError):
    """A benchmark run that stopped before it was complete; nothing of it was kept but ``log``, the
    traceback file the message names (``None`` if even that could not be written)."""

    def __init__(self, message: str, log: Path | None = None, exit_code: int = 1) -> None:
        self.log = log
        self.exit_code = exit_code  # the cause's, when it was one of ours
        super().__init__(message)


# --- warnings -----------------------------------------------------------------------------------


class DataQualityWarning(UserWarning):
    """Input that was repaired by a documented policy (e.g. duplicate pairs dropped)."""
