"""AFP and imaging triggers (Sugiyama 2004, Yoon 2021, Turshudzhyan 2022)."""

from __future__ import annotations

from typing import Any

import pytest
from metastasis_helpers import EARLY_MAN, RISING_AFP, afp_finding, study, with_

from hccwatch import assess
from hccwatch.core.finding import Finding
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.metastasis.suspicion import afp_suspicions, imaging_suspicions
from support import context, record


def _afp(afp: Finding, *imaging: dict[str, Any]) -> tuple[list[str], list[str], tuple[str, ...]]:
    ctx = context(record(**with_(EARLY_MAN, imaging=list(imaging))))
    t = ctx.trace("metastasis.sites")
    found = afp_suspicions(ctx, t, afp)
    return [s.id for s in found], [r.test for s in found for r in s.tests], t.finish({}, "").notes


@pytest.mark.parametrize(
    ("afp", "alerted"),
    [
        pytest.param(afp_finding("rising", False, 9.0), True, id="rising-below-threshold"),
        pytest.param(afp_finding("rising", True, 48.0), True, id="rising-above"),
        pytest.param(afp_finding("stable", True, 30.0), True, id="raised-stable"),
        pytest.param(afp_finding(None, True, 30.0), True, id="raised-single-value"),
        pytest.param(afp_finding("falling", True, 300.0), False, id="raised-falling"),
        pytest.param(afp_finding("stable", False, 4.0), False, id="normal"),
        pytest.param(afp_finding("falling", False, 4.0), False, id="falling-normal"),
    ],
)
def test_afp_trigger(afp: Finding, alerted: bool) -> None:
    ids, _, _ = _afp(afp)
    assert (ids == ["afp_rise"]) is alerted


def test_falling_raised_afp_is_noted() -> None:
    _, _, notes = _afp(afp_finding("falling", True, 300.0))
    assert any("falling" in n for n in notes)


@pytest.mark.parametrize(
    ("imaging", "tests"),
    [
        pytest.param([], ["liver_multiphase_ct_or_mri", "chest_ct"], id="no-imaging"),
        pytest.param(
            [study("2026-10-01", "ultrasound", "liver", "normal")],
            ["liver_multiphase_ct_or_mri", "chest_ct"],
            id="Sugiyama2004-normal-ultrasound",
        ),
        pytest.param(
            [study("2026-10-01", "ct", "chest", "normal")], ["liver_multiphase_ct_or_mri"], id="chest-done"
        ),
        pytest.param(
            [study("2026-06-01", "mri", "liver", "normal"), study("2026-06-01", "ct", "chest", "normal")],
            ["liver_multiphase_ct_or_mri", "chest_ct"],
            id="negative-imaging-too-old",
        ),
        pytest.param(
            [study("2026-10-01", "mri", "liver", "normal"), study("2026-10-02", "ct", "chest", "stable")],
            ["fdg_pet_ct"],
            id="cross-sectional-negative-then-PET",
        ),
        pytest.param(
            [study("2026-10-01", "ct", "chest", "new_lesion", {"site": "lung"})],
            [],
            id="explained-by-imaging",
        ),
        # A superseded abnormal study raises no imaging alert, so it cannot explain the AFP.
        pytest.param(
            [
                study("2026-09-01", "ct", "chest", "new_lesion", {"site": "lung"}),
                study("2026-11-01", "ct", "chest", "normal"),
            ],
            ["liver_multiphase_ct_or_mri"],
            id="abnormal-superseded-by-normal-explains-nothing",
        ),
        pytest.param(
            [study("2026-09-01", "ct", "chest", "normal"), study("2026-11-01", "ct", "chest", "progression")],
            [],
            id="normal-superseded-by-abnormal-explains",
        ),
    ],
)
def test_afp_plan_follows_recent_imaging(imaging: list[dict[str, Any]], tests: list[str]) -> None:
    _, got, _ = _afp(RISING_AFP, *imaging)
    assert got == tests


