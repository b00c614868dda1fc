"""Notebooks are stored without outputs: CI executes them, so every number shown is current.

Each notebook is executed once per test run, from ``notebooks/`` as Jupyter would run it, and its
executed copy is written to ``build/notebooks/``, which the documentation site renders
(``hooks/notebooks.py``). A notebook that fails leaves no executed copy, so the site's strict build
fails too.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXECUTED = ROOT / "build" / "notebooks"  # read by hooks/notebooks.py
CELL_TIMEOUT_S = 900  # per cell: generous, a model fit in a cell can take minutes on 2 shared cores
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS][:3] == ["01_eda.ipynb", "02_train.ipynb", "03_evaluate.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path: Path) -> None:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    stale = [i for i, cell in enumerate(cells) if cell["cell_type"] == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]  # fmt: skip
    assert not stale, (f"{path.name}: cells {stale} hold outputs; clear them "
                       f"(jupyter nbconvert --clear-output --inplace {path.name})")  # fmt: skip


def _failed_cell(cells: list[dict]) -> str:
    """The first code cell whose outputs hold an error: its index, source and error, as plain text."""
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                trace = _ANSI.sub("", "\n".join(output.get("traceback", [])))
                return f"cell {index}:\n{''.join(cell['source'])}\n{'-' * 40}\n{trace}"
    return "no cell holds an error output"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cell runs without error (kernel python3, working folder notebooks/); the executed
    notebook is kept in build/notebooks/ for the documentation site."""
    # the kernel inherits this process's environment: CI's MPLBACKEND=Agg would keep the inline
    # backend out, and figures drawn with plt.show() would be missing from the site
    monkeypatch.delenv("MPLBACKEND", raising=False)
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError, CellTimeoutError
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI must install the notebooks extra to execute the notebooks")
        pytest.skip("nbclient is not installed (pip install 'movielens-lessons[notebooks]')")
    target = EXECUTED / path.name
    target.unlink(missing_ok=True)  # a failed run must not leave an older copy for the site
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    failure = None  # reported after the except block, so that nbclient's coloured copy is not chained
    try:
        client.execute()
    except CellTimeoutError as error:
        failure = f"{path.name}: a cell ran over {CELL_TIMEOUT_S} s: {_ANSI.sub('', str(error))}"
    except CellExecutionError:
        failure = f"{path.name} failed at {_failed_cell(notebook.cells)}"
    if failure:
        pytest.fail(failure, pytrace=False)
    EXECUTED.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")  # one per concurrent run
    nbformat.write(notebook, partial)
    partial.replace(target)  # whole or absent: the site never reads a half-written notebook
