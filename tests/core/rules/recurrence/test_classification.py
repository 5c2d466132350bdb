"""Recurrence after curative treatment: early/late (COLECCHIA-2014) and IM vs de novo (reference §3)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hccwatch.core.finding import Finding
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.recurrence.classification import add_months, months_between, recurrence
from support import context, record

IM, DE_NOVO = "intrahepatic_metastasis", "de_novo"
RESECTION = {"type": "resection", "date": "2023-03-15"}


def liver_scan(
    when: str, *lesions: dict[str, Any], result: str = "new_lesion", region: str = "liver"
) -> dict[str, Any]:
    return {"date": when, "modality": "mri", "region": region, "result": result, "lesions": list(lesions)}


def run(**fields: Any) -> Finding:
    fields.setdefault("treatments", [RESECTION])
    return recurrence(context(record(**fields)))


# --- early vs late: COLECCHIA-2014, "within 2 years" is early; the anniversary itself is late ---


@pytest.mark.parametrize(
    ("treated", "seen", "timing", "months"),
    [
        ("2023-03-15", "2025-03-14", "early", 23),  # COLECCHIA-2014: one day before 2 years
        ("2023-03-15", "2025-03-15", "late", 24),  # COLECCHIA-2014: exactly 2 years
        ("2023-03-15", "2023-04-01", "early", 0),
        ("2023-03-15", "2026-01-01", "late", 33),
        ("2024-02-29", "2026-02-27", "early", 23),  # leap day: the anniversary is 28 February
        ("2024-02-29", "2026-02-28", "late", 24),
    ],
)
def test_early_late_boundary_is_two_calendar_years(treated: str, seen: str, timing: str, months: int) -> None:
    f = run(
        treatments=[{"type": "resection", "date": treated}],
        imaging=[liver_scan(seen, {"site": "liver", "new": True})],
    )
    assert (f["timing"], f["months_since_treatment"], f["early_cutoff_months"]) == (timing, months, 24)
    assert "COLECCHIA-2014" in f.citations


def test_alternative_cut_offs_are_notes_only() -> None:
    # 15 months: late for POON-2000 (1 year) and LIU-2023 (13 months, MVI),
    # early for YAMAMOTO-2015 (17 months)
    f = run(microvascular_invasion=True, imaging=[liver_scan("2024-06-20", {"site": "liver", "new": True})])
    assert f["timing"] == "early"
    assert any("12-month" in n and "late" in n for n in f.notes)
    assert any("17-month" in n and "early" in n for n in f.notes)
    assert any("13-month" in n and "late" in n for n in f.notes)
    assert "recurrence.alternative_cutoff_months.poon" in f.unverified


def test_the_mvi_cut_off_is_noted_only_with_mvi() -> None:
    f = run(microvascular_invasion=False, imaging=[liver_scan("2024-06-20", {"site": "liver", "new": True})])
    assert not any("13-month" in n for n in f.notes)


# --- IM vs de novo (clinical reference §3 proxies, [K] so unverified) ---

IM_CASE: dict[str, Any] = {
    "tumors": [{"segment": "6", "satellite_nodules": True}],
    "microvascular_invasion": True,
    "liver": {"cirrhosis": False},
    "imaging": [liver_scan("2024-01-10", {"site": "liver", "segment": "7", "new": True, "count": 3})],
}
DE_NOVO_CASE: dict[str, Any] = {
    "tumors": [{"segment": "6", "satellite_nodules": False}],
    "microvascular_invasion": False,
    "liver": {"cirrhosis": True},
    "imaging": [liver_scan("2026-01-10", {"site": "liver", "segment": "2", "new": True})],
}


@pytest.mark.parametrize(
    ("case", "favours", "im_reasons", "de_novo_reasons"),
    [
        pytest.param(IM_CASE, IM, 4, 0, id="ref-§3-early-adjacent-multiple-mvi"),
        pytest.param(DE_NOVO_CASE, DE_NOVO, 0, 4, id="ref-§3-late-distant-solitary-cirrhosis"),
    ],
)
def test_clear_cases(case: dict[str, Any], favours: str, im_reasons: int, de_novo_reasons: int) -> None:
    f = run(**case)
    assert f["favours"] == favours and f.determined and not f.missing
    assert (len(f["reasons_im"]), len(f["reasons_de_novo"])) == (im_reasons, de_novo_reasons)  # type: ignore[arg-type]
    assert "recurrence.im_mo_clues" in f.unverified and "HAO-2017" in f.citations


def test_reasons_state_the_facts() -> None:
    f = run(**IM_CASE)
    text = " ".join(f["reasons_im"])  # type: ignore[arg-type]
    assert "same or adjacent segment" in text and "segment 7" in text and "segment 6" in text
    assert "3 (>= 2)" in text and "microvascular invasion and satellite nodules" in text


def test_a_tie_favours_neither_and_shows_both_lists() -> None:
    # early (IM) + MVI (IM) vs a distant segment (MO) + solitary (MO); no cirrhosis: 2 vs 2, nothing unknown
    f = run(
        tumors=[{"segment": "6", "satellite_nodules": False}],
        microvascular_invasion=True,
        liver={"cirrhosis": False},
        imaging=[liver_scan("2024-01-10", {"site": "liver", "segment": "2", "new": True})],
    )
    assert f["favours"] is None and f.determined
    assert len(f["reasons_im"]) == len(f["reasons_de_novo"]) == 2  # type: ignore[arg-type]
    assert "balanced" in f.explanation


def test_unknown_clues_that_could_overturn_the_lead_leave_it_open() -> None:
    f = run(imaging=[liver_scan("2024-01-10", result="new_lesion")])
    assert f["timing"] == "early" and f["favours"] is None and not f.determined
    assert {"liver.cirrhosis", "microvascular_invasion"} <= set(f.missing)
    assert f["reasons_im"] == ["early: 9 months after resection on 2023-03-15 (< 24 months)"]


def test_a_lead_that_unknowns_cannot_overturn_is_answered_with_the_gap_listed() -> None:
    case = {**IM_CASE, "liver": {}}
    f = run(**case)
    assert f["favours"] == IM and f.determined and f.missing == ("liver.cirrhosis",)


def test_segment_4_is_the_same_segment_as_4a() -> None:
    f = run(
        tumors=[{"segment": "4"}],
        imaging=[liver_scan("2024-01-10", {"site": "liver", "segment": "4a", "new": True})],
    )
    assert any("same or adjacent" in r for r in f["reasons_im"])  # type: ignore[union-attr]


def test_adjacency_table_is_symmetric_and_anatomical() -> None:
    table = default_knowledge().entry("recurrence.adjacent_segments").value
    assert isinstance(table, dict)
    segments = {"1", "2", "3", "4", "4a", "4b", "5", "6", "7", "8"}
    assert set(table) == segments
    for seg, near in table.items():
        assert isinstance(near, list) and set(near) <= segments and seg not in near
        for other in near:
            assert seg in table[str(other)], (seg, other)  # type: ignore[operator]


def test_after_transplant_the_origin_is_not_weighed() -> None:
    f = run(
        treatments=[{"type": "transplant", "date": "2022-05-01"}],
        imaging=[liver_scan("2023-05-01", {"site": "liver", "new": True})],
    )
    assert f["timing"] == "early" and f["favours"] is None and f.determined
    assert "graft" in f.explanation


# --- nothing to classify is an answer, not missing data ---

NO_CURATIVE, NO_LESION = "No curative treatment", "No new intrahepatic lesion recorded"


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"treatments": [{"type": "tace", "date": "2023-01-01"}]}, NO_CURATIVE),
        ({"treatments": [{"type": "ablation", "date": "2023-01-01", "curative": False}]}, NO_CURATIVE),
        ({}, NO_LESION),
        ({"imaging": [liver_scan("2027-01-01", {"site": "liver", "new": True})]}, NO_LESION),
        ({"imaging": [liver_scan("2023-01-01", {"site": "liver", "new": True})]}, NO_LESION),
        ({"imaging": [liver_scan("2024-01-01", {"site": "adrenal"}, region="abdomen")]}, NO_LESION),
        ({"imaging": [liver_scan("2024-01-01", result="stable")]}, NO_LESION),
    ],
    ids=["tace-only", "non-curative-ablation", "no-imaging", "future-lesion", "before-treatment",
         "extrahepatic-only", "stable"],
)  # fmt: skip
def test_nothing_to_classify(fields: dict[str, Any], says: str) -> None:
    f = run(**fields)
    assert f["timing"] is None and f["favours"] is None and f["lesion"] is None
    assert f.determined and not f.missing and says in f.explanation and f.citations


def test_no_new_lesion_names_the_reference_treatment() -> None:
    f = run()
    assert f["treatment"] == {"type": "resection", "date": "2023-03-15"}
    assert "no new intrahepatic lesion recorded" in f.explanation.lower()


def test_the_latest_curative_treatment_is_the_reference() -> None:
    f = run(
        treatments=[RESECTION, {"type": "ablation", "date": "2024-06-01"}],
        imaging=[
            liver_scan("2024-01-10", {"site": "liver", "new": True}),
            liver_scan("2025-01-10", {"site": "liver", "new": True}),
        ],
    )
    assert f["treatment"] == {"type": "ablation", "date": "2024-06-01"}
    assert f["lesion"]["date"] == "2025-01-10"  # type: ignore[index]


def test_a_new_liver_lesion_on_any_study_counts() -> None:
    scan = liver_scan("2024-01-10", {"site": "liver", "new": True, "size_cm": 1.4}, region="whole_body")
    f = run(imaging=[{**scan, "modality": "pet_ct", "result": "indeterminate"}])
    assert f["lesion"] == {
        "date": "2024-01-10", "modality": "pet_ct", "region": "whole_body", "result": "indeterminate",
        "count": 1, "segments": [], "largest_cm": 1.4,
    }  # fmt: skip


# --- calendar arithmetic (the boundary depends on it) ---


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [("2024-01-31", 1, "2024-02-29"), ("2023-01-31", 1, "2023-02-28"), ("2023-11-15", 2, "2024-01-15"),
     ("2024-02-29", 12, "2025-02-28"), ("2023-05-05", 0, "2023-05-05")],
)  # fmt: skip
def test_add_months(start: str, months: int, end: str) -> None:
    assert add_months(dt.date.fromisoformat(start), months) == dt.date.fromisoformat(end)


@given(st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)), st.dates(dt.date(2000, 1, 1), dt.date(2035, 1, 1)),
       st.integers(0, 60))  # fmt: skip
def test_months_between_agrees_with_add_months(start: dt.date, end: dt.date, n: int) -> None:
    if end >= start:
        assert (months_between(start, end) >= n) == (add_months(start, n) <= end)
