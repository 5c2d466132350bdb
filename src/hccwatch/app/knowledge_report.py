"""The knowledge base as a reviewer reads it: counts by status, every entry, a sign-off sheet.

``hccwatch knowledge`` prints these. The review sheet (CSV or printable HTML) lists every entry
with its value, unit, status, sources and locator, and leaves a reviewer's initials, date and
agree/disagree boxes blank for a clinician to fill in, entry by entry. Project choices
(``HCCWATCH-POLICY``) are listed apart so a reviewer sees exactly which numbers are ours.

This is an adapter: it reads the loaded :class:`~hccwatch.core.knowledge.Knowledge` and decides
nothing clinical.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from collections.abc import Iterable

from hccwatch.core.knowledge import ENTRY_STATUSES, Citation, Entry, JsonValue, Knowledge

__all__ = [
    "POLICY",
    "SHEET_COLUMNS",
    "entry_dict",
    "review_csv",
    "review_html",
    "snapshot",
    "status_counts",
    "summary_json",
    "summary_text",
]

POLICY = "HCCWATCH-POLICY"
SHEET_COLUMNS = (
    "key",
    "value",
    "unit",
    "status",
    "source",
    "locator",
    "note",
    "reviewer_initials",
    "review_date",
    "agree",
    "comment",
)


def _sorted(entries: Iterable[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: e.key)


def status_counts(k: Knowledge) -> dict[str, int]:
    """How many entries have each status, every status named (0 when none)."""
    counted = Counter(e.status for e in k.entries.values())
    return {status: counted.get(status, 0) for status in ENTRY_STATUSES}


def value_text(value: JsonValue) -> str:
    """A value on one line: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _source_text(k: Knowledge, entry: Entry) -> str:
    return "; ".join(f"{cid}: {k.citation(cid).short()}" for cid in entry.citations)


def entry_dict(k: Knowledge, entry: Entry) -> dict[str, JsonValue]:
    """One entry for the JSON listing: value, unit, sources, locator, status and note."""
    return {
        "key": entry.key,
        "value": entry.value,
        "unit": entry.unit,
        "status": entry.status,
        "verified": entry.verified,
        "citations": list(entry.citations),
        "sources": [k.citation(cid).short() for cid in entry.citations],
        "locator": entry.locator,
        "note": entry.note,
    }


def _citation_dict(c: Citation) -> dict[str, JsonValue]:
    return {**c.to_dict(), "note": c.note, "secondary_of": c.secondary_of}


def _secondary_text(c: Citation) -> str:
    return f" [secondary; primary: {c.secondary_of}]" if c.secondary_of else ""


