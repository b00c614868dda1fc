"""The HTML shell: escaped titles, one stylesheet, a page whose tags all close, embedded figures."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from movielens_lessons.reporting.html import CSS, PAGE_END, figure_html, nav_link, page_start

VOID = {"meta", "img", "br", "hr", "link", "input"}


class TagStack(HTMLParser):
    """Checks that every non-void tag is closed in order; collects the text of each tag."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.seen: list[str] = []
        self.attrs: dict[str, list[dict[str, str | None]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append(tag)
        self.attrs.setdefault(tag, []).append(dict(attrs))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


def parse(page: str) -> TagStack:
    parser = TagStack()
    parser.feed(page)
    parser.close()
    return parser


def test_a_page_built_as_documented_closes_every_tag() -> None:
    page = "\n".join([
        page_start("T"),
        nav_link("one", "One"),
        "</nav>",
        "<section id='one'><h2>One</h2><p>text</p></section>",
        PAGE_END,
    ])
    parsed = parse(page)
    assert parsed.errors == [] and parsed.stack == []
    assert page.startswith("<!DOCTYPE html><html lang='en'>")
    assert parsed.seen[:7] == ["html", "head", "meta", "title", "style", "body", "h1"]


def test_title_is_escaped_in_title_and_heading() -> None:
    start = page_start("Benchmark: <b>a & b</b> 'q'")
    assert "<b>" not in start
    assert start.count("Benchmark: &lt;b&gt;a &amp; b&lt;/b&gt; &#x27;q&#x27;") == 2
    parsed = parse(start + "</nav>" + PAGE_END)
    assert parsed.errors == [] and parsed.stack == []


def test_the_stylesheet_is_inlined_once_with_the_page_rules_after_it() -> None:
    extra = ".tied{color:#3b6ea5}"
    start = page_start("T", extra)
    assert start.count("<style>") == 1
    assert start.count(CSS) == 1
    assert f"<style>{CSS}{extra}</style>" in start
    assert "<style>" + CSS + "</style>" in page_start("T")
    assert "body{" in CSS and "figure img{" in CSS  # the rules the reports rely on


def test_page_start_puts_the_head_first_and_ends_in_an_open_nav() -> None:
    start = page_start("T")
    assert start.startswith("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                            "<title>T</title>\n<style>")
    assert start.endswith("</style></head><body><h1>T</h1><nav>")


def test_nav_link_escapes_the_anchor_and_the_text() -> None:
    link = nav_link("a'b", "<x> & y")
    assert link == "<a href='#a&#x27;b'>&lt;x&gt; &amp; y</a>"
    assert parse(link).attrs["a"] == [{"href": "#a'b"}]


def test_figure_embeds_the_png_bytes_and_escapes_the_caption() -> None:
    png = b"\x89PNG\r\n\x1a\n not really an image \x00\xff"
    out = figure_html(png, "p_<stem>", "Share < 1 & 'quoted'")
    parsed = parse(out)
    assert parsed.errors == [] and parsed.stack == []
    (img,) = parsed.attrs["img"]
    src = img["src"] or ""
    assert src.startswith("data:image/png;base64,")
    assert base64.b64decode(src.split(",", 1)[1]) == png
    assert img["alt"] == "Share < 1 & 'quoted'" and img["data-name"] == "p_<stem>"
    caption = re.search(r"<figcaption>(.*)</figcaption>", out)
    assert caption is not None and caption.group(1) == "Share &lt; 1 &amp; &#x27;quoted&#x27;"
