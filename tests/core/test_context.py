"""Facts after as_of are invisible; stale labs are unknown and say why."""

from __future__ import annotations

import datetime as dt

from support import context, labs, record


def test_latest_lab_ignores_the_future_and_records_the_input() -> None:
    rec = record(labs=labs("2026-10-01", inr=1.1) + labs("2026-11-01", inr=1.4) + labs("2026-12-01", inr=2.0))
    ctx = context(rec, as_of=dt.date(2026, 11, 24))
    t = ctx.trace("x")
    lab = ctx.latest_lab(t, "inr")
    assert lab is not None and lab.value == 1.4
    assert t.inputs[0].date == dt.date(2026, 11, 1)


def test_a_stale_lab_is_unknown_and_named() -> None:
    ctx = context(record(labs=labs("2025-01-01", bilirubin=1.0)))
    t = ctx.trace("x")
    assert ctx.latest_lab(t, "bilirubin") is None
    assert "older than" in t.missing[0]


def test_absent_lab_is_named_missing() -> None:
    ctx = context(record())
    t = ctx.trace("x")
    assert ctx.latest_lab(t, "sodium") is None
    assert t.missing == ("labs.sodium",)


def test_symptoms_active_on_the_date() -> None:
    rec = record(
        symptoms=[
            {"code": "cough", "onset": "2026-10-01", "resolved": "2026-10-20"},
            {"code": "back_pain", "onset": "2026-11-01"},
            {"code": "headache", "onset": "2026-12-01"},
            {"code": "jaundice"},
        ]
    )
    assert [s.code for s in context(rec).active_symptoms()] == ["back_pain", "jaundice"]


def test_treatments_by_type_in_date_order() -> None:
    rec = record(
        treatments=[{"type": "tace", "date": "2024-05-01"}, {"type": "resection", "date": "2023-01-01"}]
    )
    ctx = context(rec)
    assert [t.type for t in ctx.treatments()] == ["resection", "tace"]
    assert [t.type for t in ctx.treatments("tace")] == ["tace"]
