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
    # 15 months: late for JUNG-JGS (1 year) and LIU-2023 (13 months, MVI),
    # early for YAMAMOTO-2015 (17 months)
    f = run(microvascular_invasion=True, imaging=[liver_scan("2024-06-20", {"site": "liver", "new": True})])
    assert f["timing"] == "early"
    assert any("12-month" in n and "late" in n for n in f.notes)
    assert any("17-month" in n and "early" in n for n in f.notes)
    assert any("13-month" in n and "late" in n for n in f.notes)
    # The 1-year cut-off is read in its source now (knowledge 2026.5.1), so it is not flagged.
    assert "recurrence.alternative_cutoff_months.one_year" not in f.unverified


def test_the_mvi_cut_off_is_noted_only_with_mvi() -> None:
    f = run(microvascular_invasion=False, imaging=[liver_scan("2024-06-20", {"site": "liver", "new": True})])
    assert not any("13-month" in n for n in f.notes)


# --- IM vs de novo: weighted clues (HAO-2017 factors weigh 2, reference §3 proxies 1; margin 2) ---

KNOWN_PRIMARY: dict[str, Any] = {"macrovascular_invasion": False, "microvascular_invasion": False}


def primary(size: float, segment: str, *, near_portal_vein: bool = False, **extra: Any) -> dict[str, Any]:
    return {
        "size_cm": size, "segment": segment, "near_portal_vein": near_portal_vein,
        "satellite_nodules": False, **extra,
    }  # fmt: skip


# Hao 2017: a large (> 5 cm) primary; portal-vein proximity ([K] anatomically); early, adjacent.
LARGE_NEAR_PORTAL_VEIN: dict[str, Any] = {
    **KNOWN_PRIMARY,
    "tumors": [primary(6.5, "7", near_portal_vein=True)],
    "liver": {"cirrhosis": False},
    "imaging": [liver_scan("2024-01-10", {"site": "liver", "segment": "8", "size_cm": 1.5, "new": True})],
}
# Hao 2017: cirrhosis favours multicentric occurrence; a small primary; late; a distant segment.
SMALL_LATE_CIRRHOSIS: dict[str, Any] = {
    **KNOWN_PRIMARY,
    "tumors": [primary(2.5, "6")],
    "liver": {"cirrhosis": True},
    "imaging": [liver_scan("2026-01-10", {"site": "liver", "segment": "2", "size_cm": 1.4, "new": True})],
}
# A large primary (IM 2) and early (IM 1) against cirrhosis (MO 2), a distant segment and a
# solitary nodule (MO 1 + 1): 3 vs 4, nothing unknown.
BALANCED: dict[str, Any] = {
    **KNOWN_PRIMARY,
    "tumors": [primary(6.0, "6")],
    "liver": {"cirrhosis": True},
    "imaging": [liver_scan("2024-01-10", {"site": "liver", "segment": "2", "size_cm": 1.5, "new": True})],
}


@pytest.mark.parametrize(
    ("case", "favours", "weights"),
    [
        pytest.param(LARGE_NEAR_PORTAL_VEIN, IM, (5.0, 1.0), id="Hao2017-large-primary-near-portal-vein"),
        pytest.param(SMALL_LATE_CIRRHOSIS, DE_NOVO, (0.0, 6.0), id="Hao2017-small-late-cirrhosis"),
    ],
)
def test_clear_cases(case: dict[str, Any], favours: str, weights: tuple[float, float]) -> None:
    f = run(**case)
    assert f["favours"] == favours and f.determined and not f.missing
    assert f["weights"] == {IM: weights[0], DE_NOVO: weights[1]}
    assert f["decision_margin"] == 2 and f["unknown_clues"] == []
    # Clue weights are project choices (status "policy", issue 11): cited, not flagged as unchecked.
    assert not {"recurrence.clue.large_primary", "recurrence.clue.small_primary"} & set(f.unverified)
    assert "HCCWATCH-POLICY" in f.citations
    assert "HAO-2017" in f.citations