def summary_json(k: Knowledge) -> str:
    entries = _sorted(k.entries.values())
    data: dict[str, JsonValue] = {
        "knowledge_version": k.version,
        "counts": {"entries": len(entries), "citations": len(k.citations), **status_counts(k)},
        "entries": [entry_dict(k, e) for e in entries],
        "citations": {cid: _citation_dict(c) for cid, c in sorted(k.citations.items())},
        # Kept for readers of the first listing: the entries still to check.
        "unverified": [
            {"key": e.key, "citations": list(e.citations), "locator": e.locator, "note": e.note}
            for e in entries
            if not e.verified
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def summary_text(k: Knowledge) -> str:
    entries = _sorted(k.entries.values())
    counts = status_counts(k)
    lines = [
        f"hccwatch knowledge {k.version}: {len(entries)} entries, {len(k.citations)} citations",
        "  " + ", ".join(f"{status} {counts[status]}" for status in ENTRY_STATUSES),
        "",
        f"Citations ({len(k.citations)}):",
    ]
    lines += [f"  {cid}: {c.short()}{_secondary_text(c)}" for cid, c in sorted(k.citations.items())]
    sections = (
        ("unverified", "Unverified entries ({n}), to check against the primary source:"),
        (
            "secondary",
            "Secondary entries ({n}), read only in a secondary source (its note names the primary):",
        ),
        ("policy", "Project choices ({n}), hccwatch's own numbers (cite HCCWATCH-POLICY):"),
    )
    for status, heading in sections:
        chosen = [e for e in entries if e.status == status]
        lines += ["", heading.format(n=len(chosen))]
        for e in chosen:
            note = f" ({e.note})" if e.note else ""
            lines.append(f"  {e.key}: {', '.join(e.citations)}, {e.locator}{note}")
    return "\n".join(lines) + "\n"


def _sheet_rows(k: Knowledge) -> list[dict[str, str]]:
    return [
        {
            "key": e.key,
            "value": value_text(e.value),
            "unit": e.unit or "",
            "status": e.status,
            "source": _source_text(k, e),
            "locator": e.locator,
            "note": e.note or "",
            "reviewer_initials": "",
            "review_date": "",
            "agree": "",
            "comment": "",
        }
        for e in _review_order(k)
    ]


def _review_order(k: Knowledge) -> list[Entry]:
    """Sourced entries first, then the project's choices: a reviewer signs the two apart."""
    entries = _sorted(k.entries.values())
    return [e for e in entries if e.status != "policy"] + [e for e in entries if e.status == "policy"]


def review_csv(k: Knowledge) -> str:
    """The review sheet as CSV (one row per entry; the reviewer columns are left blank)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SHEET_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_sheet_rows(k))
    return out.getvalue()


_CSS = """
body { font: 10pt/1.35 system-ui, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 15pt; margin: 0 0 .3em; }
h2 { font-size: 12pt; margin: 1.4em 0 .4em; }
p.lead, p.sign { margin: .2em 0 .8em; }
table { border-collapse: collapse; width: 100%; }
table.sheet { table-layout: fixed; }
th, td { border: 1px solid #888; padding: 3px 5px; vertical-align: top; text-align: left; }
th { background: #eee; }
td.value { font-family: ui-monospace, monospace; font-size: 8.5pt; word-break: break-word; }
td.key { font-family: ui-monospace, monospace; font-size: 8.5pt; overflow-wrap: anywhere; }
td.source a { color: inherit; }
td.box { font-size: 8pt; }
td.status-unverified { background: #fde2e2; }
td.status-secondary { background: #fff3cd; }
td.status-policy { background: #e2ecfd; }
td.small, td.source { font-size: 8.5pt; }
.counts td, .counts th { width: auto; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { margin: 0; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  td.status-unverified, td.status-secondary, td.status-policy, th {
    -webkit-print-color-adjust: exact; print-color-adjust: exact;
  }
}
"""

_BOXES = "&#9744;&nbsp;agree<br>&#9744;&nbsp;disagree"


_WIDTHS = (13, 16, 5, 7, 10, 15, 20, 4, 4, 6)


def _table(rows: list[dict[str, str]], sources: dict[str, str]) -> list[str]:
    head = (
        "<tr><th>Key</th><th>Value</th><th>Unit</th><th>Status</th><th>Source</th><th>Locator</th>"
        "<th>Note</th><th>Initials</th><th>Date</th><th>Agree?</th></tr>"
    )
    cols = "".join(f'<col style="width:{w}%">' for w in _WIDTHS)
    out = ['<table class="sheet">', f"<colgroup>{cols}</colgroup>", f"<thead>{head}</thead>", "<tbody>"]
    for r in rows:
        esc = {name: html.escape(text) for name, text in r.items()}
        # The cell names the citation ids, linked to the bibliography at the end of the sheet.
        esc["source"] = sources[r["key"]]
        out.append(
            f'<tr id="{esc["key"]}"><td class="key">{esc["key"]}</td><td class="value">{esc["value"]}</td>'
            f'<td class="small">{esc["unit"]}</td>'
            f'<td class="status-{esc["status"]}">{esc["status"]}</td>'
            f'<td class="source">{esc["source"]}</td><td class="small">{esc["locator"]}</td>'
            f'<td class="small">{esc["note"]}</td><td class="box"></td><td class="box"></td>'
            f'<td class="box">{_BOXES}</td></tr>'
        )
    out += ["</tbody>", "</table>"]
    return out


def review_html(k: Knowledge) -> str:
    """A printable review sheet: every entry with blank initials, date and agree boxes."""
    rows = _sheet_rows(k)
    sources = {
        e.key: ", ".join(f'<a href="#cite-{html.escape(c)}">{html.escape(c)}</a>' for c in e.citations)
        for e in k.entries.values()
    }
    sourced = [r for r in rows if r["status"] != "policy"]
    ours = [r for r in rows if r["status"] == "policy"]
    counts = status_counts(k)
    version = html.escape(k.version)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>hccwatch knowledge {version}: review sheet</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>hccwatch knowledge {version}: review sheet</h1>",
        '<p class="lead">Decision support, not a diagnosis. For each entry, check the value and its '
        "wording against the passage named in the locator, then initial, date and tick a box. "
        "Disagreements go in the margin or in the CSV's comment column.</p>",
        '<table class="counts"><tr><th>Entries</th>'
        + "".join(f"<th>{html.escape(s)}</th>" for s in ENTRY_STATUSES)
        + "<th>Citations</th></tr>",
        f"<tr><td>{len(rows)}</td>"
        + "".join(f"<td>{counts[s]}</td>" for s in ENTRY_STATUSES)
        + f"<td>{len(k.citations)}</td></tr></table>",
        f"<h2>Sourced entries ({len(sourced)})</h2>",
        *_table(sourced, sources),
        f"<h2>Project choices ({len(ours)}): hccwatch's own numbers, each with its reason</h2>",
        *_table(ours, sources),
        f"<h2>Citations ({len(k.citations)})</h2>",
        "<ul>",
        *(
            f'<li id="cite-{html.escape(cid)}"><b>{html.escape(cid)}</b>: {html.escape(c.short())}'
            + html.escape(_secondary_text(c))
            + (f" <i>({html.escape(c.note)})</i>" if c.note else "")
            + "</li>"
            for cid, c in sorted(k.citations.items())
        ),
        "</ul>",
        '<p class="sign">Reviewed as a whole by (name, role, signature, date): '
        "______________________________________________</p>",
        "</body>",
        "</html>",
    ]
    return "\n".join(parts) + "\n"


def snapshot(k: Knowledge) -> dict[str, JsonValue]:
    """Every entry's value and status at a release: written to ``knowledge/values.lock.json``."""
    return {
        "knowledge_version": k.version,
        "entries": {e.key: {"value": e.value, "status": e.status} for e in _sorted(k.entries.values())},
    }
