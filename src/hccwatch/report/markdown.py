"""Markdown clinician report (GitHub-flavoured: headings, tables, ``<br>`` inside cells)."""

from __future__ import annotations

import re

from hccwatch.core.assessment import Assessment
from hccwatch.report.view import Detail, Entry, ReportView, Section, build

__all__ = ["escape", "render_markdown"]

_SPECIAL = re.compile(r"([\\`*\[\]<>|#])")


def escape(text: str) -> str:
    """Text shown as written: Markdown and HTML punctuation is escaped, newlines become spaces."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _cite(view: ReportView, cid: str) -> str:
    source = view.source(cid)
    name = f"[{escape(cid)}](<{source.link}>)" if source.link else escape(cid)
    return f"\\[{source.number}\\] {name}"


def _cites(view: ReportView, ids: tuple[str, ...]) -> str:
    return "**Sources:** " + (", ".join(_cite(view, c) for c in ids) if ids else "none cited")


def _inline(d: Detail) -> str:
    return f"**{escape(d.label)}:** {escape(d.text)}" if d.label else escape(d.text)


def _detail(d: Detail) -> list[str]:
    head = f"**{escape(d.label)}:** " if d.label else ""
    if d.as_list:
        return [f"- {head.rstrip()}", *(f"  - {escape(i)}" for i in d.items)]
    return [f"- {head}{escape(d.text)}"]


def _entry(view: ReportView, e: Entry) -> list[str]:
    head = f"**{escape(e.badge)}** · {escape(e.title)}" if e.badge else escape(e.title)
    if e.result:
        head += f" — {escape(e.result)}"
    out = [f"### {head}", ""]
    for d in e.details:
        out += _detail(d)
    if e.sourced:
        out.append(f"- {_cites(view, e.citations)}")
    return [*out, ""]


def _summary_entry(e: Entry) -> list[str]:
    badge = f"**{escape(e.badge)}** · " if e.badge else ""
    return [f"- {badge}{escape(e.title)}"]


def _table(view: ReportView, s: Section) -> list[str]:
    out = ["| Criterion | Result | Why |", "|---|---|---|"]
    for e in s.entries:
        parts = [escape(e.result)] if e.result else []
        parts += [_inline(d) for d in e.details]
        parts.append(_cites(view, e.citations))
        out.append(f"| {escape(e.title)} | {escape(e.badge or '')} | {'<br>'.join(parts)} |")
    return [*out, ""]


def _section(view: ReportView, s: Section) -> list[str]:
    out = [f"## {escape(s.title)}", ""]
    if s.intro:
        out += [escape(s.intro), ""]
    if not s.entries:
        return out + ([escape(s.empty), ""] if s.empty else [])
    if s.layout == "table":
        return out + _table(view, s) + ([escape(s.note), ""] if s.note else [])
    if s.key == "patient_summary":
        return [*out, *(line for e in s.entries for line in _summary_entry(e)), ""]
    for e in s.entries:
        out += _entry(view, e)
    return out


def _header(view: ReportView) -> list[str]:
    return [
        f"# hccwatch report: {escape(view.record_id)}",
        "",
        "| | |",
        "|---|---|",
        f"| Patient | {escape(view.patient)} |",
        f"| As of | {escape(view.as_of)} ({escape(view.as_of_note)}) |",
        f"| Knowledge | {escape(view.knowledge_version)} (hccwatch {escape(view.hccwatch_version)}) |",
        "",
        f"> **{escape(view.disclaimer)}**",
        "",
    ]


def _bottom_line(view: ReportView) -> list[str]:
    out = [f"## {escape(view.bottom_line_title)}", ""]
    for row in view.bottom_line:
        chips = "; ".join(
            f"**{escape(c.badge)}** · {escape(c.text)}" if c.badge else escape(c.text) for c in row.chips
        )
        out.append(f"- **{escape(row.label)}:** {chips}")
    return [*out, ""]


def _bibliography(view: ReportView) -> list[str]:
    out = ["## Sources", ""]
    for s in view.sources:
        link = f" <{s.link}>" if s.link else ""
        out.append(f"{s.number}. **{escape(s.id)}**: {escape(s.reference)}{link}")
    if not view.sources:
        out.append("No source cited.")
    out += ["", "## Knowledge not verified in its primary source", ""]
    if not view.unverified:
        return [*out, "None: every number used here is marked verified against its source.", ""]
    out += ["Not yet checked against the primary source; weigh these numbers accordingly.", ""]
    out += [f"- `{u.key}`: {escape(u.text)}" for u in view.unverified]
    return [*out, ""]


def render_markdown(assessment: Assessment) -> str:
    """The report as Markdown, ending with a newline."""
    view = build(assessment)
    lines = _header(view) + _bottom_line(view)
    for section in view.sections:
        lines += _section(view, section)
    lines += _bibliography(view)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
