"""The batch summary as one small standalone HTML page: counts, KPIs and inline SVG bar charts."""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["render_summary"]

_BAR_WIDTH = 360
_ROW = 22


def _bars(title: str, counts: dict[str, int]) -> str:
    if not counts:
        return f"<h2>{escape(title)}</h2><p>none</p>"
    top = max(counts.values()) or 1
    height = _ROW * len(counts) + 4
    rows = []
    for i, (label, n) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))):
        y = i * _ROW + 2
        w = max(1, round(_BAR_WIDTH * n / top)) if n else 0
        rows.append(
            f'<text x="0" y="{y + 15}">{escape(label)}</text>'
            f'<rect x="170" y="{y + 3}" width="{w}" height="{_ROW - 6}" fill="#4a6fa5"/>'
            f'<text x="{176 + w}" y="{y + 15}">{n}</text>'
        )
    return (
        f"<h2>{escape(title)}</h2>"
        f'<svg role="img" aria-label="{escape(title)}" width="{170 + _BAR_WIDTH + 60}" height="{height}" '
        f'font-family="sans-serif" font-size="13">{"".join(rows)}</svg>'
    )


def _table(pairs: list[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in pairs)
    return f"<table>{body}</table>"


def render_summary(summary: dict[str, Any]) -> str:
    ex = summary["export"]
    co = summary["cohort"]
    frac = co["overdue_fraction"]
    kpis = [
        ("Evaluation date", summary["as_of"]),
        ("Export files / lines", f"{ex['files']} / {ex['lines']}"),
        ("Patients in the export", ex["patients"]),
        ("HCC cohort (from codes)", co["patients"]),
        (
            "With an urgent or emergency alert",
            sum(co["by_highest_urgency"].get(k, 0) for k in ("emergency", "urgent")),
        ),
        (
            "With overdue surveillance",
            f"{co['with_overdue_surveillance']}"
            + (f" ({frac:.1%} of those assessed)" if frac is not None else ""),
        ),
        ("Lines with problems", sum(ex["problems_by_kind"].values())),
        *[(f"Skipped: {f['file']}", f["reason"]) for f in ex.get("skipped_files", ())],
    ]
    urgent = "".join(
        f"<li><code>{escape(u['patient_id'])}</code>: {escape(u['alerts'])}</li>"
        for u in summary["most_urgent"]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>hccwatch batch summary</title><style>"
        "body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#222}"
        "th{text-align:left;padding-right:1rem;font-weight:normal;color:#555}"
        "h2{font-size:1.05rem;margin-top:1.5rem}.note{color:#555;font-size:.9rem}"
        "</style></head><body>\n"
        f"<h1>HCC follow-up worklist: summary</h1>{_table(kpis)}\n"
        f"{_bars('Patients by most urgent alert', co['by_highest_urgency'])}\n"
        f"{_bars('Patients by assessment status', co['by_status'])}\n"
        f"{_bars('AFP trend', co['afp_trend'])}\n"
        f"{_bars('Likely metastatic sites named', co['likely_sites'])}\n"
        f"{_bars('Export resources by type', ex['resources_by_type'])}\n"
        f"{_bars('Problems in the export (see problems.csv)', ex['problems_by_kind'])}\n"
        f"<h2>Most urgent patients (up to 50)</h2><ul>{urgent or '<li>none</li>'}</ul>\n"
        f'<p class="note">{escape(summary["disclaimer"])} Source: {escape(summary["source"])}.</p>\n'
        "</body></html>\n"
    )
