"""Builders shared by the metastasis-pathway tests: records, AFP findings, result digests."""

from __future__ import annotations

from typing import Any

from hccwatch.core.finding import Finding
from hccwatch.core.rules.metastasis.pathway import MetastasisPathway, metastasis_pathway
from support import context, record


def afp_finding(
    trend: str | None = "stable",
    above: bool | None = False,
    value: float | None = 3.2,
    date: str = "2026-11-01",
    normalisation: str | None = "not_applicable",
) -> Finding:
    """The afp.kinetics finding, built by hand (its rule is written by another engineer)."""
    latest = None if value is None else {"value": value, "date": date}
    # Like afp.kinetics: the thresholds reached, lowest first (the rules read only the lowest).
    exceeded = ["afp_20"] if above else []
    return Finding(
        rule="afp.kinetics",
        values={
            "latest": latest,
            "trend": trend,
            "above_threshold": above,
            "thresholds_exceeded": exceeded,
            "slope_ng_ml_per_month": None,
            "normalisation": normalisation,
            "normalisation_expected_by": "2026-03-01" if normalisation == "not_normalised" else None,
        },
        determined=trend is not None,
        explanation="built by hand for the test",
    )


NORMAL_AFP = afp_finding()
RISING_AFP = afp_finding("rising", True, 48.0)


def symptom(code: str, onset: str = "2026-11-10", **extra: Any) -> dict[str, Any]:
    return {"code": code, "onset": onset, **extra}


def study(date: str, modality: str, region: str, result: str, *lesions: dict[str, Any]) -> dict[str, Any]:
    return {"date": date, "modality": modality, "region": region, "result": result, "lesions": list(lesions)}


def tumour(**fields: Any) -> dict[str, Any]:
    """A fully described treated tumour (no risk feature) unless fields say otherwise."""
    base: dict[str, Any] = {
        "size_cm": 2.1,
        "capsule": "complete",
        "margin": "smooth",
        "ruptured": False,
        "satellite_nodules": False,
        "near_portal_vein": False,
        "near_hepatic_vein": False,
        "near_ivc": False,
    }
    return {**base, **fields}


# A man after resection of an early HCC, followed routinely (the article's first patient).
EARLY_MAN: dict[str, Any] = {
    "sex": "male",
    "age": 58,
    "tumors": [tumour()],
    "microvascular_invasion": False,
    "macrovascular_invasion": False,
    "treatments": [{"type": "resection", "date": "2024-03-12", "margin": "R0"}],
    "labs": [{"test": "afp", "value": 6.0, "unit": "ng/mL", "date": "2024-03-01"}],
    "imaging": [study("2026-10-20", "ultrasound", "abdomen", "normal")],
}

# A woman five years after resection of a 5 cm tumour (the article's second patient).
WOMAN_AFTER_5CM: dict[str, Any] = {
    "sex": "female",
    "age": 61,
    "tumors": [tumour(size_cm=5.0)],
    "microvascular_invasion": False,
    "macrovascular_invasion": False,
    "treatments": [{"type": "resection", "date": "2021-11-02", "margin": "R0"}],
    "labs": [{"test": "afp", "value": 9.0, "unit": "ng/mL", "date": "2021-10-20"}],
    "imaging": [study("2026-09-15", "ultrasound", "abdomen", "normal")],
}


def run(fields: dict[str, Any], afp: Finding = NORMAL_AFP) -> MetastasisPathway:
    return metastasis_pathway(context(record(**fields)), afp)


def alerts(p: MetastasisPathway) -> dict[str, str]:
    return {a.id: a.urgency for a in p.alerts}


def workup(p: MetastasisPathway) -> dict[str, str]:
    return {w.test: w.urgency for w in p.workup}


def ranking(p: MetastasisPathway) -> list[str]:
    rows = p.metastasis["likely_sites"]
    assert isinstance(rows, list)
    return [str(r["site"]) for r in rows if isinstance(r, dict)]


def with_(base: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**base, **extra}
