"""MkDocs hook: the Sphinx roles in the package's docstrings read as plain code in the API reference.

The docstrings name other objects the Sphinx way (``:class:`~movielens_lessons.data.dataset.Dataset```),
which mkdocstrings renders literally as ``:class:`` followed by the code. This drops the role and, as
Sphinx does for a leading ``~``, keeps only the last component of the dotted name.
"""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const):<code>(~?)([^<]*)</code>")


def _plain(match: re.Match[str]) -> str:
    tilde, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Rewrite ``:role:<code>name</code>`` to ``<code>name</code>`` on the API reference pages."""
    if not page.file.src_uri.startswith("api/"):
        return html
    return ROLE.sub(_plain, html)
