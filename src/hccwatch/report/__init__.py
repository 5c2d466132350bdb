"""Renderers of an :class:`~hccwatch.core.assessment.Assessment`: plain text, Markdown, HTML.

All three lay out the same content (:mod:`hccwatch.report.view`): header, disclaimer, the
bottom line (:mod:`hccwatch.report.cards`), then alerts, workup, surveillance, AFP, scores,
staging, transplant criteria, metastasis, recurrence, options, the patient summary, the numbered
sources and the unverified knowledge.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hccwatch.report.html import render_html, render_html_page
    from hccwatch.report.markdown import render_markdown
    from hccwatch.report.text import render_text

__all__ = ["render_html", "render_html_page", "render_markdown", "render_text"]

# The renderers load on first use: the FHIR adapter and the batch engines need only
# ``hccwatch.report.labels``, and importing this package must not load Jinja2 for them.
_HOME = {
    "render_html": "hccwatch.report.html",
    "render_html_page": "hccwatch.report.html",
    "render_markdown": "hccwatch.report.markdown",
    "render_text": "hccwatch.report.text",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