def test_every_clue_is_shown_with_its_side_and_weight() -> None:
    f = run(**LARGE_NEAR_PORTAL_VEIN)
    clues = {row["clue"]: (row["favours"], row["weight"]) for row in f["clues"]}  # type: ignore[index, union-attr]
    assert clues == {
        "primary_size": (IM, 2), "multiple_primary": ("neither", 0), "vascular_invasion": ("neither", 0),
        "satellites": ("neither", 0), "portal_vein": (IM, 1), "timing": (IM, 1), "location": (IM, 1),
        "new_multiplicity": (DE_NOVO, 1), "cirrhosis": ("neither", 0),
    }  # fmt: skip
    # 5 vs 1: the solitary new nodule is shown on the other side; the lead still reaches the margin.
    assert f["weights"] == {IM: 5.0, DE_NOVO: 1.0}


def test_reasons_state_the_facts_and_the_weights() -> None:
    f = run(**LARGE_NEAR_PORTAL_VEIN)
    text = " ".join(f["reasons_im"])  # type: ignore[arg-type]
    assert "large primary: 6.5 cm (> 5 cm) (weight 2)" in text
    assert "primary next to the portal vein (weight 1)" in text
    assert "same or adjacent segment: new lesion in segment 8, treated tumour in segment 7" in text
    assert "weights" in f.explanation and "margin 2" in f.explanation


def test_a_real_balance_is_not_decided_and_determined() -> None:
    f = run(**BALANCED)
    assert f["favours"] == "not_decided" and f.determined and not f.missing
    assert f["weights"] == {IM: 3.0, DE_NOVO: 4.0}
    assert "balanced" in f.explanation
    assert f["reasons_im"] and f["reasons_de_novo"]


def test_unknown_clues_that_could_tip_the_balance_leave_it_open() -> None:
    f = run(imaging=[liver_scan("2024-01-10", result="new_lesion")])
    assert f["timing"] == "early" and f["favours"] == "not_decided" and not f.determined
    assert {"liver.cirrhosis", "microvascular_invasion", "tumors[].size_cm (treated tumour)"} <= set(
        f.missing
    )
    assert f["reasons_im"] == ["early: 9 months after resection on 2023-03-15 (< 24 months) (weight 1)"]
    unknown = {row["clue"] for row in f["unknown_clues"]}  # type: ignore[index, union-attr]
    assert {"primary_size", "cirrhosis", "location", "new_multiplicity"} <= unknown


def test_a_lead_that_unknowns_cannot_overturn_is_answered_with_the_gap_listed() -> None:
    # IM 5 vs de novo 1; cirrhosis unknown could add 2 for de novo: 5 - 1 - 2 >= 2.
    f = run(**{**LARGE_NEAR_PORTAL_VEIN, "liver": {}})
    assert f["favours"] == IM and f.determined and f.missing == ("liver.cirrhosis",)
    assert f["unknown_weights"] == {IM: 0.0, DE_NOVO: 2.0}


def test_a_three_to_five_cm_primary_gives_no_size_vote() -> None:
    f = run(**{**SMALL_LATE_CIRRHOSIS, "tumors": [primary(4.0, "6")]})
    row = next(r for r in f["clues"] if r["clue"] == "primary_size")  # type: ignore[index, union-attr]
    assert row["favours"] == "neither"  # type: ignore[index]


def test_hepatitis_activity_is_named_as_not_weighed() -> None:
    f = run(**SMALL_LATE_CIRRHOSIS)
    assert any("inflammatory activity" in n for n in f.notes)


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
    assert "graft" in f.explanation and f["clues"] == []


# --- nothing to classify is an answer, not missing data ---

NO_CURATIVE, NO_LESION = "No curative treatment", "No confirmed new intrahepatic lesion recorded"


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
    assert "no confirmed new intrahepatic lesion recorded" in f.explanation.lower()


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
    f = run(imaging=[{**scan, "modality": "pet_ct"}])
    assert f["lesion"] == {
        "date": "2024-01-10", "modality": "pet_ct", "region": "whole_body", "result": "new_lesion",
        "count": 1, "segments": [], "largest_cm": 1.4,
    }  # fmt: skip


