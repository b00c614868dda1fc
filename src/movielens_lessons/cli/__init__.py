"""Command-line interface: ``movielens-lessons``. Each command is a thin layer over the library."""

from __future__ import annotations

# Importing the command modules registers their commands on the app.
from movielens_lessons.cli import (  # noqa: F401
    benchmark_command,
    data_fetch,
    data_info,
    data_synth,
    eda_command,
    evaluate_command,
    explain_command,
    imdb_command,
    model_commands,
    serve_command,
    split_command,
)
from movielens_lessons.cli.app import app, main

__all__ = ["app", "main"]