def _imaging(*imaging: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...]]]:
    ctx = context(record(**with_(EARLY_MAN, imaging=list(imaging))))
    return [(s.id, s.urgency, s.sites) for s in imaging_suspicions(ctx, ctx.trace("x"), RISING_AFP)]


def test_latest_study_of_each_region_decides() -> None:
    assert _imaging(
        study("2026-01-01", "ct", "chest", "new_lesion", {"site": "lung"}),
        study("2026-06-01", "ct", "chest", "stable"),
        study("2026-07-01", "mri", "liver", "indeterminate"),
    ) == [("imaging_indeterminate", "soon", ("liver",))]


def test_region_gives_the_site_when_lesions_are_not_itemised() -> None:
    assert _imaging(study("2026-11-01", "mri", "brain", "new_lesion")) == [
        ("imaging_new_lesion", "urgent", ("brain",))
    ]


@pytest.mark.parametrize(
    ("afp", "alerted", "gaps"),
    [
        pytest.param(
            afp_finding(None, False, 9.0), False, {"afp.trend"}, id="one-normal-value-trend-unknown"
        ),
        pytest.param(afp_finding("stable", None, 9.0), False, {"afp.above_threshold"}, id="latest-too-old"),
        pytest.param(afp_finding(None, True, 30.0), True, {"afp.trend"}, id="raised-trend-unknown"),
        pytest.param(afp_finding("stable", False, 4.0), False, set(), id="both-known"),
    ],
)
def test_an_unknown_trend_or_level_is_a_gap_even_when_the_other_is_known(
    afp: Finding, alerted: bool, gaps: set[str]
) -> None:
    ctx = context(record(**EARLY_MAN))
    t = ctx.trace("metastasis.sites")
    assert bool(afp_suspicions(ctx, t, afp)) is alerted
    assert set(t.missing) == gaps


def test_the_afp_statement_names_the_lowest_threshold_reached_and_cites_it() -> None:
    afp = Finding(
        rule="afp.kinetics",
        values={
            "latest": {"value": 450.0, "date": "2026-11-01"},
            "trend": "rising",
            "above_threshold": True,
            "thresholds_exceeded": ["afp_20", "afp_200", "afp_400"],
        },
        determined=True,
        explanation="",
    )
    ctx = context(record(**EARLY_MAN))
    (s,) = afp_suspicions(ctx, ctx.trace("metastasis.sites"), afp)
    assert s.reasons[0] == "AFP 450 ng/mL on 2026-11-01 is at or above 20 ng/mL; its trend is rising."
    cited = default_knowledge().entry("afp.threshold_ng_ml.afp_20").citations
    assert set(cited) <= set(s.citations)


