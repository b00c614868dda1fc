"""Notebooks are stored without outputs: CI executes them, so every number shown is current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS][:3] == ["01_eda.ipynb", "02_train.ipynb", "03_evaluate.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    stale = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]  # fmt: skip
    assert not stale, (f"{path.name}: cells {stale} hold outputs; clear them "
                       f"(jupyter nbconvert --clear-output --inplace {path.name})")  # fmt: skip
