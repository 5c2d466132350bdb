"""transplant_criteria: the contract and the worked examples of clinical-scores.md table 1.6."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from transplant_support import WITHIN_KEYS, criteria

from corpus import build as corpus
from hccwatch.core.memo import clear_all
from hccwatch.core.rules.transplant import transplant_criteria
from hccwatch.record.model import parse_record
from support import context, labs

CONTRACT_KEYS = {*WITHIN_KEYS, "unos_downstaging"}


def test_every_contract_key_with_its_rule_id() -> None:
    found = criteria((2.0,), afp=10)
    assert CONTRACT_KEYS <= set(found)
    for key, finding in found.items():
        assert finding.rule == f"transplant.{key}"
        answer = "eligible" if key.startswith("unos_") else "within"
        assert answer in finding.values
        assert finding.citations, key
        json.dumps(finding.to_dict())


# (case, sizes, AFP ng/mL, expected {key: within}, expected extra values)
# Source: derived, clinical-scores.md table 1.6 (T2-T7), from the definitions in table 1.1.
WORKED: list[tuple[str, tuple[float, ...], float | None, dict[str, bool], dict[str, Any]]] = [
    ("T2", (3.0, 3.0, 3.0), None, {"milan": True, "ucsf": False, "up_to_seven": True}, {}),
    ("T3 5.0 cm", (5.0,), None, {"milan": True, "ucsf": True}, {}),
    ("T3 5.1 cm", (5.1,), None, {"milan": False, "ucsf": True}, {}),
    (
        "T4",
        (6.5,),
        10,
        {"milan": False, "ucsf": True, "up_to_seven": False, "afp_model": False},
        {"afp_model": 4, "up_to_seven": 7.5},
    ),
    (
        "T5",
        (4.0, 2.0, 1.0),
        300,
        {"up_to_seven": True, "ucsf": True, "metroticket_2": False, "afp_model": False},
        {"afp_model": 3, "up_to_seven": 7.0},
    ),
    (
        "T6",
        (2.5, 2.5, 2.5, 2.5),
        20,
        {"milan": False, "ucsf": False, "up_to_seven": True, "afp_model": True},
        {"afp_model": 2, "up_to_seven": 6.5},
    ),
    ("T7", (4.0,), 150, {"milan": True, "afp_model": False}, {"afp_model": 3}),
]


@pytest.mark.parametrize(
    ("sizes", "afp", "expected", "numbers"),
    [pytest.param(*row[1:], id=f"{row[0]} (derived, clinical-scores.md table 1.6)") for row in WORKED],
)
def test_worked_examples(
    sizes: tuple[float, ...], afp: float | None, expected: dict[str, bool], numbers: dict[str, Any]
) -> None:
    found = criteria(sizes, afp=afp)
    assert {k: found[k]["within"] for k in expected} == expected
    for key, value in numbers.items():
        assert found[key]["points" if key == "afp_model" else "sum"] == value
    assert all(found[k].determined for k in expected)


def test_t5_ucsf_total_diameter_is_seven() -> None:
    # derived, clinical-scores.md table 1.6 T5: UCSF in with TTD 7 cm
    assert criteria((4.0, 2.0, 1.0))["ucsf"]["total_cm"] == 7.0


@pytest.mark.parametrize(
    ("sizes", "eligible"),
    [
        pytest.param((2.0, 2.0, 2.0, 2.0), True, id="T8 4 x 2.0 cm, sum 8 (derived, table 1.6)"),
        pytest.param((2.5, 2.5, 2.5, 2.5), False, id="T8 4 x 2.5 cm, sum 10 (derived, table 1.6)"),
    ],
)
def test_t8_unos_downstaging(sizes: tuple[float, ...], eligible: bool) -> None:
    assert criteria(sizes)["unos_downstaging"]["eligible"] is eligible


def test_t9_afp_above_1000_then_below_500_after_tace() -> None:
    # UNOS 2017 (HCC automatic approval criteria updated): T2 lesion, AFP 1200, then 450 after TACE.
    lesion = [{"size_cm": 3.0, "viable": True}]
    before = criteria(tumors=lesion, labs=labs("2026-10-01", afp=1200))["unos_afp_exception"]
    assert before["eligible"] is False and before["t2"] is True
    assert "1200" in before.explanation
    after = criteria(
        tumors=lesion,
        labs=labs("2026-10-01", afp=1200) + labs("2026-11-20", afp=450),
        treatments=[{"type": "tace", "date": "2026-10-15"}],
    )["unos_afp_exception"]
    assert after["eligible"] is True and after["afp_ng_ml"] == 450
    assert "UNOS-2017-HCC" in after.citations


def _fresh_and_memoised(raw: dict[str, Any], as_of: dt.date) -> tuple[list[Any], list[Any]]:
    ctx = context(parse_record(raw), as_of)
    clear_all()
    fresh = [f.to_dict() for f in transplant_criteria(ctx).values()]
    memoised = [f.to_dict() for f in transplant_criteria(ctx).values()]
    return fresh, memoised


@pytest.mark.parametrize("as_of", [dt.date(2026, 11, 24), dt.date(2021, 6, 1)])
def test_memoised_findings_are_the_findings(as_of: dt.date) -> None:
    """The memo keys on everything the criteria read: across the seeded corpus records, each
    answered first from a cold memo and then from records seen before, nothing differs."""
    raws = [*corpus.generated(), *corpus.examples()]
    clear_all()
    warm = {}
    for raw in raws:
        found = transplant_criteria(context(parse_record(raw), as_of))
        warm[raw["id"]] = [f.to_dict() for f in found.values()]
    for raw in raws:
        fresh, memoised = _fresh_and_memoised(raw, as_of)
        assert fresh == memoised == warm[raw["id"]], raw["id"]


@pytest.mark.parametrize("lab", [{"bilirubin": 1.0}, {"afp": 10.0}], ids=["memoised", "size-only memoised"])
def test_memoised_findings_are_copies(lab: dict[str, float]) -> None:
    ctx = context(parse_record({"id": "t", "labs": labs(**lab)}))
    first = transplant_criteria(ctx)
    first["milan"].values["within"] = True  # type: ignore[index]
    assert transplant_criteria(ctx)["milan"]["within"] is None


_BASE: dict[str, Any] = {
    "tumors": [{"size_cm": 3.0}],
    "tumors_assessed_on": "2026-10-01",
    "macrovascular_invasion": False,
    "extrahepatic_metastasis": False,
    "lymph_node_metastasis": False,
    "labs": [
        {"test": "afp", "value": 2000, "unit": "ng/mL", "date": "2026-07-01"},
        {"test": "afp", "value": 50, "unit": "ng/mL", "date": "2026-11-01"},
    ],
}
_AFP_HIGH = [{"test": "afp", "value": 2000, "unit": "ng/mL", "date": "2026-11-01"}]


# Each pair differs only in something the criteria read outside the shared tumour facts.
@pytest.mark.parametrize(
    ("other", "as_of"),
    [
        pytest.param({"infiltrative": True}, None, id="infiltrative"),
        pytest.param({"histologic_grade": "poor", "tumors": [{"size_cm": 9.0}]}, None, id="grade"),
        pytest.param({"dcp_mau_ml": 900}, None, id="dcp"),
        pytest.param({"labs": _AFP_HIGH}, None, id="afp"),
        pytest.param({"treatments": [{"type": "resection", "date": "2026-08-01"}]}, None, id="treatments"),
        pytest.param({}, dt.date(2027, 6, 1), id="as_of"),
    ],
)
def test_memo_tells_apart_what_the_criteria_read(other: dict[str, Any], as_of: dt.date | None) -> None:
    shared = {k: v for k, v in other.items() if k == "tumors"}  # beyond 8 cm grade is read
    first = parse_record({"id": "a", **_BASE, **shared})
    second = parse_record({"id": "b", **_BASE, **other})
    when = as_of or dt.date(2026, 11, 24)
    clear_all()
    transplant_criteria(context(first))
    warm = [f.to_dict() for f in transplant_criteria(context(second, when)).values()]
    clear_all()
    cold = [f.to_dict() for f in transplant_criteria(context(second, when)).values()]
    clear_all()
    assert warm == cold
    assert cold != [f.to_dict() for f in transplant_criteria(context(first)).values()]
