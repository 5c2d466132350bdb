"""Standalone, printable HTML report (inline CSS, Jinja2 with autoescaping)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import jinja2

from hccwatch.core.assessment import Assessment
from hccwatch.report.view import build

__all__ = ["render_html", "render_html_page"]

# Printed, these sections start a new page: the clinical picture, the transplant and options
# block, and the patient summary (which can be handed to the patient on its own).
PAGE_BREAK_BEFORE = frozenset({"surveillance", "transplant", "patient_summary"})


def _http_only(url: str | None) -> str | None:
    """Only web links become hrefs; anything else (javascript:, data:) is shown as text."""
    return url if url and url.startswith(("https://", "http://")) else None


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hccwatch.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["http_only"] = _http_only
    return env


def render_html_page(assessments: Sequence[Assessment]) -> str:
    """One standalone page holding the report of each assessment, each starting a printed page."""
    views = [build(a) for a in assessments]
    template = _environment().get_template("report.html")
    return template.render(views=views, page_breaks=PAGE_BREAK_BEFORE)


def render_html(assessment: Assessment) -> str:
    """The report of one assessment as a standalone HTML page."""
    return render_html_page([assessment])
