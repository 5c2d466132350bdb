"""transplant_criteria: the contract and the worked examples of clinical-scores.md table 1.6."""

from __future__ import annotations

import json
from typing import Any

import pytest
from transplant_support import WITHIN_KEYS, criteria

from support import labs

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
