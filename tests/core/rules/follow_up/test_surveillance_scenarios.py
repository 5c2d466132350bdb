"""Situation -> expected next due dates and overdue flags, at least one per schedule profile.

Dates follow from the knowledge: 30.4375 days per month (1 month = 30 days, 2 = 61, 3 = 91,
6 = 183 after rounding), 30 days of grace, and each profile's schedule (clinical-pathway §4;
RETREAT from clinical-scores §5).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from hccwatch.core.rules.follow_up.surveillance import surveillance
from support import context, record


def _img(when: str, modality: str, region: str) -> dict[str, Any]:
    return {"date": when, "modality": modality, "region": region, "result": "normal"}


def _lab(test: str, when: str, value: float = 5.0) -> dict[str, Any]:
    unit = {"afp": "ng/mL", "dcp": "mAU/mL"}[test]
    return {"test": test, "value": value, "unit": unit, "date": when}


SCENARIOS = [
    pytest.param(
        "default",
        {
            "treatments": [{"type": "resection", "date": "2026-01-01"}],
            "imaging": [_img("2026-04-01", "ct", "abdomen"), _img("2026-01-20", "ct", "chest")],
            "labs": [_lab("afp", "2026-04-01")],
        },
        dt.date(2026, 6, 1),
        {
            "liver_multiphase_ct_or_mri": ("2026-07-01", False),
            "afp": ("2026-07-01", False),
            "chest_ct": ("2026-07-22", False),  # day 19 + 183
        },
        False,
        id="default: 5 months after resection, all on time, chest CT 6-monthly",
    ),
    pytest.param(
        "default",
        {
            "treatments": [{"type": "resection", "date": "2025-09-16"}],
            "imaging": [_img("2025-12-15", "ct", "abdomen"), _img("2026-09-14", "ultrasound", "liver")],
            "labs": [_lab("afp", "2026-11-10")],
        },
        dt.date(2026, 11, 24),
        {
            "liver_multiphase_ct_or_mri": ("2026-03-16", True),  # ultrasound is not CT/MRI
            "afp": ("2027-02-09", False),
            "chest_ct": ("2026-03-18", True),  # never done: 183 days after the resection
        },
        True,
        id="default: ultrasound-only follow-up after resection leaves CT/MRI and chest CT overdue",
    ),
    pytest.param(
        "aasld_2023",
        {
            "treatments": [{"type": "ablation", "date": "2024-01-10"}],
            "imaging": [_img("2025-12-01", "mri", "liver")],
        },
        dt.date(2026, 5, 1),
        {"liver_multiphase_ct_or_mri": ("2026-03-02", True), "afp": ("2024-04-10", True)},
        True,
        id="aasld_2023: month 22 after ablation, 3-monthly MRI 60 days late, AFP never done",
    ),
    pytest.param(
        "aasld_2023",
        {
            "treatments": [{"type": "ablation", "date": "2023-01-10"}],
            "imaging": [_img("2025-06-01", "mri", "liver")],
            "labs": [_lab("afp", "2025-06-01")],
        },
        dt.date(2025, 10, 1),
        {"liver_multiphase_ct_or_mri": ("2025-12-01", False), "afp": ("2025-12-01", False)},
        False,
        id="aasld_2023: after 2 years the interval lengthens to 6 months",
    ),
    pytest.param(
        "easl",
        {"imaging": [_img("2026-01-15", "ultrasound", "abdomen")]},
        dt.date(2026, 11, 24),
        {"abdominal_ultrasound": ("2026-07-17", True)},
        True,
        id="easl: at risk, ultrasound alone every 6 months, 4 months late",
    ),
    pytest.param(
        "china_2024",
        {
            "treatments": [{"type": "tace", "date": "2026-06-01"}],
            "imaging": [_img("2026-09-01", "ct", "liver"), _img("2026-09-01", "ultrasound", "liver")],
            "labs": [_lab("afp", "2026-09-01"), _lab("dcp", "2026-09-01")],
        },
        dt.date(2026, 11, 24),
        {
            "liver_multiphase_ct_or_mri": ("2026-12-01", False),
            "abdominal_ultrasound": ("2026-12-01", False),
            "afp": ("2026-12-01", False),
            "dcp": ("2026-12-01", False),
        },
        False,
        id="china_2024: after TACE, AFP + DCP + ultrasound + CT/MRI every 3 months",
    ),
    pytest.param(
        "article_six_monthly",
        {
            "treatments": [{"type": "resection", "date": "2025-09-16"}],
            "imaging": [_img("2026-09-14", "ultrasound", "liver")],
            "labs": [_lab("afp", "2026-11-10")],
        },
        dt.date(2026, 11, 24),
        {"abdominal_ultrasound": ("2027-03-16", False), "afp": ("2027-05-12", False)},
        False,
        id="article_six_monthly: ultrasound + AFP every 6 months after resection, on time",
    ),
    pytest.param(
        "article_six_monthly",
        {
            "treatments": [{"type": "transplant", "date": "2024-03-18"}],
            "explant": {"largest_viable_cm": 3.4, "viable_count": 2, "microvascular_invasion": True},
            "labs": [_lab("afp", "2024-03-10", 182), _lab("afp", "2026-09-01")],
        },
        dt.date(2026, 11, 24),
        {"abdominal_ultrasound": ("2024-09-17", True), "afp": ("2027-03-03", False)},
        True,
        id="article_six_monthly: the plain schedule also after transplant (no RETREAT)",
    ),
    pytest.param(
        "default",
        {
            "treatments": [{"type": "systemic", "date": "2026-09-01", "agent": "lenvatinib"}],
            "imaging": [_img("2026-10-15", "ct", "abdomen"), _img("2026-10-15", "ct", "chest")],
        },
        dt.date(2026, 11, 24),
        {
            "liver_multiphase_ct_or_mri": ("2026-12-15", False),
            "chest_ct": ("2026-12-15", False),
            "afp": ("2026-10-01", True),
        },
        True,
        id="default: on systemic therapy, response imaging every 2 months, monthly AFP",
    ),
    # What was done is credited where the schedule accepts it (issue 6 §1).
    pytest.param(
        "article_six_monthly",
        {
            "treatments": [{"type": "resection", "date": "2025-09-16"}],
            "imaging": [_img("2026-06-10", "mri", "liver")],
            "labs": [_lab("afp", "2026-06-10")],
        },
        dt.date(2026, 11, 24),
        {"abdominal_ultrasound": ("2026-12-10", False), "afp": ("2026-12-10", False)},
        False,
        id="article_six_monthly: a liver MRI counts for the six-monthly ultrasound",
    ),
    pytest.param(
        "aasld_2023",
        {
            "treatments": [{"type": "ablation", "date": "2023-01-10"}],
            "imaging": [_img("2025-03-01", "ultrasound", "abdomen")],
            "labs": [_lab("afp", "2025-03-01")],
        },
        dt.date(2025, 7, 1),
        {"liver_multiphase_ct_or_mri": ("2025-08-31", False), "afp": ("2025-08-31", False)},
        False,
        id="aasld_2023: after 2 years an ultrasound counts for the liver imaging (day 781 + 183)",
    ),
    pytest.param(
        "aasld_2023",
        {
            "treatments": [{"type": "ablation", "date": "2024-01-10"}],
            "imaging": [_img("2025-01-10", "ct", "abdomen"), _img("2025-09-10", "ultrasound", "liver")],
            "labs": [_lab("afp", "2026-02-10")],
        },
        dt.date(2026, 3, 10),
        {"liver_multiphase_ct_or_mri": ("2025-04-11", True), "afp": ("2026-08-12", False)},
        True,
        id="aasld_2023: an ultrasound in the first 2 years does not replace the 3-monthly CT/MRI",
    ),
    pytest.param(
        "default",
        {"imaging": [_img("2026-03-01", "mri", "liver")], "labs": [_lab("afp", "2026-03-01")]},
        dt.date(2026, 11, 24),
        {"abdominal_ultrasound": ("2026-08-31", True), "afp": ("2026-08-31", True)},
        True,
        id="default, at risk: surveillance by liver MRI counts for the ultrasound",
    ),
    pytest.param(
        "china_2024",
        {
            "treatments": [{"type": "tace", "date": "2026-01-10"}],
            "imaging": [_img("2026-09-01", "ct", "liver")],
            "labs": [_lab("afp", "2026-09-01"), _lab("dcp", "2026-09-01")],
        },
        dt.date(2026, 11, 24),
        {
            "liver_multiphase_ct_or_mri": ("2026-12-01", False),
            "abdominal_ultrasound": ("2026-12-01", False),  # the CT covers it (day 234 + 91)
            "afp": ("2026-12-01", False),
            "dcp": ("2026-12-01", False),
        },
        False,
        id="china_2024: a 3-monthly liver CT also counts for the ultrasound",
    ),
]


def _last_never(f: Any) -> bool:
    return "last never" in f.explanation or any(n["last_done"] is None for n in f["next_due"])


@pytest.mark.parametrize("treatment", ["resection", "ablation", "tace", "transplant", None])
def test_regular_ultrasounds_never_show_last_never_where_accepted(treatment: str | None) -> None:
    """The patient article's follow-up: ultrasound and AFP every 6 months, whatever the treatment."""
    dates = [f"{year}-{month:02d}-15" for year in (2024, 2025, 2026) for month in (3, 9)]
    fields: dict[str, Any] = {
        "imaging": [_img(d, "ultrasound", "liver") for d in dates],
        "labs": [_lab("afp", d) for d in dates],
    }
    if treatment is not None:
        fields["treatments"] = [{"type": treatment, "date": "2024-01-15"}]
    f = surveillance(context(record(**fields), dt.date(2026, 11, 24)), "article_six_monthly")
    assert not _last_never(f)
    assert f["overdue"] is False
    assert all(n["last_done"] == "2026-09-15" for n in f["next_due"])