def _imaging_ids(*imaging: dict[str, Any], treatments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    fields = with_(EARLY_MAN, imaging=list(imaging))
    if treatments is not None:
        fields["treatments"] = treatments
    ctx = context(record(**fields))
    found = imaging_suspicions(ctx, ctx.trace("metastasis.sites"), RISING_AFP)
    return {s.id: s for s in found}


def test_a_finding_older_than_the_window_is_no_longer_an_open_suspicion() -> None:
    # as_of 2026-11-24; the window is 180 days (knowledge: metastasis.suspicion.imaging.alert_window_days)
    assert "imaging_new_lesion" in _imaging_ids(study("2026-06-01", "ct", "abdomen", "new_lesion"))
    assert _imaging_ids(study("2023-05-01", "ct", "abdomen", "new_lesion")) == {}


@pytest.mark.parametrize(
    ("first", "second", "alert"),
    [
        # Ultrasound finds 47% of early HCC (Tzartzeva 2018): it cannot clear a CT finding.
        pytest.param(
            ("ct", "new_lesion"), ("ultrasound", "normal"), "imaging_new_lesion", id="us-cannot-clear-ct"
        ),
        pytest.param(("ultrasound", "indeterminate"), ("mri", "normal"), None, id="mri-clears-us"),
        pytest.param(("mri", "new_lesion"), ("ct", "normal"), None, id="ct-clears-mri"),
        pytest.param(
            ("mri", "normal"), ("ultrasound", "new_lesion"), "imaging_new_lesion", id="weaker-abnormal-counts"
        ),
    ],
)
def test_a_later_study_supersedes_only_if_as_sensitive_or_abnormal(
    first: tuple[str, str], second: tuple[str, str], alert: str | None
) -> None:
    found = _imaging_ids(
        study("2026-09-01", first[0], "liver", first[1]), study("2026-10-15", second[0], "liver", second[1])
    )
    assert list(found) == ([alert] if alert else [])


def test_a_treatment_after_the_study_is_said_not_hidden() -> None:
    found = _imaging_ids(
        study("2026-09-01", "ct", "liver", "new_lesion"),
        treatments=[
            {"type": "resection", "date": "2025-09-16", "margin": "R0"},
            {"type": "tace", "date": "2026-09-20"},
        ],
    )
    assert any("tace on 2026-09-20 followed this study" in r for r in found["imaging_new_lesion"].reasons)


# --- AFP not normalised after curative treatment (Shirabe 1997, Allard 2014) --------------------

NOT_NORMALISED_RECORD: dict[str, Any] = {
    "id": "not-normalised",
    "treatments": [{"type": "resection", "date": "2025-06-10", "curative": True}],
    "labs": [
        {"test": "afp", "value": v, "unit": "ng/mL", "date": d}
        for d, v in (("2025-06-01", 1200), ("2025-07-10", 300), ("2025-08-20", 80), ("2025-10-15", 45))
    ],
}


def test_falling_but_not_normalised_is_its_own_alert_with_workup() -> None:
    out = assess(NOT_NORMALISED_RECORD, as_of="2025-11-01").to_dict()
    assert out["afp"]["trend"] == "falling" and out["afp"]["normalisation"] == "not_normalised"
    [alert] = [a for a in out["alerts"] if a["id"].startswith("afp")]
    assert alert["id"] == "afp_not_normalised" and alert["urgency"] == "soon"
    assert "residual or hidden disease" in alert["detail"] and "2025-09-08" in alert["detail"]
    assert {"SHIRABE-1997", "ALLARD-2014"} <= set(alert["citations"])
    # The 20 ng/mL normal is verified (Shirabe 1997) and the 7-day half-life a project choice (issue 11).
    assert not {"afp.normalisation.normal_below_ng_ml", "afp.half_life_days"} & set(alert["unverified"])
    assert {w["test"]: w["urgency"] for w in out["workup"]} == {
        "liver_multiphase_ct_or_mri": "soon",
        "chest_ct": "soon",
    }


def test_rising_and_not_normalised_is_one_rise_alert_that_says_both() -> None:
    rec = {
        **NOT_NORMALISED_RECORD,
        "labs": [
            *NOT_NORMALISED_RECORD["labs"],
            {"test": "afp", "value": 90, "unit": "ng/mL", "date": "2025-12-15"},
            {"test": "afp", "value": 160, "unit": "ng/mL", "date": "2026-01-20"},
        ],
    }
    out = assess(rec, as_of="2026-01-25").to_dict()
    assert out["afp"]["trend"] == "rising"
    ids = [a["id"] for a in out["alerts"]]
    assert "afp_rise" in ids and "afp_not_normalised" not in ids
    detail = next(a["detail"] for a in out["alerts"] if a["id"] == "afp_rise")
    assert "has not returned to normal since the last curative treatment" in detail


def test_unknown_normalisation_is_a_gap_when_nothing_else_alerts() -> None:
    ids, _, _ = _afp(afp_finding("falling", True, 60.0, normalisation=None))
    assert ids == []
    ctx = context(record(**EARLY_MAN))
    t = ctx.trace("metastasis.sites")
    afp_suspicions(ctx, t, afp_finding("falling", True, 60.0, normalisation=None))
    assert "afp.normalisation" in t.missing


def test_the_rise_alert_carries_the_knowledge_of_the_criteria_that_fired() -> None:
    # The 6 -> 15 -> 48 ng/mL: rising by nadir multiple, doubling time and ULN, not by slope.
    rec = {
        "id": "issue-series",
        "treatments": [{"type": "resection", "date": "2025-09-16"}],
        "labs": [
            {"test": "afp", "value": v, "unit": "ng/mL", "date": d}
            for d, v in (("2026-03-20", 6), ("2026-07-20", 15), ("2026-11-20", 48))
        ],
    }
    [alert] = [a for a in assess(rec, as_of="2026-11-24").alerts if a.id == "afp_rise"]
    # The criteria that fired are project choices (status "policy", issue 11), so none is unverified.
    assert not {
        "afp.rise.nadir_multiple",
        "afp.rise.doubling_time_months",
        "afp.upper_limit_normal_ng_ml",
        "afp.rising_slope_ng_ml_per_month",
    } & set(alert.unverified)
    assert {"KIM-2016", "SHEU-1985"} <= set(alert.citations)


# --- unconfirmed liver lesions; same-day studies (issue 6 §1) ---


def test_a_sub_centimetre_liver_lesion_is_a_routine_prompt_to_re_image_not_a_new_lesion() -> None:
    # AASLD-2010: a nodule under 1 cm is followed with repeat imaging at 3-6 months.
    found = _imaging_ids(
        study("2026-11-01", "mri", "liver", "new_lesion", {"site": "liver", "size_cm": 0.6, "new": True})
    )
    assert list(found) == ["imaging_indeterminate"]
    s = found["imaging_indeterminate"]
    assert s.urgency == "routine" and s.sites == ("liver",)
    assert [(r.test, r.urgency) for r in s.tests] == [("liver_multiphase_ct_or_mri", "routine")]
    assert any("under 1 cm cannot be diagnosed" in r and "3-6 months" in r for r in s.reasons)
    # The 1 cm floor is a project choice by analogy with AASLD 2010 (status "policy", issue 11).
    assert {"AASLD-2010", "HCCWATCH-POLICY"} <= set(s.citations)
    assert "recurrence.confirmed_lesion_min_cm" not in s.unverified


def test_a_sub_centimetre_liver_lesion_beside_a_lung_nodule_is_still_a_new_lesion() -> None:
    found = _imaging_ids(
        study("2026-11-01", "ct", "abdomen", "new_lesion", {"site": "liver", "size_cm": 0.6, "new": True},
              {"site": "adrenal", "size_cm": 2.0, "new": True})
    )  # fmt: skip
    assert list(found) == ["imaging_new_lesion"]


def test_an_indeterminate_finding_keeps_its_site_urgency() -> None:
    found = _imaging_ids(
        study("2026-11-01", "mri", "liver", "indeterminate", {"site": "liver", "size_cm": 1.2})
    )
    assert found["imaging_indeterminate"].urgency == "soon"


ADRENAL_CT = study(
    "2026-10-01", "ct", "abdomen", "new_lesion", {"site": "adrenal", "size_cm": 3.0, "new": True}
)
NORMAL_MRI = study("2026-10-01", "mri", "abdomen", "normal")


@pytest.mark.parametrize(
    "order", [(ADRENAL_CT, NORMAL_MRI), (NORMAL_MRI, ADRENAL_CT)], ids=["ct-first", "mri-first"]
)
def test_a_normal_study_of_the_same_day_does_not_clear_a_finding(order: tuple[dict[str, Any], ...]) -> None:
    found = _imaging_ids(*order)
    assert list(found) == ["imaging_new_lesion"] and found["imaging_new_lesion"].sites == ("adrenal",)


def test_same_day_findings_of_one_region_all_stand() -> None:
    lung = study("2026-10-01", "ct", "chest", "new_lesion", {"site": "lung", "size_cm": 1.5, "new": True})
    node = study("2026-10-01", "pet_ct", "chest", "indeterminate", {"site": "lymph_node", "size_cm": 1.1})
    for order in ((lung, node), (node, lung)):
        found = _imaging_ids(*order)
        assert sorted(found) == ["imaging_indeterminate", "imaging_new_lesion"]
