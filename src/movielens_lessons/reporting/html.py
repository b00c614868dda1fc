"""The HTML shell every report and page shares: one inline stylesheet, the page's opening and
closing tags, and figures embedded as base64 PNG, so that a page is one self-contained file (no
scripts, no network).

A page is ``"\\n".join`` of :func:`page_start`, its :func:`nav_link` entries, ``"</nav>"``, its
sections and :data:`PAGE_END`.
"""

from __future__ import annotations

import base64
import html

#: The base stylesheet of every page (inline, so the file stands alone).
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.5}h1{border-bottom:3px solid #3b6ea5}h2{margin-top:2.5rem;
color:#3b6ea5}figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#666;font-size:.9rem}table{border-collapse:collapse;margin:.5rem 0}
td,th{border-bottom:1px solid #ddd;padding:.25rem .75rem;text-align:left}.missing{color:#a33}
nav a{margin-right:.8rem}
"""

#: What closes a page opened by :func:`page_start`.
PAGE_END = "</body></html>"


def page_start(title: str, extra_css: str = "") -> str:
    """The page up to its open ``<nav>``: doctype, ``<head>`` with ``title`` and the inline
    :data:`CSS` followed by ``extra_css``, then ``<body>``, ``title`` as ``<h1>`` and ``<nav>``.

    ``title`` is escaped; ``extra_css`` is the page's own rules, inserted as given.
    """
    t = html.escape(title)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{t}</title>\n"
        f"<style>{CSS}{extra_css}</style></head><body><h1>{t}</h1><nav>"
    )


def nav_link(anchor: str, text: str) -> str:
    """A ``<nav>`` entry: ``text`` linking to the element whose id is ``anchor`` (both escaped)."""
    return f"<a href='#{html.escape(anchor)}'>{html.escape(text)}</a>"


def figure_html(png: bytes, name: str, caption: str) -> str:
    """``png`` (PNG file bytes) embedded as a base64 ``data:`` URI in a ``<figure>``, with
    ``caption`` as its alt text and ``<figcaption>``, and ``name`` (e.g. the file stem) as
    ``data-name``."""
    b64 = base64.b64encode(png).decode("ascii")
    esc = html.escape
    return (
        f"<figure><img src='data:image/png;base64,{b64}' alt='{esc(caption)}' "
        f"data-name='{esc(name)}'><figcaption>{esc(caption)}</figcaption></figure>"
    )
