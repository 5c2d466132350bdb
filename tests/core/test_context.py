"""Facts after as_of are invisible; stale labs are unknown and say why; same-day conflicts are named."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch import assess, parse_record
from hccwatch.core.rules.scores.meld import meld
from strategies import records
from support import AS_OF, context, labs, record


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


# Same-day results of one test (issue 6 §1): disagreeing values are a conflict, never resolved by
# list order; identical duplicates are one result.


def _afp(when: str, value: float, unit: str = "ng/mL") -> dict[str, object]:
    return {"test": "afp", "value": value, "unit": unit, "date": when}


CONFLICT = "labs.afp: 2 different results on 2026-10-01 (12, 48 ng/mL)"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_latest_date_conflict_is_named_and_never_falls_back(order: tuple[int, ...]) -> None:
    entries = [_afp("2026-09-01", 5), _afp("2026-10-01", 48), _afp("2026-10-01", 12)]
    ctx = context(record(labs=[entries[i] for i in order]))
    t = ctx.trace("x")
    # The 2026-09-01 value is not current when a later result exists, even a disputed one.
    assert ctx.latest_lab(t, "afp") is None
    assert t.missing == (CONFLICT,)
    assert t.inputs == ()
    assert [(lab.date.isoformat(), lab.value) for lab in ctx.labs("afp")] == [
        ("2026-09-01", 5),
        ("2026-10-01", 12),
        ("2026-10-01", 48),
    ]


def test_identical_same_day_duplicates_are_one_result() -> None:
    ctx = context(record(labs=[_afp("2026-10-01", 12), _afp("2026-10-01", 12.0)]))
    t = ctx.trace("x")
    lab = ctx.latest_lab(t, "afp")
    assert lab is not None and lab.value == 12
    assert t.missing == ()
    assert len(ctx.lab_series(t, "afp")) == 1


def test_same_value_in_two_units_agrees() -> None:
    # 17.1 µmol/L is 1.0 mg/dL (reference §0 bilirubin factor 17.1).
    rows = labs("2026-11-01", bilirubin=1.0) + labs("2026-11-01", bilirubin=(17.1, "µmol/L"))
    ctx = context(record(labs=rows))
    t = ctx.trace("x")
    assert ctx.latest_lab(t, "bilirubin") is not None
    assert t.missing == ()


def test_an_older_conflict_does_not_touch_the_latest_value() -> None:
    ctx = context(record(labs=[_afp("2026-10-01", 48), _afp("2026-10-01", 12), _afp("2026-11-01", 7)]))
    t = ctx.trace("x")
    lab = ctx.latest_lab(t, "afp")
    assert lab is not None and lab.value == 7
    assert t.missing == ()


def test_series_leaves_out_a_disputed_date_and_names_it() -> None:
    rows = [_afp("2026-08-01", 5), _afp("2026-10-01", 48), _afp("2026-10-01", 12), _afp("2026-11-01", 7)]
    ctx = context(record(labs=rows))
    t = ctx.trace("x")
    assert [lab.date.isoformat() for lab in ctx.lab_series(t, "afp")] == ["2026-08-01", "2026-11-01"]
    assert t.missing == (CONFLICT,)


def test_conflict_before_a_reference_date() -> None:
    ctx = context(record(labs=[_afp("2026-10-01", 48), _afp("2026-10-01", 12)]))
    t = ctx.trace("x")
    assert ctx.latest_lab(t, "afp", on_or_before=dt.date(2026, 10, 15)) is None
    assert t.missing == (CONFLICT,)
    assert ctx.lab_conflict("afp", dt.date(2026, 10, 1)) == CONFLICT
    assert ctx.lab_conflict("afp", dt.date(2026, 10, 2)) is None


@pytest.mark.parametrize("first", [1.0, 3.0])
def test_meld_with_disputed_creatinine_is_not_computed_whichever_comes_first(first: float) -> None:
    other = 4.0 - first
    rows = labs("2026-11-01", bilirubin=1.0, inr=1.0, sodium=137)
    rows += labs("2026-11-01", creatinine=first) + labs("2026-11-01", creatinine=other)
    rec = record(age=60, labs=rows, liver={"dialysis_twice_past_week": False, "cvvhd_24h_past_week": False})
    f = meld(context(rec))
    assert f["value"] is None
    assert "labs.creatinine: 2 different results on 2026-11-01 (1, 3 mg/dL)" in f.missing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=records, seed=st.randoms(use_true_random=False))
def test_the_assessment_does_not_depend_on_the_order_of_the_labs(data: dict[str, Any], seed: Any) -> None:
    rows = list(data.get("labs", []))
    # Same-day duplicates, agreeing and disagreeing, so order would matter if anything picked by it.
    rows += [{**row, "value": row["value"]} for row in rows[:2]]
    rows += [{**row, "value": round(row["value"] + 0.01, 2)} for row in rows[2:3]]
    shuffled = list(rows)
    seed.shuffle(shuffled)
    one = assess(parse_record({**data, "labs": rows}), as_of=AS_OF).to_dict()
    two = assess(parse_record({**data, "labs": shuffled}), as_of=AS_OF).to_dict()
    assert one == two


def test_same_day_treatments_come_in_one_order_whatever_the_record_says() -> None:
    rows = [
        {"type": "tace", "date": "2026-03-02"},
        {"type": "systemic", "date": "2026-03-02", "agent": "sorafenib"},
        {"type": "ablation", "date": "2026-03-02"},
        {"type": "systemic", "date": "2026-03-02", "agent": "lenvatinib"},
    ]
    orders = {
        tuple((t.type, t.agent) for t in context(record(treatments=list(p))).treatments())
        for p in itertools.permutations(rows)
    }
    assert orders == {
        (("ablation", None), ("systemic", "lenvatinib"), ("systemic", "sorafenib"), ("tace", None))
    }


def test_same_day_studies_come_in_one_order_whatever_the_record_says() -> None:
    rows = [
        {"date": "2026-03-02", "modality": "ct", "region": "chest", "result": "normal"},
        {"date": "2026-03-02", "modality": "mri", "region": "liver", "result": "new_lesion"},
        {"date": "2026-01-10", "modality": "ct", "region": "liver", "result": "stable"},
        {"date": "2026-03-02", "modality": "ct", "region": "liver", "result": "stable"},
    ]
    orders = {
        tuple((s.date, s.region, s.modality) for s in context(record(imaging=list(p))).studies())
        for p in itertools.permutations(rows)
    }
    assert orders == {
        (
            (dt.date(2026, 1, 10), "liver", "ct"),
            (dt.date(2026, 3, 2), "chest", "ct"),
            (dt.date(2026, 3, 2), "liver", "ct"),
            (dt.date(2026, 3, 2), "liver", "mri"),
        )
    }


def test_studies_and_imaging_are_fresh_lists_of_the_past() -> None:
    rows = [
        {"date": "2026-12-01", "modality": "ct", "region": "liver", "result": "stable"},
        {"date": "2026-01-10", "modality": "ct", "region": "liver", "result": "stable"},
    ]
    ctx = context(record(imaging=rows), as_of=dt.date(2026, 11, 24))
    first = ctx.studies()
    first.clear()  # a caller changing its list changes nothing kept in the context
    assert [s.date for s in ctx.studies()] == [dt.date(2026, 1, 10)]
    assert [s.date for s in ctx.imaging()] == [dt.date(2026, 1, 10)]


def test_shared_facts_belong_to_one_context() -> None:
    rec = record()
    one, two = context(rec), context(rec)
    one.shared["x"] = 1
    assert two.shared == {}
