"""hccwatch knowledge: counts by status, every entry in JSON, and a review sheet in CSV and HTML."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from html.parser import HTMLParser

from click.testing import CliRunner

from hccwatch.app import knowledge_report as kr
from hccwatch.app.cli import main
from hccwatch.core.knowledge import ENTRY_STATUSES, default_knowledge


def _cli(*args: str) -> str:
    result = CliRunner().invoke(main, ["knowledge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_counts_match_the_entries() -> None:
    k = default_knowledge()
    counts = kr.status_counts(k)
    assert list(counts) == list(ENTRY_STATUSES)
    assert sum(counts.values()) == len(k.entries)
    for status, n in counts.items():
        assert n == sum(1 for e in k.entries.values() if e.status == status)


def test_text_names_every_count_and_every_entry_left_to_check() -> None:
    k = default_knowledge()
    text = _cli()
    counts = kr.status_counts(k)
    assert ", ".join(f"{s} {counts[s]}" for s in ENTRY_STATUSES) in text
    for e in k.entries.values():
        if e.status != "verified":
            assert f"  {e.key}: " in text, e.key


def test_json_lists_every_entry_with_its_value_source_locator_status_and_note() -> None:
    k = default_knowledge()
    data = json.loads(_cli("--format", "json"))
    assert data["knowledge_version"] == k.version
    assert data["counts"]["entries"] == len(k.entries)
    assert {s: data["counts"][s] for s in ENTRY_STATUSES} == kr.status_counts(k)
    by_key = {item["key"]: item for item in data["entries"]}
    assert set(by_key) == set(k.entries)
    for key, e in k.entries.items():
        item = by_key[key]
        assert item["value"] == e.value
        assert item["unit"] == e.unit
        assert item["status"] == e.status
        assert item["citations"] == list(e.citations)
        assert item["sources"] == [k.citation(c).short() for c in e.citations]
        assert item["locator"] == e.locator
        assert item["note"] == e.note
    assert set(data["citations"]) == set(k.citations)


def test_csv_sheet_has_one_row_per_entry_and_blank_reviewer_columns() -> None:
    k = default_knowledge()
    rows = list(csv.DictReader(io.StringIO(_cli("--format", "csv"), newline="")))
    assert tuple(rows[0]) == kr.SHEET_COLUMNS
    assert sorted(r["key"] for r in rows) == sorted(k.entries)
    for r in rows:
        e = k.entries[r["key"]]
        assert r["status"] == e.status
        assert r["locator"] == e.locator
        assert r["value"] == kr.value_text(e.value)
        assert all(cid in r["source"] for cid in e.citations)
        assert r["reviewer_initials"] == r["review_date"] == r["agree"] == r["comment"] == ""
    # Project choices come last, apart from the sourced entries.
    statuses = [r["status"] for r in rows]
    first_policy = statuses.index("policy")
    assert set(statuses[first_policy:]) == {"policy"}


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.ids += [v for k, v in attrs if k == "id" and v]


def test_html_sheet_is_printable_and_has_boxes_for_every_entry() -> None:
    k = default_knowledge()
    page = _cli("--format", "html")
    assert page.startswith("<!DOCTYPE html>")
    assert "@media print" in page and "@page" in page
    rows = _Rows()
    rows.feed(page)
    assert sorted(rows.ids) == sorted(k.entries)
    assert page.count("&#9744;&nbsp;agree") == len(k.entries)
    policy = kr.status_counts(k)["policy"]
    assert re.search(rf"<h2>Project choices \({policy}\)", page)
    for cid, c in k.citations.items():
        assert f'<li id="cite-{html.escape(cid)}"><b>{html.escape(cid)}</b>' in page, c
    # Every source named in a row links to its bibliography item.
    for e in k.entries.values():
        for cid in e.citations:
            assert f'<a href="#cite-{html.escape(cid)}">' in page, (e.key, cid)


def test_html_escapes_what_it_prints() -> None:
    page = kr.review_html(default_knowledge())
    # Values hold "<=" in locators: none may reach the page unescaped inside a cell.
    assert "<= " not in page


def test_snapshot_holds_every_value_and_status() -> None:
    k = default_knowledge()
    snap = kr.snapshot(k)
    assert snap["knowledge_version"] == k.version
    entries = snap["entries"]
    assert isinstance(entries, dict)
    assert set(entries) == set(k.entries)