# --- only a confirmed lesion is a recurrence (AASLD-2010: nodules < 1 cm are re-imaged) ---


def new_liver(size: float) -> dict[str, Any]:
    return {"site": "liver", "new": True, "size_cm": size}


@pytest.mark.parametrize(
    ("scan", "kind"),
    [
        pytest.param(
            liver_scan("2024-01-10", new_liver(1.4), result="indeterminate"),
            "indeterminate",
            id="indeterminate",
        ),
        pytest.param(
            liver_scan("2024-01-10", result="indeterminate"), "indeterminate", id="indeterminate-no-lesion"
        ),
        pytest.param(liver_scan("2024-01-10", new_liver(0.6)), "subcentimetre", id="AASLD2010-0.6cm"),
        pytest.param(
            liver_scan("2024-01-10", new_liver(0.6), new_liver(0.9)), "subcentimetre", id="two-under-1cm"
        ),
    ],
)
def test_an_unconfirmed_finding_is_a_prompt_not_a_recurrence(scan: dict[str, Any], kind: str) -> None:
    f = run(**{**SMALL_LATE_CIRRHOSIS, "imaging": [scan]})
    assert f["timing"] is None and f["favours"] is None and f["lesion"] is None and f.determined
    assert [u["kind"] for u in f["unconfirmed"]] == [kind]  # type: ignore[index, union-attr]
    assert "Not a confirmed recurrence" in f.explanation and "repeat multiphase imaging" in f.explanation


def test_a_lesion_of_1_cm_is_confirmed_and_smaller_ones_beside_it_count() -> None:
    scan = liver_scan(
        "2024-01-10",
        {"site": "liver", "new": True, "size_cm": 1.0},
        {"site": "liver", "new": True, "size_cm": 0.6},
    )
    f = run(imaging=[scan])
    assert f["timing"] == "early" and f["lesion"]["count"] == 2  # type: ignore[index]


def test_the_recurrence_dates_from_the_confirming_study() -> None:
    f = run(
        imaging=[
            liver_scan("2024-01-10", {"site": "liver", "new": True, "size_cm": 0.7}),
            liver_scan("2025-06-10", {"site": "liver", "new": True, "size_cm": 1.6}),
        ]
    )
    assert f["lesion"]["date"] == "2025-06-10" and f["timing"] == "late"  # type: ignore[index]
    assert [u["date"] for u in f["unconfirmed"]] == ["2024-01-10"]  # type: ignore[index, union-attr]


def test_same_day_studies_give_the_same_answer_in_any_order() -> None:
    mri = liver_scan(
        "2024-01-10",
        {"site": "liver", "new": True, "segment": "7", "size_cm": 1.5},
        {"site": "liver", "new": True, "segment": "8", "size_cm": 1.2},
    )
    ct = {
        **liver_scan("2024-01-10", {"site": "liver", "new": True, "size_cm": 1.4}),
        "modality": "ct",
        "region": "abdomen",
    }
    one, two = run(imaging=[mri, ct]), run(imaging=[ct, mri])
    assert one.to_dict() == two.to_dict()
    assert one["lesion"]["count"] == 2  # type: ignore[index]


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


def test_tumours_assessed_after_the_treatment_are_not_read_as_the_primary() -> None:
    # They may describe the recurrence itself: the primary's size, number and site become unknown.
    f = run(**{**LARGE_NEAR_PORTAL_VEIN, "tumors_assessed_on": "2024-01-10"})
    unknown = {row["clue"] for row in f["unknown_clues"]}  # type: ignore[index, union-attr]
    assert {"primary_size", "multiple_primary", "satellites", "portal_vein", "location"} <= unknown
    assert any("tumors_assessed_on 2024-01-10 is after it" in m for m in f.missing)
