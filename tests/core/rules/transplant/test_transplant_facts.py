"""The shared facts: absolute exclusions, viable-tumour counting and unknown inputs."""

from __future__ import annotations

from typing import Any

import pytest
from transplant_support import NO_SPREAD, WITHIN_KEYS, criteria, tumours

from hccwatch.core.rules.transplant import transplant_criteria
from support import context, record

SMALL = (2.0,)
LARGE = (7.0,)
EXCLUSION_FIELDS = ["macrovascular_invasion", "extrahepatic_metastasis", "lymph_node_metastasis"]

# ------------------------------------------------------------------ exclusions (AASLD-2023)


@pytest.mark.parametrize(
    "exclusion",
    [
        {"macrovascular_invasion": True},
        {"extrahepatic_metastasis": True},
        {"lymph_node_metastasis": True},
        {"metastatic_sites": [{"site": "lung"}]},
        {"metastatic_sites": [{"site": "lymph_node", "date": "2026-06-01"}]},
    ],
    ids=["macrovascular", "extrahepatic", "lymph node", "metastatic site", "dated lymph-node site"],
)
def test_an_exclusion_puts_every_criterion_beyond(exclusion: dict[str, Any]) -> None:
    found = criteria(SMALL, afp=5, dcp_mau_ml=5, **exclusion)
    for key in WITHIN_KEYS:
        assert found[key]["within"] is False, key
        assert "absolute exclusion" in found[key].explanation
    assert found["unos_downstaging"]["eligible"] is False
    assert found["unos_downstaging"]["reason"] == "excluded"
    assert found["unos_afp_exception"]["eligible"] is False


def test_an_exclusion_decides_even_without_tumours() -> None:
    found = criteria(tumors=None, macrovascular_invasion=True)
    assert found["milan"]["within"] is False
    assert "tumors" in found["milan"].missing and found["milan"].determined


def test_a_metastatic_site_found_after_the_evaluation_date_is_ignored() -> None:
    later = [{"site": "bone", "date": "2027-01-10"}]
    assert criteria(SMALL, metastatic_sites=later)["milan"]["within"] is True


@pytest.mark.parametrize(
    "field", ["macrovascular_invasion", "extrahepatic_metastasis", "lymph_node_metastasis"]
)
def test_unknown_exclusion_leaves_within_undetermined(field: str) -> None:
    finding = criteria(SMALL, **{field: None})["milan"]
    assert finding["within"] is None
    assert finding.missing == (field,)
    assert "tumour criteria are met" in finding.explanation and field in finding.explanation


@pytest.mark.parametrize(
    "field", ["macrovascular_invasion", "extrahepatic_metastasis", "lymph_node_metastasis"]
)
def test_unknown_exclusion_still_allows_beyond(field: str) -> None:
    finding = criteria(LARGE, **{field: None})["milan"]
    assert finding["within"] is False and finding.determined
    assert field in finding.missing


def test_infiltrative_growth_excludes_downstaging_only() -> None:
    found = criteria((6.0,), infiltrative=True)
    assert found["unos_downstaging"]["eligible"] is False
    assert found["ucsf"]["within"] is True
    unknown = criteria((6.0,), infiltrative=None)["unos_downstaging"]
    assert unknown["eligible"] is None and "infiltrative" in unknown.missing


# ------------------------------------------------------------------ viable tumour (AASLD-2023, UNOS)

TACE = [{"type": "tace", "date": "2026-09-01"}]


def test_non_viable_tumours_are_not_counted() -> None:
    tumors = [{"size_cm": 4.0, "viable": False}, {"size_cm": 2.0, "viable": True}]
    finding = criteria(tumors=tumors, treatments=TACE)["milan"]
    assert finding["within"] is True and finding["nodules"] == 1
    assert "1 non-viable nodule not counted" in finding.explanation
    assert "AASLD-2023" in finding.citations


def test_unknown_viability_after_treatment_counts_where_it_cannot_change_the_answer() -> None:
    tumors = [{"size_cm": 3.0}, {"size_cm": 2.0, "viable": True}, {"size_cm": 2.0, "viable": True}]
    finding = criteria(tumors=tumors, treatments=TACE)["milan"]
    assert finding["within"] is True and finding.determined
    assert finding.missing == ("tumors[0].viable",)
    assert finding["nodules"] is None
    assert any("viability assessment" in n for n in finding.notes)


