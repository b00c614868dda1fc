"""``movielens_lessons.reporting`` stands alone: the reports depend on it, not it on them."""

from __future__ import annotations

import subprocess
import sys

import movielens_lessons.reporting as reporting


def test_reporting_imports_no_other_part_of_the_package() -> None:
    code = ("import sys, movielens_lessons.reporting\n"
            "print('\\n'.join(m for m in sys.modules if m.startswith('movielens_lessons.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.split()
    others = {m for m in loaded if not m.startswith("movielens_lessons.reporting")}
    assert others <= {"movielens_lessons.errors", "movielens_lessons.columns"}, others


def test_public_names_are_exported_and_public() -> None:
    assert all(not name.startswith("_") for name in reporting.__all__)
    assert all(hasattr(reporting, name) for name in reporting.__all__)
