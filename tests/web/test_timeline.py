"""The patient timeline: every dated event, newest first, typed."""

from __future__ import annotations

import datetime as dt

from hccwatch.registry import OutreachView
from hccwatch.web.timeline import timeline
from support import record


def _rec() -> object:
    return record(
        labs=[
            {"test": "afp", "value": 10, "unit": "IU/mL", "date": "2026-03-01"},
            {"test": "bilirubin", "value": 1.0, "unit": "mg/dL", "date": "2026-03-01"},
            {"test": "afp", "value": 4, "unit": "ng/mL", "date": "2025-09-01"},
        ],
        treatments=[{"type": "tace", "date": "2025-06-01"}, {"type": "resection", "date": "2026-03-01"}],
        imaging=[{"date": "2026-02-01", "modality": "ct", "region": "liver", "result": "new_lesion"}],
        symptoms=[{"code": "back_pain", "onset": "2026-04-01"}, {"code": "cough"}],
    )


def test_newest_first_with_labs_of_a_day_in_one_row() -> None:
    call = OutreachView(
        1, 1, "navigator", dt.datetime(2026, 5, 2, 9, 30, tzinfo=dt.UTC), "no_answer", "left voicemail"
    )
    rows = timeline(_rec(), [call])  # type: ignore[arg-type]
    assert [(r.date_text, r.kind) for r in rows] == [
        ("2026-05-02", "outreach"),
        ("2026-04-01", "symptom"),
        ("2026-03-01", "treatment"),
        ("2026-03-01", "labs"),
        ("2026-02-01", "imaging"),
        ("2025-09-01", "labs"),
        ("2025-06-01", "treatment"),
        ("date unknown", "symptom"),
    ]
    labs = rows[3]
    assert "AFP 12.1 ng/mL (10 IU/mL)" in labs.detail and "bilirubin 1 mg/dL" in labs.detail
    assert (
        rows[0].title == "No answer" and "left voicemail" in rows[0].detail and "09:30 UTC" in rows[0].detail
    )
    assert rows[2].title == "Resection" and rows[6].title == "TACE"
    assert rows[4].title == "CT liver" and "New lesion" in rows[4].detail


def test_an_empty_record_has_an_empty_timeline() -> None:
    assert timeline(record()) == ()
