"""MkDocs hook: the executed notebooks become pages of the site.

``tests/test_notebooks.py`` executes every ``notebooks/*.ipynb`` once and writes the executed copy to
``build/notebooks/``; this hook adds those copies to the site (mkdocs-jupyter renders them, without
executing them again) and lists them, in file-name order, under the nav's "Notebooks" section. A
notebook with no executed copy, or with a copy whose cells differ from the notebook's, is a warning:
``mkdocs build --strict`` fails on it, and ``make docs`` executes the missing ones first.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "notebooks"  # where tests/test_notebooks.py writes the executed copies
SECTION = "Notebooks"
SITE_FOLDER = EXECUTED.name  # a notebook's page is notebooks/<name>/ in the site

log = logging.getLogger("mkdocs.hooks.notebooks")


def _sources() -> list[Path]:
    return sorted(SOURCES.glob("*.ipynb"))


def _cell_sources(path: Path) -> list[tuple[str, str]]:
    """Each cell's type and source text: what an executed copy must share with its notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(cell["cell_type"], "".join(cell["source"])) for cell in cells]


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Append every executed notebook to the nav's Notebooks section (after the pages listed there).

    A notebook without an executed copy is left out of the nav; :func:`on_files` warns about it.
    """
    for entry in config.nav or []:
        if isinstance(entry, dict) and SECTION in entry:
            listed = list(entry[SECTION] or [])
            pages = [f"{SITE_FOLDER}/{p.name}" for p in _sources() if (EXECUTED / p.name).is_file()]
            entry[SECTION] = listed + [page for page in pages if page not in listed]
            return config
    log.warning("mkdocs.yml's nav has no %r section for the notebooks", SECTION)
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which turns .ipynb files into pages
def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the executed copy of each notebook; warn about a missing or out-of-date one."""
    for source in _sources():
        executed = EXECUTED / source.name
        if not executed.is_file():
            log.warning(
                "notebooks/%s has no executed copy in build/notebooks/: run `make notebooks` "
                "(or the notebook tests: pytest tests/test_notebooks.py)",
                source.name,
            )
            continue
        if _cell_sources(executed) != _cell_sources(source):
            log.warning(
                "build/notebooks/%s is out of date (notebooks/%s changed since it was executed): "
                "run `make notebooks`",
                source.name,
                source.name,
            )
        # a real file under src_dir (not File.generated): mkdocs-jupyter reads the notebook from
        # src_dir / src_uri, so the site path notebooks/NAME.ipynb is build/ + notebooks/NAME.ipynb
        files.append(
            File(
                f"{SITE_FOLDER}/{source.name}",
                src_dir=str(EXECUTED.parent),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
    return files
