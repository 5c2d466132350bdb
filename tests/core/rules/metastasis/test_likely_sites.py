"""Likely sites: population prior (Katyal 2000, Uka 2007, Kow 2012, Lin 2017) adjusted for the patient."""

from __future__ import annotations

from typing import Any

import pytest
from metastasis_helpers import EARLY_MAN, symptom, tumour, with_

from hccwatch.core.rules.metastasis.likely_sites import likely_sites
from hccwatch.core.rules.metastasis.red_flags import red_flag_suspicions
from support import context, record

EHM = "patients with extrahepatic spread"


def _rows(**fields: Any) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    ctx = context(record(**with_(EARLY_MAN, **fields)))
    t = ctx.trace("metastasis.sites")
    rows = likely_sites(ctx, t, red_flag_suspicions(ctx, t))
    return [r for r in rows if isinstance(r, dict)], t.missing


@pytest.mark.parametrize(
    ("site", "frequency", "of"),
    [
        pytest.param("lung", "42.6-55%", EHM, id="Katyal2000-Uka2007-Yoon2021"),
        pytest.param("lymph_node", "41-45%", EHM, id="Katyal2000-Uka2007-nodes"),
        pytest.param("bone", "28-37%", EHM, id="Katyal2000-Uka2007-bone"),
        pytest.param("adrenal", "12%", EHM, id="Uka2007-adrenal"),
        pytest.param(
            "peritoneum", "2-16%", "patients with HCC (reported peritoneal implantation rates)", id="Kow"
        ),
        pytest.param("brain", "0.2-2.2%", "patients with HCC", id="Lin2017-brain"),
    ],
)
def test_population_frequencies_with_their_denominator(site: str, frequency: str, of: str) -> None:
    rows, _ = _rows()
    row = next(r for r in rows if r["site"] == site)
    assert (row["frequency"], row["of"]) == (frequency, of)
    assert row["citations"]


def test_population_order_without_patient_signal() -> None:
    rows, missing = _rows()
    assert [r["site"] for r in rows] == ["lung", "lymph_node", "bone", "adrenal", "peritoneum", "brain"]
    assert all(r["reasons"] == ["no patient-specific signal; ranked by population frequency"] for r in rows)
    assert missing == ()


@pytest.mark.parametrize(
    ("fields", "head"),
    [
        pytest.param({"tumors": [tumour(ruptured=True)]}, ["peritoneum", "lung"], id="Kwak2012-rupture"),
        pytest.param({"tumors": [tumour(near_hepatic_vein=True)]}, ["lung", "lymph_node"], id="hepatic-vein"),
        pytest.param(
            {"tumors": [tumour(near_ivc=True, ruptured=True)]},
            ["lung", "peritoneum", "lymph_node"],
            id="both-signals",
        ),
        pytest.param({"metastatic_sites": [{"site": "brain"}]}, ["brain", "lung"], id="known-site"),
        pytest.param({"lymph_node_metastasis": True}, ["lymph_node", "lung"], id="known-nodes"),
        pytest.param({"symptoms": [symptom("headache", sudden=True)]}, ["brain", "lung"], id="symptom-brain"),
        pytest.param(
            {"symptoms": [symptom("abdominal_pain")], "tumors": [tumour(near_ivc=True)]},
            ["peritoneum", "lung"],
            id="symptom-outranks-risk-factor",
        ),
        pytest.param(
            {"symptoms": [symptom("haemoptysis")], "metastatic_sites": [{"site": "adrenal"}]},
            ["adrenal", "lung"],
            id="known-site-outranks-symptom",
        ),
        pytest.param(
            {"metastatic_sites": [{"site": "bone", "date": "2027-01-01"}]},
            ["lung", "lymph_node", "bone"],
            id="future-site-ignored",
        ),
    ],
)
def test_patient_adjustments(fields: dict[str, Any], head: list[str]) -> None:
    rows, _ = _rows(**fields)
    assert [r["site"] for r in rows][: len(head)] == head


def test_a_reason_is_stated_for_every_adjustment() -> None:
    rows, _ = _rows(tumors=[tumour(ruptured=True)])
    assert rows[0]["reasons"] == ["tumour rupture (risk factor for peritoneal metastasis)"]


def test_unknown_tumour_features_are_gaps() -> None:
    _, missing = _rows(tumors=[{"size_cm": 3.0}])
    assert {"tumors.ruptured", "tumors.near_hepatic_vein", "tumors.near_ivc"} <= set(missing)
    _, missing = _rows(tumors=None)
    assert "tumors" in missing
