"""China Liver Cancer staging (CNLC): vector V14, every boundary, rule order, unknowns."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from staging_helpers import FIT, cp, sizes

from hccwatch.core.finding import Finding
from hccwatch.core.rules.staging.cnlc import cnlc
from hccwatch.record.model import parse_record
from strategies import records
from support import context, record


def staged(tumors: list[dict[str, Any]] | None, child_pugh: Finding | None = None, **fields: Any) -> Finding:
    return cnlc(context(record(tumors=tumors, **{**FIT, **fields})), child_pugh or cp())


@pytest.mark.parametrize(
    ("ecog", "stage"),
    [
        pytest.param(1, "IIa", id="V14-PS1-CPB-2-tumours-4cm-IIa"),
        pytest.param(3, "IV", id="V14-same-with-PS3-IV"),
    ],
)
def test_vector_v14(ecog: int, stage: str) -> None:
    # clinical-scores.md section 6, V14 (derived from the CNLC table)
    f = staged(sizes(4.0, 2.0), cp("B", 8), ecog=ecog)
    assert f["stage"] == stage and f.determined


@pytest.mark.parametrize(
    ("tumors", "stage"),
    [
        (sizes(2.0), "Ia"),
        (sizes(5.0), "Ia"),  # <= 5 cm inclusive
        (sizes(5.1), "Ib"),
        (sizes(12.0), "Ib"),
        (sizes(3.0, 3.0), "Ib"),
        (sizes(3.0, 3.1), "IIa"),
        (sizes(1.0, 1.0, 3.0), "Ib"),
        (sizes(1.0, 1.0, 3.1), "IIa"),
        (sizes(1.0, 1.0, 1.0, 1.0), "IIb"),  # 4 tumours, any size
        (sizes(9.0, 1.0, 1.0, 1.0, 1.0), "IIb"),
    ],
)
def test_tumour_boundaries(tumors: list[dict[str, Any]], stage: str) -> None:
    assert staged(tumors)["stage"] == stage


@pytest.mark.parametrize(
    ("ecog", "child_pugh", "stage"),
    [
        (0, cp("A", 5), "Ia"),
        (1, cp("A", 6), "Ia"),
        (2, cp("B", 9), "Ia"),  # PS 0-2 and Child-Pugh A/B keep stages I-III
        (3, cp("A", 5), "IV"),
        (4, cp("A", 5), "IV"),
        (0, cp("C", 10), "IV"),
        (0, cp("C", None), "IV"),
    ],
)
def test_performance_status_and_child_pugh_boundaries(ecog: int, child_pugh: Finding, stage: str) -> None:
    assert staged(sizes(3.0), child_pugh, ecog=ecog)["stage"] == stage


@pytest.mark.parametrize(
    ("fields", "child_pugh", "stage"),
    [
        pytest.param({"extrahepatic_metastasis": True, "ecog": 3}, cp(), "IV", id="IV-before-IIIb"),
        pytest.param({"macrovascular_invasion": True}, cp("C", 10), "IV", id="CP-C-before-IIIa"),
        pytest.param(
            {"extrahepatic_metastasis": True, "macrovascular_invasion": True},
            cp(),
            "IIIb",
            id="IIIb-before-IIIa",
        ),
        pytest.param({"macrovascular_invasion": True}, cp(), "IIIa", id="IIIa-before-size"),
        pytest.param({"lymph_node_metastasis": True}, cp(), "IIIb", id="nodes-are-extrahepatic"),
    ],
)
def test_rule_order(fields: dict[str, Any], child_pugh: Finding, stage: str) -> None:
    assert staged(sizes(1.0), child_pugh, **fields)["stage"] == stage


@pytest.mark.parametrize(
    ("tumors", "fields", "child_pugh", "stage", "missing"),
    [
        (sizes(1.0), {"ecog": None}, cp(), None, ["ecog"]),
        (sizes(1.0), {}, cp(None, None), None, ["scores.child_pugh"]),
        (sizes(1.0), {"ecog": 3}, cp(None, None), "IV", ["scores.child_pugh"]),
        (None, {"extrahepatic_metastasis": True}, cp(), "IIIb", ["tumors"]),
        (None, {"macrovascular_invasion": True}, cp(), "IIIa", ["tumors"]),
        (None, {}, cp(), None, ["tumors"]),
        (sizes(None), {}, cp(), None, ["tumors[0].size_cm"]),
        (sizes(6.0, None), {}, cp(), "IIa", ["tumors[1].size_cm"]),  # 2 tumours, one > 3 cm already
        (sizes(1.0, 1.0, 1.0, None), {}, cp(), "IIb", ["tumors[3].size_cm"]),
        (sizes(1.0), {"macrovascular_invasion": None}, cp(), None, ["macrovascular_invasion"]),
        (sizes(1.0), {"extrahepatic_metastasis": None, "macrovascular_invasion": True}, cp(), None, []),
    ],
)
def test_unknowns(
    tumors: list[dict[str, Any]] | None,
    fields: dict[str, Any],
    child_pugh: Finding,
    stage: str | None,
    missing: list[str],
) -> None:
    f = staged(tumors, child_pugh, **fields)
    assert f["stage"] == stage
    assert f.determined == (stage is not None)
    assert set(missing) <= set(f.missing)
    if stage is None and missing:
        assert all(m in f.explanation for m in missing)


def test_unknown_extrahepatic_spread_with_macrovascular_invasion_is_iiia_or_iiib() -> None:
    f = staged(sizes(1.0), extrahepatic_metastasis=None, macrovascular_invasion=True)
    assert "could be IIIa or IIIb" in f.explanation
    assert "extrahepatic_metastasis" in f.explanation


# Knowledge 2026.5.0: each list as the 2024 passages read say it (knowledge CHANGELOG, item ids
# there). Each case: a patient at the stage, the option ids in order, and the condition each
# label must carry where the passage gives one.
CORRECTED_LISTS = [
    pytest.param(
        {"tumors": sizes(2.0)},
        "Ia",
        {
            "resection": "first choice when liver reserve is good",
            "ablation": "Ablation",
            "transplant": "UCSF criteria",
            "tace": "resection or ablation is indicated but cannot be given",
            "sbrt": "SBRT when resection or ablation is not indicated, or invasive treatment is declined",
        },
        id="Ia-adds-TACE-and-SBRT",
    ),
    pytest.param(
        {"tumors": sizes(1.0, 1.0, 3.0)},
        "Ib",
        {
            "resection": "first choice when liver reserve is good",
            "ablation": "2-3 tumours, the largest <= 3 cm",
            "tace": "with ablation for tumours of 3-7 cm that cannot be resected",
            "transplant": "UCSF criteria",
            "sbrt": "SBRT for part of stage Ib",
        },
        id="Ib-adds-SBRT",
    ),
    pytest.param(
        {"tumors": sizes(3.0, 3.1)},
        "IIa",
        {
            "resection": "first choice when liver reserve is good",
            "tace": "with ablation for tumours of 3-7 cm",
            "tace_radiotherapy": "TACE with external radiotherapy",
            "transplant": "within the UCSF criteria",
        },
        id="IIa-adds-TACE-with-radiotherapy",
    ),
    pytest.param(
        {"tumors": sizes(1.0, 1.0, 1.0, 1.0)},
        "IIb",
        {
            "tace": "first choice",
            "resection": "selected patients",
            "tace_radiotherapy": "TACE with external radiotherapy",
            "systemic": "when resection or TACE is unsuitable",
        },
        id="IIb-systemic-last-as-the-fall-back",
    ),
    pytest.param(
        {"tumors": sizes(1.0), "macrovascular_invasion": True},
        "IIIa",
        {
            "tace": "TACE, alone or with systemic therapy (first choice",
            "systemic": "Systemic therapy",
            "tace_haic": "TACE with HAIC",
            "radiotherapy": "portal vein tumour thrombus",
            "resection": "Cheng type I/II",
        },
        id="IIIa-TACE-first",
    ),
    pytest.param(
        {"tumors": sizes(1.0), "extrahepatic_metastasis": True},
        "IIIb",
        {
            "systemic": "Systemic therapy",
            "radiotherapy": "SBRT for some oligometastases",
            "tace_radiotherapy": "TACE with external radiotherapy",
            "resection": "hilar lymphadenectomy",
        },
        id="IIIb-adds-TACE-with-radiotherapy-and-resection",
    ),
]


@pytest.mark.parametrize(("fields", "stage", "conditions"), CORRECTED_LISTS)
def test_treatment_list_is_the_one_the_2024_passages_give(
    fields: dict[str, Any], stage: str, conditions: dict[str, str]
) -> None:
    f = staged(**fields)
    assert f["stage"] == stage and f.determined
    options = f["treatments"]
    assert isinstance(options, list)
    assert [o["id"] for o in options] == list(conditions)  # type: ignore[index]
    for option in options:
        assert conditions[option["id"]] in option["label"]  # type: ignore[index]
    # Read in a transcription of the guideline, so flagged as not verified in the primary.
    assert f"cnlc.treatments.{stage}" in f.unverified
    assert {"CNLC-2019", "CNLC-2024"} <= set(f.citations)


def test_systemic_therapy_no_longer_claims_local_therapy_at_iiib() -> None:
    # No 2024 passage read says 'with or without local therapy' for IIIb; the local options are
    # listed on their own instead.
    f = staged(sizes(1.0), extrahepatic_metastasis=True)
    labels = [o["label"] for o in f["treatments"]]  # type: ignore[index, union-attr]
    assert not any("with or without local therapy" in label for label in labels)


def test_explanation_gives_the_reason_and_the_tumours_as_recorded() -> None:
    f = staged(sizes(5.1))
    assert "single tumour > 5 cm" in f.explanation
    assert "as recorded (1 nodule of 5.1 cm, assessed on 2026-10-01)" in f.explanation


def test_no_tumour_recorded_gets_no_stage() -> None:
    # "Nothing to stage" is an answer, not a gap, once spread outside the liver is known absent.
    f = staged([])
    assert f["stage"] is None and f["treatments"] == [] and f.determined and f.missing == ()
    assert not staged([], extrahepatic_metastasis=None).determined  # could be stage IIIb


child_pughs = st.sampled_from([cp(), cp("B", 8), cp("C", 11), cp(None, None)])


@settings(max_examples=150, deadline=None)
@given(records, child_pughs)
def test_deterministic_and_total(data: dict[str, Any], child_pugh: Finding) -> None:
    ctx = context(parse_record(data))
    first = cnlc(ctx, child_pugh)
    assert first == cnlc(ctx, child_pugh)
    assert first["stage"] in {None, "Ia", "Ib", "IIa", "IIb", "IIIa", "IIIb", "IV"}
    # Determined exactly when there is a stage, or provably nothing to stage.
    assert first.determined == (first["stage"] is not None or "nothing to stage" in first.explanation)


@pytest.mark.parametrize(
    ("tumors", "fields", "stage", "determined"),
    [
        pytest.param([], {"ecog": 3}, None, True, id="no-tumour-ecog3-nothing-to-stage"),
        pytest.param(
            [], {"ecog": 0, "extrahepatic_metastasis": True}, "IIIb", True, id="metastases-only-IIIb"
        ),
        pytest.param(
            [], {"ecog": 3, "extrahepatic_metastasis": True}, "IV", True, id="metastases-and-ecog3-IV"
        ),
        pytest.param(None, {"ecog": 3}, None, False, id="unknown-tumours-could-be-none"),
    ],
)
def test_a_poor_ecog_alone_is_not_a_cnlc_stage(
    tumors: list[dict[str, Any]] | None, fields: dict[str, Any], stage: str | None, determined: bool
) -> None:
    f = staged(tumors, **fields)
    assert (f["stage"], f.determined) == (stage, determined)
