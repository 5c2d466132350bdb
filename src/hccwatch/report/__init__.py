"""Renderers of an :class:`~hccwatch.core.assessment.Assessment`: plain text, Markdown, HTML.

All three lay out the same content (:mod:`hccwatch.report.view`): header, disclaimer, the
bottom line (:mod:`hccwatch.report.cards`), then alerts, workup, surveillance, AFP, scores,
staging, transplant criteria, metastasis, recurrence, options, the patient summary, the numbered
sources and the unverified knowledge.
"""

from hccwatch.report.html import render_html, render_html_page
from hccwatch.report.markdown import render_markdown
from hccwatch.report.text import render_text

__all__ = ["render_html", "render_html_page", "render_markdown", "render_text"]
