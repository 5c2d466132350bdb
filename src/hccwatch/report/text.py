"""Plain-text clinician report, at most 100 display columns wide (CJK counts double)."""

from __future__ import annotations

import functools
import unicodedata

from hccwatch.core.assessment import Assessment
from hccwatch.report.view import Chip, Detail, Entry, ReportView, Section, build

__all__ = ["WIDTH", "display_width", "render_text", "wrap"]

WIDTH = 100
INDENT = "    "
NBSP = "\u00a0"
CHIP_WHOLE = 30  # columns: a bottom-line item up to this width is never split across lines
_NO_LINE_START = frozenset("，。、；：！？）」』》")


@functools.cache
def _char_width(ch: str) -> int:
    # Cached: a report measures a few hundred distinct characters thousands of times.
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in {"W", "F"} else 1


def display_width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(map(_char_width, text))


def _tokens(text: str) -> list[tuple[str, bool]]:
    """Words with "a space came before"; each wide (CJK) character is a word of its own."""
    out: list[tuple[str, bool]] = []
    if text.isascii():
        space = False
        for i, word in enumerate(text.split(" ")):
            space = space or i > 0
            if word:
                out.append((word, space))
                space = False
        return out
    word, space = "", False
    for ch in text:
        if ch == " " or _char_width(ch) == 2:
            if word:
                out.append((word, space))
                word, space = "", False
            if ch == " ":
                space = True
            else:
                out.append((ch, space))
                space = False
        else:
            word += ch
    if word:
        out.append((word, space))
    return out


def _is_url(token: str) -> bool:
    return token.startswith(("https://", "http://"))


def _cut(token: str, room: int) -> tuple[str, int]:
    """How many leading characters of ``token`` fit ``room`` columns (at least one), and their width."""
    used = _char_width(token[0])
    end = 1
    for ch in token[1:]:
        w = _char_width(ch)
        if used + w > room:
            break
        used += w
        end += 1
    return token[:end], used


def wrap(text: str, width: int = WIDTH, first: str = "", rest: str = "") -> list[str]:
    """Greedy wrap by display width: ``first`` prefixes the first line, ``rest`` the others.

    Linear in the text: each token is measured once and the line's width is kept as a running sum.
    """
    lines: list[str] = []
    rest_w = display_width(rest)
    for n, paragraph in enumerate(text.splitlines() or [""]):
        line = first if n == 0 else rest
        used = display_width(line)
        if used + display_width(paragraph) <= width and "  " not in paragraph and paragraph[:1] != " ":
            # Most lines fit as written: the token loop would rebuild the same string.
            lines.append((line + paragraph).rstrip())
            continue
        filled = False
        for token, space in _tokens(paragraph):
            sep = space and filled
            piece = f" {token}" if sep else token
            piece_w = display_width(token) + sep
            if used + piece_w > width:
                if filled:
                    # CJK closing punctuation may not start a line: take the glyph before it along.
                    carry, carry_w = "", 0
                    while (carry or token)[0] in _NO_LINE_START and line and _char_width(line[-1]) > 1:
                        carry_w += _char_width(line[-1])
                        line, carry = line[:-1], line[-1] + carry
                    lines.append(line)
                    line, used = rest, rest_w
                    piece, piece_w = carry + token, carry_w + display_width(token)
                # A URL is never cut (it must stay clickable): it overflows on a line of its own.
                while used + piece_w > width and len(piece) > 1 and not _is_url(piece):
                    head, head_w = _cut(piece, width - used)
                    lines.append(line + head)
                    piece, piece_w = piece[len(head) :], piece_w - head_w
                    line, used = rest, rest_w
            line += piece
            used += piece_w
            filled = True
        lines.append(line.rstrip())
    return lines


def _heading(title: str) -> list[str]:
    return ["", title.upper(), "-" * display_width(title)]


def _cites(view: ReportView, ids: tuple[str, ...]) -> str:
    """The sources line; a no-break space keeps each number on the line of its id."""
    if not ids:
        return "Sources: none cited"
    return "Sources: " + ", ".join(f"[{view.source(c).number}]{NBSP}{c}" for c in ids)


def _detail(d: Detail, indent: str) -> list[str]:
    if d.as_list:
        out = wrap(f"{d.label}:", first=indent, rest=indent)
        for item in d.items:
            out += wrap(item, first=indent + "  - ", rest=indent + "    ")
        return out
    text = f"{d.label}: {d.text}" if d.label else d.text
    return wrap(text, first=indent, rest=indent + "  ")