def test_unknown_viability_after_treatment_that_matters_is_undetermined() -> None:
    tumors = [{"size_cm": 4.0}, {"size_cm": 2.0, "viable": True}]
    finding = criteria(tumors=tumors, treatments=TACE)["milan"]
    assert finding["within"] is None
    assert "tumors[0].viable" in finding.missing


def test_unknown_viability_without_treatment_means_untreated_and_counted() -> None:
    finding = criteria(tumors=tumours(4.0, 2.0))["milan"]
    assert finding["within"] is False and finding.missing == ()


def test_treatment_after_the_imaging_is_noted_and_the_tumours_count() -> None:
    finding = criteria(tumors=tumours(4.0, 2.0), tumors_assessed_on="2026-08-01", treatments=TACE)["milan"]
    assert finding["within"] is False and finding.missing == ()
    assert any("predate" in n for n in finding.notes)


def test_a_treatment_after_the_evaluation_date_is_ignored() -> None:
    later = [{"type": "tace", "date": "2027-02-01"}]
    assert criteria(tumors=tumours(3.0, 2.0), treatments=later)["milan"].missing == ()


# ------------------------------------------------------------------ unknown tumours


def test_unknown_tumours_cannot_be_determined() -> None:
    found = criteria(tumors=None, afp=5, dcp_mau_ml=5)
    for key in WITHIN_KEYS:
        assert found[key]["within"] is None, key
        assert "tumors" in found[key].missing
        assert found[key].explanation.startswith("Cannot determine")
    assert found["unos_downstaging"]["eligible"] is None


def test_tumours_assessed_after_the_evaluation_date_are_unknown() -> None:
    finding = criteria(SMALL, tumors_assessed_on="2027-01-05")["milan"]
    assert finding["within"] is None
    assert any("after the evaluation date" in m for m in finding.missing)


@pytest.mark.parametrize(
    ("sizes", "within"),
    [
        pytest.param((None,), None, id="one nodule of unknown size"),
        pytest.param((None, 1.0, 1.0, 1.0), False, id="four nodules: beyond whatever the size"),
        pytest.param((None, 6.0), False, id="a known 6 cm nodule is enough"),
    ],
)
def test_unknown_sizes(sizes: tuple[float | None, ...], within: bool | None) -> None:
    finding = criteria(sizes)["milan"]
    assert finding["within"] is within
    assert "tumors[0].size_cm" in finding.missing
    assert finding["largest_cm"] is None or None not in sizes


def test_every_finding_records_the_tumours_it_used() -> None:
    rec = record(tumors=tumours(2.0), tumors_assessed_on="2026-11-01", **NO_SPREAD)
    finding = transplant_criteria(context(rec))["ucsf"]
    used = {i.name: i for i in finding.inputs}
    assert used["tumors"].value == [{"size_cm": 2.0, "viable": None}]
    assert used["tumors"].date is not None and used["macrovascular_invasion"].value is False


def test_resected_tumours_are_judged_with_a_note_but_are_not_current_for_unos() -> None:
    resected = {
        "tumors_assessed_on": "2025-08-20",
        "treatments": [{"type": "resection", "date": "2025-09-16"}],
    }
    found = criteria((3.0,), afp=4, **resected)
    assert found["milan"]["within"] is True
    assert any("predate the resection of 2025-09-16" in n for n in found["milan"].notes)
    for key in ("unos_downstaging", "unos_afp_exception"):
        assert found[key]["eligible"] is None
        assert any(m.startswith("tumors (current") for m in found[key].missing)


def test_tumours_imaged_after_a_resection_are_current() -> None:
    recurrence = {
        "tumors_assessed_on": "2026-10-01",
        "treatments": [{"type": "resection", "date": "2025-09-16"}],
    }
    found = criteria((3.0,), afp=4, **recurrence)
    assert found["unos_afp_exception"]["eligible"] is True
    assert found["milan"].notes == ()
