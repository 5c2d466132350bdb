"""The form layer: fields from the record model, problems back at their fields, nothing lost."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch.errors import UnitError
from hccwatch.record.model import Lab, Treatment
from hccwatch.record.units import LAB_TESTS, accepted_units, to_canonical
from hccwatch.web import forms

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "article-man-after-resection.json"


@pytest.fixture
def record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def _kind(key: str) -> forms.EntryKind:
    found = forms.kind(key)
    assert found is not None
    return found


def test_every_lab_test_has_a_form_offering_exactly_the_accepted_units() -> None:
    for test in LAB_TESTS:
        unit = next(f for f in _kind(test).fields if f.name == "unit")
        assert unit.choices == accepted_units(test)
        assert unit.choices, test


@pytest.mark.parametrize("test", LAB_TESTS)
def test_every_offered_unit_is_one_the_record_accepts(test: str) -> None:
    for unit in accepted_units(test):
        to_canonical(test, 1.0, unit)  # raises for a unit the record refuses
    with pytest.raises(UnitError):
        to_canonical(test, 1.0, "furlongs")


def test_fields_follow_the_record_model() -> None:
    treatment = {f.name: f for f in _kind("treatment").fields}
    assert set(treatment) == set(Treatment.model_fields)
    assert treatment["type"].required and not treatment["margin"].required
    assert treatment["type"].choices == typing.get_args(Treatment.model_fields["type"].annotation)
    assert treatment["date"].type == "date" and treatment["curative"].type == "boolean"
    lab = {f.name: f for f in _kind("afp").fields}
    assert lab["value"].type == "number" and lab["value"].required == Lab.model_fields["value"].is_required()
    details = {f.name: f for f in _kind("details").fields}
    assert details["liver.etiology"].type == "multichoice"
    assert "hbv" in details["liver.etiology"].choices
    assert details["id"].required


def test_a_lab_is_added_at_the_end_and_validated(record: dict[str, Any]) -> None:
    result = forms.submit_entry(
        _kind("afp"), record, {"value": "12.5", "unit": "IU/mL", "date": "2026-10-01"}
    )
    assert result.ok and result.record is not None
    added = result.record.labs[-1]
    assert (added.test, added.value, added.unit) == ("afp", 12.5, "IU/mL")
    assert len(result.record.labs) == len(record["labs"]) + 1


def test_a_bad_unit_is_reported_at_the_unit_field_and_the_values_kept(record: dict[str, Any]) -> None:
    form = {"value": "12.5", "unit": "mg/L", "date": "2026-10-01"}
    result = forms.submit_entry(_kind("afp"), record, form)
    assert not result.ok
    assert list(result.errors) == ["unit"]
    assert "'mg/L' is not accepted for afp" in result.errors["unit"][0]
    assert result.values == form


def test_a_bad_date_and_a_bad_number_are_reported_at_their_fields(record: dict[str, Any]) -> None:
    form = {"value": "twelve", "unit": "ng/mL", "date": "2026-02-30"}
    result = forms.submit_entry(_kind("afp"), record, form)
    assert result.errors["date"] == ["'2026-02-30' is not a calendar date"]
    assert result.errors["value"] == ["expected a number, got 'twelve'"]
    assert result.values == form


def test_an_implausible_value_is_reported_as_the_record_does(record: dict[str, Any]) -> None:
    result = forms.submit_entry(
        _kind("sodium"), record, {"value": "1400", "unit": "mmol/L", "date": "2026-10-01"}
    )
    assert "not physiologically plausible" in result.errors["value"][0]


def test_a_missing_required_field_is_named(record: dict[str, Any]) -> None:
    result = forms.submit_entry(_kind("treatment"), record, {"type": "", "date": ""})
    assert result.errors["type"] == ["required, but missing"]
    assert result.errors["date"] == ["required, but missing"]


def test_an_entry_is_edited_in_place(record: dict[str, Any]) -> None:
    index = next(i for i, lab in enumerate(record["labs"]) if lab["test"] == "albumin")
    values, _ = forms.entry_values(_kind("albumin"), record, index)
    assert values["value"] == str(record["labs"][index]["value"]).removesuffix(".0")
    result = forms.submit_entry(
        _kind("albumin"), record, {**values, "value": "33", "unit": "g/L"}, index=index
    )
    assert result.ok and result.record is not None
    assert result.record.labs[index].value == 33 and result.record.labs[index].unit == "g/L"
    assert len(result.record.labs) == len(record["labs"])


def test_an_index_of_another_kind_is_refused(record: dict[str, Any]) -> None:
    index = next(i for i, lab in enumerate(record["labs"]) if lab["test"] != "afp")
    result = forms.submit_entry(
        _kind("afp"), record, {"value": "1", "unit": "ng/mL", "date": "2026-01-01"}, index=index
    )
    assert forms.FORM in result.errors and result.record is None


def test_lesion_problems_come_back_at_the_row_typed(record: dict[str, Any]) -> None:
    form = {
        "date": "2026-10-01",
        "modality": "ct",
        "region": "liver",
        "result": "new_lesion",
        "lesions[0].size_cm": "",
        "lesions[1].size_cm": "-2",
        "lesions[1].segment": "9",
    }
    result = forms.submit_entry(_kind("imaging"), record, form)
    assert set(result.errors) == {"lesions[1].size_cm", "lesions[1].segment"}
    assert result.values["lesions[1].segment"] == "9"


def test_an_imaging_study_with_lesions_is_added(record: dict[str, Any]) -> None:
    form = {
        "date": "2026-10-01",
        "modality": "mri",
        "region": "liver",
        "result": "new_lesion",
        "lesions[0].size_cm": "1.8",
        "lesions[0].segment": "7",
        "lesions[0].new": "yes",
        "lesions[1].size_cm": "",
    }
    result = forms.submit_entry(_kind("imaging"), record, form)
    assert result.ok and result.record is not None
    lesions = result.record.imaging[-1].lesions
    assert len(lesions) == 1 and lesions[0].segment == "7" and lesions[0].new is True


def test_a_multiple_choice_problem_is_at_its_field() -> None:
    form = {"id": "p-1", "liver.etiology": ["hbv", "zzz"]}
    result = forms.submit_entry(_kind("details"), None, form)
    assert list(result.errors) == ["liver.etiology"]
    assert result.values["liver.etiology"] == ["hbv", "zzz"]


def test_a_new_patient_needs_an_id_and_gets_yes_no_answers() -> None:
    assert forms.submit_entry(_kind("details"), None, {"sex": "female"}).errors["id"]
    result = forms.submit_entry(_kind("details"), None, {"id": "p-2", "liver.cirrhosis": "yes", "age": "61"})
    assert result.ok and result.record is not None
    assert result.record.liver.cirrhosis is True and result.record.age == 61


def test_a_blank_field_makes_the_value_unknown(record: dict[str, Any]) -> None:
    result = forms.submit_entry(_kind("performance"), record, {"ecog": "", "ecog_cancer_related": ""})
    assert result.ok and result.record is not None and result.record.ecog is None


def test_a_record_wide_problem_naming_this_field_lands_on_it(record: dict[str, Any]) -> None:
    result = forms.submit_entry(_kind("details"), record, {"id": record["id"], "birth_date": "2026-01-01"})
    assert "dated before" in result.errors["birth_date"][0]


def test_an_entry_is_removed(record: dict[str, Any]) -> None:
    result = forms.remove_entry(_kind("treatment"), record, 0)
    assert result.ok and result.record is not None
    assert len(result.record.treatments) == len(record["treatments"]) - 1
    assert forms.remove_entry(_kind("symptom"), record, 0).errors[forms.FORM]


def test_contact_details_are_bounded_by_the_registry_columns() -> None:
    values, errors, typed = forms.read_contact(
        {"name": "A. Patient", "phone": "9" * 500, "family_doctor": ""}
    )
    assert values["name"] == "A. Patient" and values["family_doctor"] is None
    assert "at most" in errors["phone"][0]
    assert typed["phone"] == "9" * 500


_TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "1", "-1", "0.5", "1e400", "nan", "2026-01-01", "2026-02-30", "yes", "no", "ng/mL"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(forms.KINDS), data=st.data())
def test_random_forms_never_raise(record: dict[str, Any], key: str, data: st.DataObject) -> None:
    k = _kind(key)
    names = [f.name for f in forms.entry_specs(k, 2)]
    form = data.draw(st.dictionaries(st.sampled_from(names), st.one_of(_TEXT, st.lists(_TEXT, max_size=3))))
    result = forms.submit_entry(k, record, form)
    assert result.ok or result.errors
    assert set(result.values) >= set(form)


def test_only_optional_fields_show_a_default() -> None:
    for key in forms.KINDS:
        k = _kind(key)
        for spec in [*k.fields, *k.lesion_fields]:
            assert spec.default is None or not spec.required or spec.type == "unit", (key, spec)
            assert "Undefined" not in str(spec.default)


def test_deleting_the_last_tumour_makes_tumours_unknown_not_none() -> None:
    record = {"id": "t", "tumors": [{"size_cm": 2.0}]}
    result = forms.remove_entry(_kind("tumor"), record, 0)
    assert result.record is not None and result.record.tumors is None
