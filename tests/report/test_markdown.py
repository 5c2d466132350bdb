"""The Markdown report: golden files, structure and escaping."""

from __future__ import annotations

import re

import pytest
from report_support import GOLDEN_EXAMPLES, example, golden_mismatch, odd

from hccwatch import assess
from hccwatch.report.markdown import escape, render_markdown
from support import AS_OF


@pytest.mark.parametrize("name", GOLDEN_EXAMPLES)
def test_golden(name: str) -> None:
    problem = golden_mismatch(name, "md", render_markdown(example(name)))
    assert problem is None, problem


def test_headings_in_order() -> None:
    md = render_markdown(example("article-woman-back-pain"))
    assert md.startswith("# hccwatch report: article-woman-back-pain\n")
    assert re.findall(r"^## (.+)$", md, flags=re.M) == [
        "Bottom line",
        "Alerts",
        "Workup",
        "Surveillance",
        "AFP",
        "Scores",
        "Staging",
        "Transplant criteria",
        "Metastasis",
        "Recurrence",
        "Options",
        "Patient summary",
        "Sources",
        "Knowledge not verified in its primary source",
    ]


def test_transplant_is_a_table_with_one_row_per_criterion() -> None:
    md = render_markdown(odd())
    block = md[md.index("## Transplant criteria") : md.index("## Metastasis")]
    rows = [line for line in block.splitlines() if line.startswith("| ")]
    assert rows[0] == "| Criterion | Result | Why |"
    assert len(rows) == 1 + len(odd().transplant)
    milan = next(r for r in rows if r.startswith("| Milan |"))
    # The reason's own pipes are escaped, so the row keeps exactly four separators.
    assert len(re.findall(r"(?<!\\)\|", milan)) == 4


def test_record_id_and_reasons_are_escaped() -> None:
    md = render_markdown(odd())
    assert md.splitlines()[0] == r"# hccwatch report: odd \<b\>id\</b\> \| x"
    assert r"Odd \<shapes\> \| pipes \* stars \[brackets\] \# hash." in md


def test_citations_link_to_their_source() -> None:
    md = render_markdown(odd())
    link = odd().knowledge.citation("AASLD-2023").link
    assert f"[AASLD-2023](<{link}>)" in md
    assert re.search(r"^\d+\. \*\*AASLD-2023\*\*: ", md, flags=re.M)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("a|b", r"a\|b"), ("<x>", r"\<x\>"), ("two\nlines", "two lines"), ("snake_case", "snake_case")],
)
def test_escape(raw: str, shown: str) -> None:
    assert escape(raw) == shown


def test_bottom_line_full_and_empty() -> None:
    md = render_markdown(example("article-woman-back-pain"))
    assert md.index("## Bottom line") < md.index("## Alerts")
    assert (
        "- **Most urgent:** **URGENT** · Spinal pain suggestive of spinal metastasis; +1 more in Alerts\n"
        in md
    )
    assert "- **Scores:** Child-Pugh A (5 points); MELD 3.0 7; ALBI grade 2\n" in md
    empty = render_markdown(assess({"id": "empty"}, as_of=AS_OF))
    assert "- **Most urgent:** none\n- **Order:** none\n- **Overdue:** cannot determine" in empty
    assert "- **Stage:** BCLC cannot determine: missing" in empty