def test_regular_ultrasounds_after_two_years_count_under_aasld_and_default() -> None:
    dates = ["2025-03-15", "2025-09-15", "2026-03-15", "2026-09-15"]
    rec = record(
        treatments=[{"type": "resection", "date": "2022-06-01"}],
        imaging=[_img(d, "ultrasound", "abdomen") for d in dates],
        labs=[_lab("afp", d) for d in dates],
    )
    for profile in ("aasld_2023", "default"):
        f = surveillance(context(rec, dt.date(2026, 11, 24)), profile)
        liver = next(n for n in f["next_due"] if n["item"] == "liver_multiphase_ct_or_mri")
        assert liver["last_done"] == "2026-09-15"
        assert liver["last_done_by"] == "abdominal_ultrasound"
        assert liver["overdue"] is False
        assert "abdominal ultrasound, accepted at that stage of this schedule" in f.explanation


def test_an_ultrasound_that_does_not_count_is_named_not_hidden() -> None:
    """Article patient 1 (default profile): 3-monthly ultrasounds after resection, one CT."""
    rec = record(
        treatments=[{"type": "resection", "date": "2025-09-16"}],
        imaging=[_img("2026-03-16", "ultrasound", "liver"), _img("2026-09-14", "ultrasound", "liver")],
    )
    f = surveillance(context(rec, dt.date(2026, 11, 24)), "default")
    liver = next(n for n in f["next_due"] if n["item"] == "liver_multiphase_ct_or_mri")
    assert liver["overdue"] is True and liver["last_done"] is None
    assert (
        "last never; the abdominal ultrasound on 2026-09-14 does not count as multiphase liver CT/MRI"
        in f.explanation
    )


def test_schedule_lists_what_each_band_accepts() -> None:
    rec = record(treatments=[{"type": "resection", "date": "2022-06-01"}])
    f = surveillance(context(rec, dt.date(2026, 11, 24)), "aasld_2023")
    accepts = {(b["item"], b["from_month"]): b["accepts"] for b in f["schedule"]}
    assert accepts[("liver_multiphase_ct_or_mri", 0)] == []
    assert accepts[("liver_multiphase_ct_or_mri", 24)] == ["abdominal_ultrasound"]
    assert "multiphase liver CT/MRI or abdominal ultrasound every 6 months" in f.explanation
    assert "HCCWATCH-POLICY" in f.citations


@pytest.mark.parametrize(("profile", "fields", "as_of", "expected", "overdue"), SCENARIOS)
def test_scenario(
    profile: str,
    fields: dict[str, Any],
    as_of: dt.date,
    expected: dict[str, tuple[str, bool]],
    overdue: bool,
) -> None:
    f = surveillance(context(record(**fields), as_of), profile)
    got = {n["item"]: (n["due"], n["overdue"]) for n in f["next_due"]}
    assert got == expected
    assert f["overdue"] is overdue
    assert f["profile"] == profile
    assert f.determined
