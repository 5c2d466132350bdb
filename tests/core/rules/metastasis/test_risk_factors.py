"""Risk factors for spread, each true, false or unknown with its source (Li 2012, Hao 2017, Yokoo 2017,
Yoon 2021, Zhu 2019, Hong 2021, Kwak 2012, Kow 2012)."""

from __future__ import annotations

from typing import Any

import pytest
from metastasis_helpers import EARLY_MAN, tumour, with_

from hccwatch.core.rules.metastasis.risk_factors import risk_factors
from support import context, record


def _factors(**fields: Any) -> tuple[dict[str, dict[str, Any]], tuple[str, ...]]:
    ctx = context(record(**with_(EARLY_MAN, **fields)))
    t = ctx.trace("metastasis.sites")
    rows = risk_factors(ctx, t)
    return {str(r["id"]): r for r in rows if isinstance(r, dict)}, t.missing


@pytest.mark.parametrize(
    ("fields", "factor", "present"),
    [
        pytest.param({"tumors": [tumour(size_cm=6.0)]}, "tumour_size", True, id="Hao2017-Yokoo2017-over-5cm"),
        pytest.param({"tumors": [tumour(size_cm=5.0)]}, "tumour_size", False, id="exactly-5cm-is-not-above"),
        pytest.param(
            {"tumors": [tumour(size_cm=4.0), tumour(size_cm=3.5)]},
            "tumour_burden",
            True,
            id="Yoon2021-sum-7.5cm",
        ),
        pytest.param({"tumors": [tumour(), tumour()]}, "tumour_number", True, id="Hao2017-two-tumours"),
        pytest.param({"macrovascular_invasion": True}, "macrovascular_invasion", True, id="Yoon2021-macro"),
        pytest.param({"microvascular_invasion": True}, "microvascular_invasion", True, id="Li2012-MVI"),
        pytest.param(
            {"microvascular_invasion": None, "explant": {"microvascular_invasion": True}},
            "microvascular_invasion",
            True,
            id="MVI-from-explant",
        ),
        pytest.param({"tumors": [tumour(capsule="incomplete")]}, "capsule", True, id="Zhu2019-incomplete"),
        pytest.param(
            {"tumors": [tumour(capsule="absent")]}, "capsule", False, id="Zhu2019-absent-not-associated"
        ),
        pytest.param({"tumors": [tumour(margin="irregular")]}, "margin", True, id="Hong2021-non-smooth"),
        pytest.param(
            {"labs": [{"test": "afp", "value": 850, "unit": "ng/mL", "date": "2024-02-20"}]},
            "afp",
            True,
            id="Yokoo2017-AFP-over-400",
        ),
        pytest.param({"tumors": [tumour(near_ivc=True)]}, "hepatic_vein_ivc", True, id="IVC-proximity"),
        pytest.param({"tumors": [tumour(near_portal_vein=True)]}, "portal_vein", True, id="portal-vein"),
        pytest.param({"tumors": [tumour(ruptured=True)]}, "rupture", True, id="Kwak2012-rupture"),
        pytest.param(
            {"treatments": [{"type": "resection", "date": "2024-03-12", "margin": "R1"}]},
            "resection_margin",
            True,
            id="Kow2012-R1",
        ),
        pytest.param({"treatments": []}, "resection_margin", False, id="no-resection"),
        pytest.param({"tumors": [tumour(satellite_nodules=True)]}, "satellites", True, id="satellites"),
    ],
)
def test_factor(fields: dict[str, Any], factor: str, present: bool) -> None:
    rows, _ = _factors(**fields)
    assert rows[factor]["present"] is present
    assert rows[factor]["citations"] and rows[factor]["reason"]


def test_every_factor_has_a_spread_kind() -> None:
    rows, missing = _factors()
    assert {r["spread"] for r in rows.values()} == {"extrahepatic", "intrahepatic", "both"}
    assert all(r["present"] is False for r in rows.values()) and missing == ()


def test_absent_capsule_states_the_meta_analysis_nuance() -> None:
    rows, _ = _factors(tumors=[tumour(capsule="absent")])
    assert "DOR 0.90" in rows["capsule"]["reason"] and "DOR 1.85" in rows["capsule"]["reason"]


def test_unknown_is_null_and_named() -> None:
    rows, missing = _factors(
        tumors=None, microvascular_invasion=None, labs=[],
        treatments=[{"type": "resection", "date": "2024-03-12"}],
    )  # fmt: skip
    unknown = {k for k, r in rows.items() if r["present"] is None}
    assert unknown == set(rows) - {"macrovascular_invasion"}
    assert {"tumors", "microvascular_invasion", "treatments.resection.margin"} <= set(missing)


def test_a_large_tumour_answers_even_if_another_size_is_unknown() -> None:
    rows, missing = _factors(tumors=[tumour(size_cm=8.0), tumour(size_cm=None)])
    assert rows["tumour_size"]["present"] is True and rows["tumour_burden"]["present"] is True


def test_baseline_afp_is_the_last_value_before_the_first_treatment() -> None:
    labs = [
        {"test": "afp", "value": 900, "unit": "ng/mL", "date": "2023-12-01"},
        {"test": "afp", "value": 30, "unit": "ng/mL", "date": "2024-03-01"},
        {"test": "afp", "value": 2000, "unit": "ng/mL", "date": "2026-10-01"},
    ]
    rows, _ = _factors(labs=labs)
    assert rows["afp"]["present"] is False and "30 ng/mL on 2024-03-01" in rows["afp"]["reason"]
