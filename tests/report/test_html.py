"""The HTML report: golden files, a standalone printable page, escaping, and a real browser."""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_support import GOLDEN_EXAMPLES, example, golden_mismatch, odd

from hccwatch import assess
from hccwatch.report.html import render_html, render_html_page
from support import AS_OF


class _Tags(HTMLParser):
    """Collects start tags with their attributes, and checks every element is closed."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1] if self.open else ''}>"
        self.open.pop()


def _parse(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    return parser


@pytest.mark.parametrize("name", GOLDEN_EXAMPLES)
def test_golden(name: str) -> None:
    problem = golden_mismatch(name, "html", render_html(example(name)))
    assert problem is None, problem


def test_standalone_page_with_print_rules() -> None:
    html = render_html(example("article-woman-back-pain"))
    tags = _parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert ("html", {"lang": "en"}) in tags.tags
    assert not [t for t, a in tags.tags if t in {"link", "script"} or "src" in a]  # nothing external
    assert "@media print" in html
    assert "break-before: page" in html
    assert "background: transparent !important" in html


def test_disclaimer_comes_before_any_finding() -> None:
    a = example("article-man-after-resection")
    html = render_html(a)
    assert html.index(a.disclaimer) < html.index('id="r1-alerts"')


def test_summary_language_is_marked() -> None:
    html = render_html(example("article-man-after-resection", lang="zh"))
    sections = [a for t, a in _parse(html).tags if t == "section" and a.get("id") == "r1-patient_summary"]
    assert sections[0]["lang"] == "zh"


def test_content_is_escaped() -> None:
    html = render_html(odd())
    _parse(html)
    assert "<b>id</b>" not in html
    assert "odd &lt;b&gt;id&lt;/b&gt; | x" in html
    assert "Odd &lt;shapes&gt;" in html


def test_citations_are_links() -> None:
    tags = _parse(render_html(odd())).tags
    hrefs = {a.get("href") for t, a in tags if t == "a"}
    assert odd().knowledge.citation("AASLD-2023").link in hrefs
    assert "#r1-src-1" in hrefs


def test_urgent_alerts_are_marked_for_black_and_white() -> None:
    html = render_html(odd())
    assert 'class="entry tone-emergency"' in html
    assert "&#9888; EMERGENCY" in html


def test_several_reports_share_one_page() -> None:
    html = render_html_page([example(n) for n in GOLDEN_EXAMPLES])
    tags = _parse(html).tags
    assert [t for t, _ in tags].count("html") == 1
    assert [a.get("id") for t, a in tags if t == "article"] == ["report-1", "report-2"]


def test_bottom_line_is_boxed_first_and_survives_black_and_white() -> None:
    html = render_html(example("article-woman-back-pain"))
    tags = _parse(html).tags
    sections = [a.get("id") for t, a in tags if t == "section"]
    assert sections[:2] == ["r1-bottom-line", "r1-alerts"]
    assert html.index("decision support") < html.index('id="r1-bottom-line"')
    # Print: a thick black box and bordered badges, not colour alone.
    print_css = html[html.index("@media print") :]
    assert ".bottom-line { border: 3px solid #000 !important" in print_css
    assert '<span class="badge badge-urgent">&#9888; URGENT</span> Spinal pain' in html
    assert '<dd class="row-scores"><span class="chip tone-plain">Child-Pugh A (5 points)</span>' in html


def test_bottom_line_of_an_empty_record() -> None:
    html = render_html(assess({"id": "empty"}, as_of=AS_OF))
    assert '<dd class="row-alert"><span class="chip tone-plain">none</span></dd>' in html
    assert '<dd class="row-orders"><span class="chip tone-plain">none</span></dd>' in html
    assert '<dd class="row-overdue"><span class="chip tone-cannot">cannot determine' in html


def test_bottom_line_marks_an_emergency() -> None:
    html = render_html(odd())
    block = html[html.index('id="r1-bottom-line"') : html.index('id="r1-alerts"')]
    assert "&#9888; EMERGENCY</span> Possible spinal cord compression" in block


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_chromium_prints_a_pdf(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(example("article-woman-back-pain")), encoding="utf-8")
    pdf = tmp_path / "x.pdf"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert pdf.read_bytes().startswith(b"%PDF")