def _entry(view: ReportView, e: Entry) -> list[str]:
    head = f"[{e.badge}] {e.title}" if e.badge else e.title
    if e.result:
        head += f" — {e.result}"
    out = wrap(head, first="* ", rest=INDENT)
    for d in e.details:
        out += _detail(d, INDENT)
    if e.sourced:
        out += wrap(_cites(view, e.citations), first=INDENT, rest=INDENT + "  ")
    return out


def _table(view: ReportView, s: Section) -> list[str]:
    first_w = max(len("Criterion"), *(display_width(e.title) for e in s.entries))
    second_w = max(len("Result"), *(display_width(e.badge or "") for e in s.entries))
    why_w = WIDTH - first_w - second_w - 4
    gap = "  "
    out = [
        f"{'Criterion'.ljust(first_w)}{gap}{'Result'.ljust(second_w)}{gap}Why",
        f"{'-' * first_w}{gap}{'-' * second_w}{gap}{'-' * why_w}",
    ]
    for e in s.entries:
        why: list[str] = []
        parts = [e.result] if e.result else []
        parts += [f"{d.label}: {d.text}" if d.label else d.text for d in e.details]
        parts.append(_cites(view, e.citations))
        for part in parts:
            why += wrap(part, width=why_w, rest="  ")
        if len(out) > 2:  # a blank line between rows, not above the first
            out.append("")
        left = [e.title.ljust(first_w), (e.badge or "").ljust(second_w)]
        for i, line in enumerate(why):
            cells = left if i == 0 else [" " * first_w, " " * second_w]
            out.append(f"{cells[0]}{gap}{cells[1]}{gap}{line}".rstrip())
    return out


def _section(view: ReportView, s: Section) -> list[str]:
    out = _heading(s.title)
    if s.intro:
        out += wrap(s.intro)
    if not s.entries:
        return out + ([s.empty] if s.empty else [])
    if s.layout == "table":
        out += _table(view, s)
        return out + (["", *wrap(s.note, rest="  ")] if s.note else [])
    for i, e in enumerate(s.entries):
        if i or s.intro:
            out.append("")
        out += _entry(view, e)
    return out


def _field(name: str, value: str) -> list[str]:
    return wrap(value, first=f"{name:<11}", rest=" " * 11)


def _header(view: ReportView) -> list[str]:
    rule = "=" * WIDTH
    return [
        rule,
        f"HCCWATCH REPORT · {view.record_id}",
        rule,
        *_field("Patient", view.patient),
        *_field("As of", f"{view.as_of} ({view.as_of_note})"),
        *_field("Knowledge", f"{view.knowledge_version} (hccwatch {view.hccwatch_version})"),
        "",
        *wrap(f"NOTE: {view.disclaimer}", rest="      "),
    ]


def _chip(c: Chip) -> str:
    # No-break spaces keep a badge on the line of what it rates, and a short item ("MELD 3.0 7",
    # "+1 more in Workup") whole; a long one may still wrap.
    text = c.text.replace(" ", NBSP) if display_width(c.text) <= CHIP_WHOLE else c.text
    return f"[{c.badge}]{NBSP}{text}" if c.badge else text


def _bottom_line(view: ReportView) -> list[str]:
    """The answer first: a labelled row each, continued under its text when it wraps."""
    out = _heading(view.bottom_line_title)
    label_w = max(display_width(r.label) for r in view.bottom_line) + 2
    for row in view.bottom_line:
        chips = "; ".join(_chip(c) for c in row.chips)
        out += wrap(chips, first=row.label.ljust(label_w), rest=" " * label_w)
    return out


def _bibliography(view: ReportView) -> list[str]:
    out = _heading("Sources")
    if not view.sources:
        out.append("No source cited.")
    for s in view.sources:
        out += wrap(f"[{s.number}] {s.id}: {s.text}", rest=INDENT)
    out += _heading("Knowledge not verified in its primary source")
    if not view.unverified:
        return [*out, "None: every number used here is marked verified against its source."]
    out += wrap("Not yet checked against the primary source; weigh these numbers accordingly.")
    for u in view.unverified:
        out += wrap(f"* {u.key}: {u.text}", rest=INDENT)
    return out


def render_text(assessment: Assessment) -> str:
    """The report as plain text, ending with a newline."""
    view = build(assessment)
    lines = _header(view) + _bottom_line(view)
    for section in view.sections:
        lines += _section(view, section)
    lines += _bibliography(view)
    return "\n".join(lines).replace(NBSP, " ") + "\n"
