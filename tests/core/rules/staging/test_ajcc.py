"""AJCC 8th edition TNM: vector V15, T boundaries, T4 causes, N/M and stage groups, unknowns."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from staging_helpers import sizes

from hccwatch.core.finding import Finding
from hccwatch.core.rules.staging.ajcc import ajcc
from hccwatch.record.model import parse_record
from strategies import records
from support import context, record

LOCAL = {
    "macrovascular_invasion": False,
    "adjacent_organ_invasion": False,
    "visceral_peritoneum_perforation": False,
    "microvascular_invasion": False,
    "lymph_node_metastasis": False,
    "extrahepatic_metastasis": False,
    "tumors_assessed_on": "2026-10-01",
}


def staged(tumors: list[dict[str, Any]] | None, **fields: Any) -> Finding:
    return ajcc(context(record(tumors=tumors, **{**LOCAL, **fields})))


def tnm(f: Finding) -> tuple[Any, ...]:
    return f["t"], f["n"], f["m"], f["stage"]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        pytest.param(2.0, ("T1a", "N0", "M0", "IA"), id="V15-solitary-2.0cm-MVI-T1a-IA"),
        pytest.param(2.1, ("T2", "N0", "M0", "II"), id="V15-solitary-2.1cm-MVI-T2-II"),
    ],
)
def test_vector_v15(size: float, expected: tuple[str, ...]) -> None:
    # clinical-scores.md section 6, V15 (derived from the AJCC 8th edition T definitions)
    assert tnm(staged(sizes(size), microvascular_invasion=True)) == expected


@pytest.mark.parametrize(
    ("tumors", "mvi", "t", "stage"),
    [
        (sizes(1.0), False, "T1a", "IA"),
        (sizes(2.0), False, "T1a", "IA"),  # <= 2 cm inclusive
        (sizes(2.1), False, "T1b", "IB"),
        (sizes(9.0), False, "T1b", "IB"),
        (sizes(9.0), True, "T2", "II"),
        (sizes(5.0, 1.0), False, "T2", "II"),  # multiple, none > 5 cm
        (sizes(5.0, 1.0), True, "T2", "II"),
        (sizes(5.1, 1.0), False, "T3", "IIIA"),
        (sizes(1.0, 1.0, 1.0, 1.0, 6.0), False, "T3", "IIIA"),
    ],
)
def test_t_boundaries(tumors: list[dict[str, Any]], mvi: bool, t: str, stage: str) -> None:
    f = staged(tumors, microvascular_invasion=mvi)
    assert (f["t"], f["stage"]) == (t, stage)


@pytest.mark.parametrize(
    "cause", ["macrovascular_invasion", "adjacent_organ_invasion", "visceral_peritoneum_perforation"]
)
def test_each_t4_cause_gives_t4_iiib(cause: str) -> None:
    f = staged(sizes(1.0), **{cause: True})
    assert tnm(f) == ("T4", "N0", "M0", "IIIB")
    assert "T4" in f.explanation


@pytest.mark.parametrize(
    ("fields", "n", "m", "stage"),
    [
        ({"lymph_node_metastasis": True}, "N1", "M0", "IVA"),
        ({"metastatic_sites": [{"site": "lung"}], "extrahepatic_metastasis": True}, "N0", "M1", "IVB"),
        ({"lymph_node_metastasis": True, "metastatic_sites": [{"site": "bone"}]}, "N1", "M1", "IVB"),
        ({"extrahepatic_metastasis": True, "lymph_node_metastasis": False}, "N0", "M1", "IVB"),
    ],
)
def test_nodes_and_distant_metastasis(fields: dict[str, Any], n: str, m: str, stage: str) -> None:
    f = staged(sizes(3.0), **fields)
    assert (f["n"], f["m"], f["stage"]) == (n, m, stage)


def test_m1_is_ivb_whatever_t_and_n() -> None:
    f = staged(
        None, lymph_node_metastasis=None, metastatic_sites=[{"site": "lung"}], extrahepatic_metastasis=True
    )
    assert f["stage"] == "IVB" and f["m"] == "M1"
    assert f["t"] is None and f["n"] is None
    assert f.determined
    assert {"tumors", "lymph_node_metastasis"} <= set(f.missing)
    assert "whatever T and N" in f.explanation


def test_n1_m0_is_iva_whatever_t() -> None:
    f = staged(sizes(None, 2.0), lymph_node_metastasis=True, adjacent_organ_invasion=None)
    assert (f["n"], f["m"], f["stage"]) == ("N1", "M0", "IVA")
    assert f["t"] is None


@pytest.mark.parametrize(
    ("tumors", "fields", "t", "stage", "missing"),
    [
        # microvascular invasion matters only for a solitary tumour > 2 cm
        (sizes(1.5), {"microvascular_invasion": None}, "T1a", "IA", []),
        (sizes(3.0, 1.0), {"microvascular_invasion": None}, "T2", "II", []),
        (sizes(3.0), {"microvascular_invasion": None}, None, None, ["microvascular_invasion"]),
        # T4 whatever the size when a T4 cause is present
        (sizes(None), {"macrovascular_invasion": True}, "T4", "IIIB", ["tumors[0].size_cm"]),
        # unknown T4 causes keep T open
        (sizes(1.0), {"adjacent_organ_invasion": None}, None, None, ["adjacent_organ_invasion"]),
        (
            sizes(1.0),
            {"visceral_peritoneum_perforation": None},
            None,
            None,
            ["visceral_peritoneum_perforation"],
        ),
        (sizes(None), {}, None, None, ["tumors[0].size_cm"]),
        (sizes(6.0, None), {}, "T3", "IIIA", ["tumors[1].size_cm"]),
        (None, {}, None, None, ["tumors"]),
    ],
)
def test_unknowns(
    tumors: list[dict[str, Any]] | None,
    fields: dict[str, Any],
    t: str | None,
    stage: str | None,
    missing: list[str],
) -> None:
    f = staged(tumors, **fields)
    assert (f["t"], f["stage"]) == (t, stage)
    assert f.determined == (stage is not None)
    assert set(missing) <= set(f.missing)
    if not missing:
        assert f.missing == ()
    if stage is None:
        assert all(m in f.explanation for m in missing)


@pytest.mark.parametrize(
    ("fields", "n", "m", "missing"),
    [
        # nothing outside the liver
        ({"lymph_node_metastasis": None, "extrahepatic_metastasis": False}, "N0", "M0", []),
        # extrahepatic disease with nodal disease: are there also distant metastases?
        ({"lymph_node_metastasis": True, "extrahepatic_metastasis": True}, "N1", None, ["metastatic_sites"]),
        # extrahepatic disease, nodes unknown: nodal only (IVA) or distant (IVB)
        (
            {"lymph_node_metastasis": None, "extrahepatic_metastasis": True},
            None,
            None,
            ["lymph_node_metastasis"],
        ),
        (
            {"lymph_node_metastasis": None, "extrahepatic_metastasis": None},
            None,
            None,
            ["extrahepatic_metastasis"],
        ),
        # a recorded lymph-node site is read as nodal disease
        ({"lymph_node_metastasis": None, "metastatic_sites": [{"site": "lymph_node"}]}, "N1", "M0", []),
    ],
)
def test_reading_nodes_and_distant_metastasis(
    fields: dict[str, Any], n: str | None, m: str | None, missing: list[str]
) -> None:
    f = staged(sizes(1.0), **fields)
    assert (f["n"], f["m"]) == (n, m)
    assert set(missing) <= set(f.missing)


def test_unknown_distant_spread_with_n1_names_the_sites() -> None:
    f = staged(sizes(1.0), lymph_node_metastasis=True, extrahepatic_metastasis=True)
    assert f["stage"] is None
    assert "could be IVA or IVB" in f.explanation and "metastatic_sites" in f.explanation


def test_sites_dated_after_the_evaluation_date_are_ignored() -> None:
    f = staged(sizes(1.0), metastatic_sites=[{"site": "lung", "date": "2027-02-01"}])
    assert f["m"] == "M0" and f["stage"] == "IA"


def test_explanation_explains_microvascular_versus_macrovascular() -> None:
    f = staged(sizes(3.0), microvascular_invasion=True)
    assert "microvascular invasion" in f.explanation and "macrovascular invasion would be T4" in f.explanation
    assert "as recorded (1 nodule of 3 cm, assessed on 2026-10-01)" in f.explanation
    assert f.citations[0] == "AJCC-2017"
    # Secondary until the AJCC 8th liver chapter itself is read (knowledge CHANGELOG, pass A).
    assert set(f.unverified) == {"ajcc.t1a_max_cm", "ajcc.t2_multiple_max_cm", "ajcc.stage_groups"}


def test_no_tumour_recorded_has_no_t_and_no_stage_without_metastasis() -> None:
    f = staged([])
    assert tnm(f) == (None, "N0", "M0", None)
    assert not f.determined


@settings(max_examples=150, deadline=None)
@given(records)
def test_deterministic_and_total(data: dict[str, Any]) -> None:
    ctx = context(parse_record(data))
    first = ajcc(ctx)
    assert first == ajcc(ctx)
    assert first["t"] in {None, "T1a", "T1b", "T2", "T3", "T4"}
    assert first["stage"] in {None, "IA", "IB", "II", "IIIA", "IIIB", "IVA", "IVB"}
    if first["m"] == "M1":
        assert first["stage"] == "IVB"
    if first["n"] == "N1" and first["m"] == "M0":
        assert first["stage"] == "IVA"


def test_vessel_invasion_implies_a_tumour_even_when_none_is_listed() -> None:
    # AJCC T4 includes a major portal/hepatic vein branch: the tumour exists even if the list is unknown.
    f = staged(None, macrovascular_invasion=True)
    assert tnm(f) == ("T4", "N0", "M0", "IIIB") and f.determined
