"""The order of a record's lists never changes an answer (issue 6 §1).

Same-day studies are common (an abdominal CT and a liver MRI on one visit); whichever the
record lists first must not decide an alert, a recurrence or an option. Dates are drawn from a
few days so that same-day studies are frequent.

Imaging, labs and treatments (drawn on the same few days) are permuted. Same-day duplicate labs
of one test with different values are a conflict to report, not to resolve by order (also
``core/context.py``); this test keeps one value per test and day, so it checks every other lab
look-up.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch import assess
from strategies import LAB_RANGES, records

AS_OF = dt.date(2026, 11, 24)
DAYS = st.sampled_from(["2024-05-02", "2025-11-03", "2026-06-01", "2026-10-01", "2026-11-20"])

lesion = st.fixed_dictionaries(
    {"site": st.sampled_from(["liver", "lung", "adrenal", "bone", "lymph_node", "brain"])},
    optional={
        "size_cm": st.sampled_from([0.6, 0.9, 1.0, 1.5, 3.2]),
        "new": st.none() | st.booleans(),
        "segment": st.sampled_from(["2", "6", "7", "8"]),
        "count": st.integers(1, 3),
    },
)
study = st.fixed_dictionaries(
    {
        "date": DAYS,
        "modality": st.sampled_from(["ultrasound", "ct", "mri", "pet_ct", "chest_xray"]),
        "region": st.sampled_from(["liver", "abdomen", "chest", "whole_body"]),
        "result": st.sampled_from(["normal", "new_lesion", "indeterminate", "stable", "progression"]),
        "lesions": st.lists(lesion, max_size=3),
    }
)


@st.composite
def labs(draw: st.DrawFn) -> list[dict[str, Any]]:
    chosen = draw(st.lists(st.tuples(st.sampled_from(sorted(LAB_RANGES)), DAYS), max_size=10, unique=True))
    out = []
    for test, day in chosen:
        lo, hi, unit = LAB_RANGES[test]
        out.append({"test": test, "value": round(draw(st.floats(lo, hi)), 2), "unit": unit, "date": day})
    return out


@st.composite
def record_and_shuffled(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    data = dict(draw(records))
    data["imaging"] = draw(st.lists(study, max_size=6))
    data["labs"] = draw(labs())
    data["treatments"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {"type": st.sampled_from(["resection", "ablation", "systemic"]), "date": DAYS},
                optional={"curative": st.booleans()},
            ),
            max_size=2,
        )
    )
    data["metastatic_sites"] = draw(
        st.lists(
            st.fixed_dictionaries(
                {"site": st.sampled_from(["lung", "adrenal", "bone"])},
                optional={"count": st.integers(1, 4), "date": DAYS, "resectable": st.booleans()},
            ),
            max_size=3,
        )
    )
    shuffled = {
        **data,
        "imaging": draw(st.permutations(data["imaging"])),
        "labs": draw(st.permutations(data["labs"])),
        "treatments": draw(st.permutations(data["treatments"])),
    }
    return data, shuffled


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_and_shuffled())
def test_permuting_imaging_labs_and_treatments_never_changes_the_assessment(
    pair: tuple[dict[str, Any], ...],
) -> None:
    original, shuffled = pair
    assert assess(shuffled, as_of=AS_OF).to_dict() == assess(original, as_of=AS_OF).to_dict()


ADRENAL_CT = {
    "date": "2026-10-01", "modality": "ct", "region": "abdomen", "result": "new_lesion",
    "lesions": [{"site": "adrenal", "size_cm": 3.2, "new": True}],
}  # fmt: skip
LIVER_MRI = {"date": "2026-10-01", "modality": "mri", "region": "liver", "result": "normal"}
ABDOMEN_MRI = {"date": "2026-10-01", "modality": "mri", "region": "abdomen", "result": "normal"}


def test_the_survivor_scenario_is_the_same_in_every_order() -> None:
    base: dict[str, Any] = {
        "id": "survivor",
        "ecog": 0,
        "treatments": [{"type": "resection", "date": "2022-02-15", "curative": True}],
        "metastatic_sites": [{"site": "adrenal", "count": 1, "date": "2026-10-01", "resectable": True}],
    }
    studies = [ADRENAL_CT, LIVER_MRI, ABDOMEN_MRI]
    orders = [studies, studies[::-1], [studies[1], studies[0], studies[2]]]
    results = [assess({**base, "imaging": order}, as_of=AS_OF).to_dict() for order in orders]
    assert results[0] == results[1] == results[2]
    alerts = {a["id"] for a in results[0]["alerts"]}  # type: ignore[index, union-attr]
    assert "imaging_new_lesion" in alerts
