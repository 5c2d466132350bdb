"""The plain-text report: golden files, layout limits, and robustness to any finding shape."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_support import GOLDEN_EXAMPLES, example, golden_mismatch, odd

from hccwatch import assess
from hccwatch.report.text import WIDTH, display_width, render_text, wrap
from support import AS_OF, EXAMPLES

SECTION_ORDER = [
    "BOTTOM LINE",
    "ALERTS",
    "WORKUP",
    "SURVEILLANCE",
    "AFP",
    "SCORES",
    "STAGING",
    "TRANSPLANT CRITERIA",
    "METASTASIS",
    "RECURRENCE",
    "OPTIONS",
    "PATIENT SUMMARY",
    "SOURCES",
    "KNOWLEDGE NOT VERIFIED IN ITS PRIMARY SOURCE",
]


@pytest.mark.parametrize("name", GOLDEN_EXAMPLES)
def test_golden(name: str) -> None:
    problem = golden_mismatch(name, "txt", render_text(example(name)))
    assert problem is None, problem


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.json")))
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_line_fits_100_columns(name: str, lang: str) -> None:
    for line in render_text(example(name, lang=lang)).splitlines():
        # A URL is never cut so it stays clickable; it may overflow alone on its line.
        if display_width(line) > WIDTH:
            assert re.fullmatch(r"\s*https?://\S+", line), line


def test_sections_in_order_and_disclaimer_once() -> None:
    a = example("article-woman-back-pain")
    lines = render_text(a).splitlines()
    headings = [line for i, line in enumerate(lines[:-1]) if set(lines[i + 1]) == {"-"} and line]
    assert headings == SECTION_ORDER
    assert render_text(a).count(a.disclaimer.split(":")[0]) == 1


def test_header_names_patient_date_and_knowledge() -> None:
    a = example("article-man-after-resection")
    head = render_text(a).splitlines()[:6]
    assert "article-man-after-resection" in head[1]
    assert head[3] == "Patient    58-year-old male, ECOG 0"
    assert head[4] == "As of      2026-11-24 (date given)"
    assert head[5].startswith(f"Knowledge  {a.knowledge.version}")


def test_odd_shapes_render() -> None:
    text = render_text(odd())
    # Most urgent first, with its label, actions and facts.
    alerts = text[text.index("ALERTS") : text.index("WORKUP")]
    assert alerts.index("[EMERGENCY]") < alerts.index("[ROUTINE]") < alerts.index("[WHENEVER]")
    assert "  - Same-day MRI of the whole spine" in alerts
    assert "Used: symptoms.back_pain yes (2026-11-24)" in alerts
    # Nested values, gaps, unknown citations and unverified keys are all shown, never dropped.
    recurrence = text[text.index("RECURRENCE") : text.index("OPTIONS")]
    assert "Cannot determine: missing labs.dcp, tumors" in recurrence
    assert "site: lung; rank: 1" in recurrence
    assert "Not verified in its primary source: no.such.entry" in recurrence
    assert "NOT-A-CITATION-1999" in text[text.index("SOURCES") :]
    assert "(not in the bibliography" in text
    assert "[URGENT] Back pain." in text  # the summary item, urgent first
    assert "A different patient-facing disclaimer." in text


def test_transplant_table_gives_verdict_and_reason() -> None:
    text = render_text(odd())
    table = text[text.index("TRANSPLANT CRITERIA") : text.index("METASTASIS")]
    milan = next(line for line in table.splitlines() if line.startswith("Milan"))
    assert "cannot determine" in milan
    assert "Cannot determine: missing labs.dcp, tumors" in " ".join(table.split())


def test_every_cited_id_is_numbered_once() -> None:
    text = render_text(odd())
    sources = text[text.index("\nSOURCES\n") :]
    numbers = re.findall(r"^\[(\d+)\] ", sources, flags=re.M)
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]
    for cid in odd().cited():
        assert f"] {cid}: " in sources


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("aa bb cc", 5, ["aa bb", "cc"]),
        ("abcdefgh", 3, ["abc", "def", "gh"]),
        ("", 10, [""]),
        ("一二三四，五", 8, ["一二三", "四，五"]),  # a comma may not start a line: its glyph moves with it
        ("一二三（四）。", 10, ["一二三（", "四）。"]),  # nor may a closing bracket before a full stop
        ("x https://example.org/a/very/long/path", 10, ["x", "https://example.org/a/very/long/path"]),
        ("a  b ", 10, ["a b"]),  # runs of spaces collapse, trailing space goes
        (" a", 10, ["a"]),
        ("* e\u0301 x", 4, ["* e\u0301", "x"]),  # a combining accent takes no column
        ("* é x", 3, ["* é", "x"]),
    ],
)
def test_wrap(text: str, width: int, expected: list[str]) -> None:
    assert wrap(text, width) == expected


@given(
    st.text(alphabet=st.sampled_from(list("ab c  d") + ["中", "，", "é", "\u0301", "\n"]), max_size=80),
    st.integers(min_value=3, max_value=30),  # room for the prefix and one wide glyph
)
def test_wrap_keeps_every_character_and_fits(text: str, width: int) -> None:
    lines = wrap(text, width, rest=" ")
    assert all(display_width(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


def test_wrap_is_linear_in_the_text() -> None:
    # A very long paragraph wraps whole, each line filled greedily.
    words = ["word"] * 20_000
    lines = wrap(" ".join(words), 100)
    assert len(lines) == 1000  # 20 words (99 columns) a line
    assert all(len(line) <= 100 for line in lines)


def _bottom_line(text: str) -> list[str]:
    lines = text.splitlines()
    start = lines.index("BOTTOM LINE")
    return lines[start + 2 : lines.index("", start)]


def test_bottom_line_leads_with_the_answer() -> None:
    text = render_text(example("article-woman-back-pain"))
    assert text.index("NOTE: hccwatch is decision support") < text.index("BOTTOM LINE") < text.index("ALERTS")
    assert _bottom_line(text) == [
        "Most urgent  [URGENT] Spinal pain suggestive of spinal metastasis; +1 more in Alerts",
        "Order        [URGENT] Whole spine MRI; [URGENT] Bone imaging; [SOON] Liver multiphase CT or MRI;",
        "             +1 more in Workup",
        "Overdue      none",
        "Scores       Child-Pugh A (5 points); MELD 3.0 7; ALBI grade 2",
        "Stage        BCLC cannot determine: missing ECOG cancer related",
    ]


def test_bottom_line_of_an_empty_record_says_none_and_cannot_determine() -> None:
    lines = _bottom_line(render_text(assess({"id": "empty"}, as_of=AS_OF)))
    rows = {line[:13].strip(): line[13:] for line in lines if line[:1] != " "}
    assert rows["Most urgent"] == "none"
    assert rows["Order"] == "none"
    assert rows["Overdue"].startswith("cannot determine")
    assert rows["Scores"].startswith("Child-Pugh cannot determine: missing bilirubin, albumin, INR, +2 more")
    assert rows["Stage"].startswith("BCLC cannot determine: missing")
    assert len(lines) <= 10  # readable at a glance even when nothing is known
    assert all(display_width(line) <= WIDTH for line in lines)


def test_bottom_line_says_when_an_overdue_test_was_never_done() -> None:
    lines = _bottom_line(render_text(example("article-man-after-resection")))
    assert lines[2] == (
        "Overdue      Liver multiphase CT or MRI (due 2026-03-16); Chest CT (due 2026-03-18; none on record)"
    )
