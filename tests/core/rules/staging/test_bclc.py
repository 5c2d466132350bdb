"""BCLC 2022 staging: published vectors, every boundary, rule order, unknowns, options."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from staging_helpers import FIT, cp, sizes

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.staging.bclc import bclc
from hccwatch.record.model import parse_record
from strategies import records
from support import AS_OF, context, record

EHS = "extrahepatic_metastasis"


def staged(tumors: list[dict[str, Any]] | None, child_pugh: Finding | None = None, **fields: Any) -> Finding:
    return bclc(context(record(tumors=tumors, **{**FIT, **fields})), child_pugh or cp())


def ids(f: Finding) -> list[str]:
    return [o["id"] for o in f["first_choice"]]  # type: ignore[index, union-attr]


# --- published and derived vectors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("tumors", "stage"),
    [
        pytest.param(sizes(6.0), "A", id="V16-single-6cm-is-A-not-B"),
        pytest.param(sizes(2.0), "0", id="V16-single-2.0cm-is-0"),
    ],
)
def test_vector_v16(tumors: list[dict[str, Any]], stage: str) -> None:
    # clinical-scores.md section 6, V16 (derived from the BCLC 2022 definitions)
    f = staged(tumors)
    assert f["stage"] == stage
    assert f.determined


# --- boundaries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tumors", "stage"),
    [
        (sizes(0.8), "0"),
        (sizes(2.0), "0"),  # stage 0 is <= 2 cm (a public calculator's "< 2" is a known bug)
        (sizes(2.1), "A"),
        (sizes(3.0), "A"),
        (sizes(5.0), "A"),
        (sizes(5.1), "A"),  # beyond Milan, still A: single of any size
        (sizes(15.0), "A"),
        (sizes(2.0, 2.0), "A"),
        (sizes(3.0, 3.0), "A"),
        (sizes(3.0, 3.1), "B"),
        (sizes(3.0, 3.0, 3.0), "A"),
        (sizes(3.0, 3.0, 3.1), "B"),
        (sizes(1.0, 1.0, 1.0, 1.0), "B"),  # 4 nodules: beyond A whatever the size
        (sizes(1.0, 1.0), "A"),  # 2 small nodules are A, not 0
    ],
)
def test_tumour_burden_boundaries(tumors: list[dict[str, Any]], stage: str) -> None:
    assert staged(tumors)["stage"] == stage


@pytest.mark.parametrize(
    ("ecog", "related", "stage"),
    [
        (0, None, "0"),
        (1, True, "C"),
        (1, False, "0"),  # PS from comorbidity does not change the stage
        (2, True, "C"),
        (2, False, "0"),
        (3, None, "D"),
        (4, None, "D"),
    ],
)
def test_performance_status_boundaries(ecog: int, related: bool | None, stage: str) -> None:
    assert staged(sizes(1.5), ecog=ecog, ecog_cancer_related=related)["stage"] == stage


@pytest.mark.parametrize(
    ("cls", "points", "stage", "liver"),
    [
        ("A", 5, "A", "preserved"),
        ("A", 6, "A", "preserved"),
        ("B", 7, None, "not_preserved"),
        ("B", 9, None, "not_preserved"),
        ("C", 10, "D", "end_stage"),
        ("C", None, "D", "end_stage"),  # class C certain even if the points are not
    ],
)
def test_child_pugh_boundaries(cls: str, points: int | None, stage: str | None, liver: str) -> None:
    f = staged(sizes(4.0), cp(cls, points))
    assert (f["stage"], f["liver_function"]) == (stage, liver)


def test_child_pugh_b_gets_no_stage_but_says_what_it_would_be() -> None:
    f = staged(sizes(4.0), cp("B", 8))
    assert f["stage"] is None and f["first_choice"] == []
    assert not f.determined and f.missing == ()
    assert "Child-Pugh B8" in f.explanation and "would be stage A" in f.explanation


def _with_b7_preserved() -> Context:
    base = default_knowledge()
    key = "bclc.preserved_liver_function_child_pugh"
    entries = {**base.entries, key: dataclasses.replace(base.entries[key], value=["A", "B7"])}
    rec = record(tumors=sizes(4.0), **FIT)
    return Context(record=rec, as_of=AS_OF, knowledge=dataclasses.replace(base, entries=entries))


@pytest.mark.parametrize(("points", "stage"), [(7, "A"), (8, None)])
def test_preserved_liver_function_is_configurable(points: int, stage: str | None) -> None:
    # The documented alternative mapping admits Child-Pugh B7 as preserved.
    assert bclc(_with_b7_preserved(), cp("B", points))["stage"] == stage


def test_b_with_unknown_points_is_ambiguous_when_b7_may_be_preserved() -> None:
    f = bclc(_with_b7_preserved(), cp("B", None))
    assert f["stage"] is None and "scores.child_pugh.points" in f.missing


# --- rule order (known implementation bugs) ------------------------------------------------------


@pytest.mark.parametrize(
    ("tumors", "fields", "child_pugh", "stage"),
    [
        pytest.param(sizes(1.0), {}, cp(), "0", id="stage-0-is-reachable"),
        pytest.param(sizes(6.0), {}, cp(), "A", id="single-6cm-is-A"),
        pytest.param(sizes(1.0), {"ecog": 3}, cp(), "D", id="PS3-beats-tumour"),
        pytest.param(sizes(1.0), {"macrovascular_invasion": True, "ecog": 3}, cp(), "D", id="PS3-beats-C"),
        pytest.param(sizes(1.0), {"extrahepatic_metastasis": True}, cp("C", 11), "D", id="CP-C-beats-C"),
        pytest.param(sizes(1.0), {"macrovascular_invasion": True}, cp(), "C", id="macrovascular-beats-0"),
        pytest.param(sizes(1.0), {"lymph_node_metastasis": True}, cp(), "C", id="nodes-are-extrahepatic"),
        pytest.param(
            sizes(1.0), {"metastatic_sites": [{"site": "lung"}]}, cp(), "C", id="site-is-extrahepatic"
        ),
    ],
)
def test_rule_order(
    tumors: list[dict[str, Any]], fields: dict[str, Any], child_pugh: Finding, stage: str
) -> None:
    assert staged(tumors, child_pugh, **fields)["stage"] == stage


# --- unknown inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tumors", "fields", "child_pugh", "stage", "missing"),
    [
        # ECOG 1 with unknown cause: B or C, so no stage
        (sizes(4.0, 2.0), {"ecog": 1, "ecog_cancer_related": None}, cp(), None, ["ecog_cancer_related"]),
        # ECOG 0: the cause of a PS 1-2 is irrelevant and not asked for
        (sizes(4.0, 2.0), {"ecog_cancer_related": None}, cp(), "B", []),
        # single nodule of unknown size: 0 or A
        (sizes(None), {}, cp(), None, ["tumors[0].size_cm"]),
        # 5 nodules: B whatever the missing size, and the gap is still listed
        (sizes(1.0, 1.0, 1.0, 1.0, None), {}, cp(), "B", ["tumors[4].size_cm"]),
        # extrahepatic spread with unknown tumours: C whatever the tumours
        (None, {"extrahepatic_metastasis": True}, cp(), "C", ["tumors"]),
        (None, {}, cp(), None, ["tumors"]),
        # unknown Child-Pugh: preserved, not preserved or end-stage
        (sizes(1.0), {}, cp(None, None), None, ["scores.child_pugh"]),
        # ... unless the PS already makes it D
        (sizes(1.0), {"ecog": 4}, cp(None, None), "D", ["scores.child_pugh"]),
        (sizes(1.0), {"ecog": None}, cp(), None, ["ecog"]),
        (sizes(1.0), {"macrovascular_invasion": None}, cp(), None, ["macrovascular_invasion"]),
        (sizes(1.0), {"macrovascular_invasion": True, "extrahepatic_metastasis": None}, cp(), "C", [EHS]),
        (sizes(1.0), {"extrahepatic_metastasis": None}, cp(), None, ["extrahepatic_metastasis"]),
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
    for name in missing:
        assert name in f.missing
        assert name in f.explanation or stage is not None
    if not missing:
        assert f.missing == ()


def test_the_missing_child_pugh_items_are_named() -> None:
    score = Finding(
        rule="scores.child_pugh",
        values={"points": None, "class": None},
        determined=False,
        explanation="",
        missing=("labs.albumin", "liver.ascites"),
    )
    f = staged(sizes(1.0), score)
    assert {"scores.child_pugh", "labs.albumin", "liver.ascites"} <= set(f.missing)


def test_undetermined_explanation_names_the_possible_stages_and_the_gap() -> None:
    f = staged(sizes(None))
    assert "could be stage 0 or stage A" in f.explanation
    assert "depending on tumors[0].size_cm" in f.explanation


def test_tumours_assessed_after_the_evaluation_date_are_ignored() -> None:
    f = staged(sizes(1.0), tumors_assessed_on="2027-03-01")
    assert f["stage"] is None
    assert any(m.startswith("tumors (assessed on 2027-03-01") for m in f.missing)


def test_no_tumour_recorded_gets_no_stage() -> None:
    # "Nothing to stage" is an answer, not a gap, once spread outside the liver is known absent.
    f = staged([])
    assert f["stage"] is None and f.determined and f.missing == ()
    assert "no tumour" in f.explanation
    assert not staged([], extrahepatic_metastasis=None).determined  # could be stage C


# --- options and explanation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tumors", "fields", "child_pugh", "first"),
    [
        (sizes(1.5), {}, cp(), ["ablation", "resection", "transplant"]),
        (sizes(4.0), {}, cp(), ["resection", "transplant", "ablation"]),
        (sizes(2.0, 2.5), {}, cp(), ["transplant", "ablation"]),
        (sizes(4.0, 4.0, 4.0), {}, cp(), ["transplant", "tace", "systemic"]),
        (sizes(4.0, 4.0, 4.0), {"infiltrative": True}, cp(), ["systemic"]),
        (sizes(1.0), {"ecog": 3}, cp(), ["best_supportive_care"]),
        (sizes(1.0), {}, cp("C", 12), ["best_supportive_care", "transplant"]),
    ],
)
def test_first_choice_options_follow_the_stage(
    tumors: list[dict[str, Any]], fields: dict[str, Any], child_pugh: Finding, first: list[str]
) -> None:
    assert ids(staged(tumors, child_pugh, **fields)) == first


@pytest.mark.parametrize(("infiltrative", "shown"), [(True, True), (False, True), (None, False)])
def test_the_infiltrative_fact_behind_the_stage_b_options_is_shown(
    infiltrative: bool | None, shown: bool
) -> None:
    f = staged(sizes(4.0, 4.0, 4.0), infiltrative=infiltrative)
    assert ("infiltrative" in {i.name for i in f.inputs}) is shown


def test_stage_c_offers_first_line_systemic_therapy_first() -> None:
    f = staged(sizes(3.0), macrovascular_invasion=True)
    assert ids(f)[:2] == ["atezolizumab_bevacizumab", "durvalumab_tremelimumab"]
    assert "bclc.first_choice.stage_c" in f.unverified


def test_explanation_states_the_reason_with_numbers_and_the_tumours_as_recorded() -> None:
    f = staged(sizes(6.0))
    assert "single nodule is stage A whatever its size" in f.explanation
    assert "1 nodule of 6 cm" in f.explanation
    assert "as recorded" in f.explanation and "2026-10-01" in f.explanation
    assert f["stage_migration_note"] and "migration" in str(f["stage_migration_note"])
    assert f["expected_survival"] == "more than 5 years"


def test_stage_b_explains_the_three_sub_groups() -> None:
    f = staged(sizes(4.0, 4.0, 4.0))
    assert "three sub-groups" in f.explanation
    assert "ANNSURGONCOL-2022" in f.citations


def test_the_2025_update_is_noted_and_unverified() -> None:
    f = staged(sizes(1.0))
    assert any("2025" in n and "not been checked" in n for n in f.notes)
    assert "BCLC-2025" in f.citations and "bclc.update_2025" in f.unverified
    assert "BCLC-2022" in f.citations


def test_inputs_are_shown() -> None:
    f = staged(sizes(2.5, 1.0), ecog=0)
    names = {i.name for i in f.inputs}
    assert {
        "ecog",
        "macrovascular_invasion",
        "extrahepatic_metastasis",
        "tumors.count",
        "scores.child_pugh",
    } <= names


# --- properties ----------------------------------------------------------------------------------

child_pughs = st.sampled_from(
    [cp(), cp("A", 6), cp("B", 7), cp("B", 9), cp("C", 10), cp("C", None), cp(None, None)]
)


@settings(max_examples=150, deadline=None)
@given(records, child_pughs)
def test_deterministic_and_total(data: dict[str, Any], child_pugh: Finding) -> None:
    ctx = context(parse_record(data))
    first, second = bclc(ctx, child_pugh), bclc(ctx, child_pugh)
    assert first == second
    assert first["stage"] in {None, "0", "A", "B", "C", "D"}
    # Determined exactly when there is a stage, or provably nothing to stage.
    assert first.determined == (first["stage"] is not None or "nothing to stage" in first.explanation)
    assert (first["first_choice"] == []) == (first["stage"] is None)
    assert "as recorded" in first.explanation or "not recorded" in first.explanation


@pytest.mark.parametrize(
    ("tumors", "fields", "stage", "determined"),
    [
        pytest.param([], {"ecog": 3}, None, True, id="no-tumour-ecog3-nothing-to-stage"),
        pytest.param([], {"ecog": 0, EHS: True}, "C", True, id="no-liver-tumour-but-metastases-is-C"),
        pytest.param([], {"ecog": 3, EHS: True}, "D", True, id="metastases-and-ecog3-is-D"),
        pytest.param(None, {"ecog": 3}, None, False, id="unknown-tumours-could-be-none"),
    ],
)
def test_a_poor_ecog_alone_is_not_an_hcc_stage(
    tumors: list[dict[str, Any]] | None, fields: dict[str, Any], stage: str | None, determined: bool
) -> None:
    f = staged(tumors, **fields)
    assert (f["stage"], f.determined) == (stage, determined)
