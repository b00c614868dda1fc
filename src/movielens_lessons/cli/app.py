"""The Typer application and the one place where known errors become a one-line message."""

from __future__ import annotations

import sys
import warnings

import typer
from rich.console import Console

from movielens_lessons.errors import DataQualityWarning, MovieLensError

app = typer.Typer(
    name="movielens-lessons",
    help="How recommender systems are built, measured honestly on MovieLens.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="Find, download, verify, describe and synthesise MovieLens data.", no_args_is_help=True
)
app.add_typer(data_app, name="data")

#: Messages for people go to stderr so that stdout stays machine-readable (``--json``, CSV).
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, DataQualityWarning):
        err_console.print(f"warning: {message}", markup=False)
    else:
        _default_showwarning(message, category, filename, lineno, file, line)


_default_showwarning = warnings.showwarning


def main() -> None:
    """Console-script entry point: run the app, turning known errors into one line and exit code."""
    warnings.showwarning = _show_warning
    try:
        # Standalone mode: Click prints usage errors itself (exit code 2) and turns Ctrl-C into
        # "Aborted!"; our own errors propagate out of it and are printed here as one line.
        app()
    except MovieLensError as exc:
        err_console.print(f"error: {exc}", markup=False)
        sys.exit(exc.exit_code)
