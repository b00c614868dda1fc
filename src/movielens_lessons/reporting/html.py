"""The HTML shell every report and page shares: one inline stylesheet, the page's opening and
closing tags, figures embedded as base64 PNG, and an optional inline script that sorts tables, so
that a page is one self-contained file (no network).

A page is ``"\\n".join`` of :func:`page_start`, its :func:`nav_link` entries, ``"</nav>"``, its
sections and :data:`PAGE_END` (preceded by :data:`SORT_SCRIPT` if it has sortable tables).
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
nav a{margin-right:.8rem}table.sortable th{position:relative}
table.sortable th button{font:inherit;color:inherit;background:none;border:0;padding:0;
cursor:pointer;text-align:inherit;display:block;width:100%}
table.sortable th[aria-sort] button::after{position:absolute;right:0;bottom:.45rem;font-size:.55em}
table.sortable th[aria-sort=ascending] button::after{content:"\\25B2"}
table.sortable th[aria-sort=descending] button::after{content:"\\25BC"}
"""

#: Makes every ``<table class='sortable'>`` sort its body rows when a column header is clicked
#: (the header becomes a button): ascending first, descending on the next click, unless the
#: header's ``aria-sort`` says the table is already sorted that way; ``aria-sort`` follows. A cell
#: sorts on its ``data-sort`` attribute if it has one, else on its text; numbers as numbers. Rows
#: with no value in the column (empty, or a cell spanning it) stay last. Put it before
#: :data:`PAGE_END`.
SORT_SCRIPT = """<script>
(() => {
  const valueAt = (row, col) => {  // the sort key of the row's cell in column col; null if none
    let c = 0;
    for (const cell of row.cells) {
      if (c === col && cell.colSpan === 1) {
        const v = (cell.dataset.sort ?? cell.textContent).trim();
        return v === '' ? null : v;
      }
      c += cell.colSpan;
      if (c > col) return null;
    }
    return null;
  };
  const compare = (a, b) => {
    const x = Number(a), y = Number(b);
    return Number.isNaN(x) || Number.isNaN(y) ? a.localeCompare(b) : x - y;
  };
  for (const table of document.querySelectorAll('table.sortable')) {
    const heads = Array.from(table.tHead.rows[table.tHead.rows.length - 1].cells);
    heads.forEach((th, col) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.append(...th.childNodes);
      th.append(button);
      button.addEventListener('click', () => {
        const dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
        for (const other of heads) other.removeAttribute('aria-sort');
        th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
        for (const body of table.tBodies) {
          const rows = Array.from(body.rows, (row, i) => [valueAt(row, col), i, row]);
          rows.sort(([a, i], [b, j]) => a === null || b === null
            ? (a === null) - (b === null) || i - j : dir * compare(a, b) || i - j);
          body.append(...rows.map(r => r[2]));
        }
      });
    });
  }
})();
</script>"""

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
