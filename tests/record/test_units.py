"""Unit conversion at the boundary (clinical-scores.md §0)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch.errors import UnitError
from hccwatch.record.model import LabTest
from hccwatch.record.units import (
    LAB_TESTS,
    CanonicalValue,
    boundary_tables,
    canonical_unit,
    normalise_unit_spelling,
    to_canonical,
)


@pytest.mark.parametrize(
    ("test", "value", "unit", "expected", "canonical"),
    [
        # V13: 100 IU/mL = 121 ng/mL (factor 1.21, SurgicalInformatics/transplantbenefit)
        ("afp", 100, "IU/mL", 121.0, "ng/mL"),
        ("afp", 100, "kU/L", 121.0, "ng/mL"),
        ("afp", 100, "µg/L", 100.0, "ng/mL"),
        ("afp", 100, "ug/l", 100.0, "ng/mL"),
        ("bilirubin", 34.2, "µmol/L", 2.0, "mg/dL"),
        ("bilirubin", 17.1, "umol/L", 1.0, "mg/dL"),
        ("bilirubin", 1.2, "mg/dL", 1.2, "mg/dL"),
        ("creatinine", 88.4, "µmol/L", 1.0, "mg/dL"),
        ("creatinine", 170, "μmol/L", 170 / 88.4, "mg/dL"),  # Greek mu, as some exports write it
        ("albumin", 35, "g/L", 3.5, "g/dL"),
        ("albumin", 3.5, "g/dL", 3.5, "g/dL"),
        ("sodium", 131, "mEq/L", 131.0, "mmol/L"),
        ("platelets", 150, "10^3/µL", 150.0, "10^9/L"),
        ("platelets", 150, "G/L", 150.0, "10^9/L"),
        ("inr", 1.3, None, 1.3, "1"),
        ("inr", 1.3, "1", 1.3, "1"),
        ("dcp", 450, "mAU/mL", 450.0, "mAU/mL"),
        ("dcp", 3.1, "ng/mL", 3.1, "ng/mL"),  # assay-specific: kept apart, never converted
        ("afp_l3", 12, "%", 12.0, "%"),
    ],
)
def test_conversions(test: str, value: float, unit: str | None, expected: float, canonical: str) -> None:
    c = to_canonical(test, value, unit)
    assert c.value == pytest.approx(expected, rel=1e-12)
    assert c.unit == canonical


@pytest.mark.parametrize(
    ("test", "unit"),
    [
        ("afp", "mg/L"),
        ("afp", "ng/dL"),
        ("bilirubin", "mmol/L"),
        ("albumin", "mg/dL"),
        ("inr", "s"),
        ("sodium", ""),
    ],
)
def test_unknown_units_are_refused_with_the_accepted_ones_named(test: str, unit: str) -> None:
    with pytest.raises(UnitError, match=f"(not accepted|no unit given) for {test}"):
        normalise_unit_spelling(test, unit)


def test_the_model_and_the_converter_know_the_same_tests() -> None:
    assert set(LabTest.__args__) == set(LAB_TESTS)
    for test in LAB_TESTS:
        assert canonical_unit(test)


def test_conversion_reads_the_knowledge_base_it_is_given() -> None:
    import dataclasses

    from hccwatch.core.knowledge import default_knowledge

    k = default_knowledge()
    entry = k.entry("units.albumin")
    assert isinstance(entry.value, dict) and isinstance(entry.value["convert"], dict)
    value = {**entry.value, "convert": {**entry.value["convert"], "g/L": ["divide", 20]}}
    other = dataclasses.replace(
        k, entries={**k.entries, "units.albumin": dataclasses.replace(entry, value=value)}
    )
    assert to_canonical("albumin", 40, "g/L", other).value == pytest.approx(2.0)
    assert to_canonical("albumin", 40, "g/L").value == pytest.approx(4.0)
    # resolved once per knowledge base, not per lab
    assert boundary_tables(other) is boundary_tables(other)
    assert boundary_tables(k) is boundary_tables()


def _converted_afresh(test: str, value: float, unit: str | None) -> CanonicalValue | str:
    """The conversion worked out from the spelling table and the knowledge base with nothing
    remembered (the reference for the remembered rules), or the UnitError's message."""
    tables = boundary_tables()
    try:
        spelled = normalise_unit_spelling(test, unit)
    except UnitError as exc:
        return str(exc)
    rule = tables.conversions[test].get(spelled)
    if rule is None:
        shown = "no unit" if unit is None else f"unit {unit!r}"
        return f"{shown} for {test} has no conversion in the knowledge base"
    if rule.how == "multiply":
        return CanonicalValue(value * rule.factor, tables.canonical[test])
    if rule.how == "divide":
        return CanonicalValue(value / rule.factor, tables.canonical[test])
    return CanonicalValue(value, spelled)


_units_written = st.sampled_from(
    [
        None,
        "",
        "1",
        "ng/mL",
        " NG/ML ",
        "IU/mL",
        "kIU/L",
        "µmol/L",
        "μmol/l",
        "umol/L",
        "mg/dL",
        "g/L",
        "g/dL",
    ]
    + ["mmol/L", "mEq/L", "10^9/L", "10*3/uL", "K/µL", "mAU/mL", "%", "{INR}", "x", "mg/L"]
) | st.text(max_size=8)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([*LAB_TESTS, "ldh"]),
    st.floats(-1e9, 1e9, allow_nan=False) | st.integers(-(10**9), 10**9),
    _units_written,
)
def test_remembered_unit_rules_convert_as_the_tables_do(test: str, value: float, unit: str | None) -> None:
    expected = _converted_afresh(test, value, unit)
    for _ in range(2):  # the first look-up remembers the rule, the second uses it
        try:
            got: CanonicalValue | str = boundary_tables().convert(test, value, unit)
        except UnitError as exc:
            got = str(exc)
        assert got == expected


def test_remembered_unit_rules_are_bounded() -> None:
    tables = boundary_tables()
    for i in range(3000):
        tables.convert("afp", 1.0, " " * (i % 50) + "ng/mL" + " " * (i // 50))
    assert len(tables._rules) <= 1024
