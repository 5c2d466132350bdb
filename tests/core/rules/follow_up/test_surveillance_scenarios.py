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
]


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
