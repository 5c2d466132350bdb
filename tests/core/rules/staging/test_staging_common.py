"""Shared staging machinery: weighing unknowns, reading the record, and the guarantee that a
stage given despite gaps is never contradicted once the gaps are filled in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import product
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.staging.ajcc import ajcc
from hccwatch.core.rules.staging.bclc import bclc
from hccwatch.core.rules.staging.cnlc import cnlc
from hccwatch.core.rules.staging.staging_common import (
    Resolution,
    deciding,
    extrahepatic_spread,
    grade_matches,
    in_order,
    nodes_and_distant,
    options,
    resolve,
    resolve_each,
    words,
)
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import parse_record
from strategies import records
from support import context, record


def cp(cls: str | None, points: int | None) -> Finding:
    return Finding(
        rule="scores.child_pugh", values={"points": points, "class": cls}, determined=True, explanation=""
    )


def test_resolve_gives_the_outcome_when_unknowns_cannot_change_it() -> None:
    result = resolve({"a": (True,), "b": (False, True)}, lambda s: s["a"] or s["b"])
    assert result.certain and result.value is True and result.decisive == ()


def test_resolve_names_only_the_unknowns_that_change_the_outcome() -> None:
    result = resolve({"a": (False, True), "b": (False, True), "c": (1, 2)}, lambda s: s["a"] and s["b"])
    assert not result.certain and result.value is None
    assert result.decisive == ("a", "b")


def _brute_force(
    domains: Mapping[str, Sequence[Any]], decide: Callable[[Mapping[str, Any]], Any]
) -> Resolution[Any]:
    """The definition: every combination, in order; a fact is decisive when changing it alone
    changes the outcome somewhere."""
    names = list(domains)
    table = {combo: decide(dict(zip(names, combo, strict=True))) for combo in product(*domains.values())}
    outcomes = tuple(dict.fromkeys(table.values()))
    decisive = tuple(
        name
        for i, name in enumerate(names)
        if len(outcomes) > 1
        and any(
            table[combo] != table[(*combo[:i], other, *combo[i + 1 :])]
            for combo in table
            for other in domains[name]
        )
    )
    return Resolution(outcomes=outcomes, decisive=decisive)


# A decision tree over facts a..e read in a data-dependent order, with repeated outcomes.
_FACTS = "abcde"
_node = st.deferred(
    lambda: (
        st.sampled_from(["x", "y", "z", None])
        | st.tuples(st.sampled_from(_FACTS), st.integers(0, 2), _node, _node)
    )
)


def _run(tree: Any, s: Mapping[str, Any]) -> Any:
    while isinstance(tree, tuple):
        name, cut, low, high = tree
        tree = low if s[name] <= cut else high
    return tree


@settings(max_examples=300, deadline=None)
@given(
    tree=_node,
    domains=st.fixed_dictionaries(
        {name: st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple) for name in _FACTS}
    ),
)
def test_resolve_branching_only_on_facts_read_equals_full_enumeration(
    tree: Any, domains: dict[str, tuple[int, ...]]
) -> None:
    """The resolver runs a rule only on the unknowns it reads; outcomes (and their order) and
    decisive facts are exactly those of enumerating every combination, memoised or not."""
    expected = _brute_force(domains, lambda s: _run(tree, s))
    assert resolve(domains, lambda s: _run(tree, s)) == expected
    key = ("test", repr(tree))
    assert resolve_each(domains, {"r": lambda s: _run(tree, s)}, key=key)["r"] == expected
    assert resolve_each(domains, {"r": lambda s: _run(tree, s)}, key=key)["r"] == expected  # from the memo


def test_deciding_names_the_record_fields_behind_a_fact() -> None:
    t = Trace(rule="test", knowledge=default_knowledge())
    t.need("tumors[1].size_cm", "ecog", "scores.child_pugh.points", "tumors")
    result = resolve({"tumors.size_cm": (1, 2), "tumors": (1,), "x": (0,)}, lambda s: s["tumors.size_cm"])
    assert deciding(t, result, ["tumors", "tumors.size_cm", "scores.child_pugh"]) == "tumors[1].size_cm"


@pytest.mark.parametrize(
    ("tokens", "cls", "points", "expected"),
    [
        (["A"], "A", 6, True),
        (["A"], "A", None, True),
        (["A"], "B", 7, False),
        (["A"], "B", None, False),
        (["A", "B7"], "B", 7, True),
        (["A", "B7"], "B", 8, False),
        (["A", "B7"], "B", None, None),  # B7 or B8-9: cannot tell
        (["C"], "C", None, True),
    ],
)
def test_grade_matches(tokens: list[str], cls: str, points: int | None, expected: bool | None) -> None:
    assert grade_matches(list(tokens), cls, points) is expected


def _trace_for(**fields: Any) -> tuple[Trace, Any]:
    ctx = context(record(**fields))
    return ctx.trace("test"), ctx


@pytest.mark.parametrize(
    ("fields", "expected", "missing"),
    [
        ({"extrahepatic_metastasis": False}, (False,), ()),
        ({"extrahepatic_metastasis": True}, (True,), ()),
        ({"lymph_node_metastasis": True, "extrahepatic_metastasis": False}, (True,), ()),  # positive wins
        ({"metastatic_sites": [{"site": "bone"}]}, (True,), ()),
        (
            {"metastatic_sites": [{"site": "bone", "date": "2030-01-01"}]},
            (False, True),
            ("extrahepatic_metastasis",),
        ),
        ({"lymph_node_metastasis": False}, (False, True), ("extrahepatic_metastasis",)),
        ({}, (False, True), ("extrahepatic_metastasis",)),
    ],
)
def test_extrahepatic_spread(
    fields: dict[str, Any], expected: tuple[bool, ...], missing: tuple[str, ...]
) -> None:
    t, ctx = _trace_for(**fields)
    assert extrahepatic_spread(ctx, t) == expected
    assert t.missing == missing


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"extrahepatic_metastasis": False}, ((False, False),)),
        ({"extrahepatic_metastasis": False, "lymph_node_metastasis": True}, ((True, False),)),
        ({"extrahepatic_metastasis": True, "lymph_node_metastasis": False}, ((False, True),)),
        ({"extrahepatic_metastasis": True, "lymph_node_metastasis": True}, ((True, False), (True, True))),
        ({"extrahepatic_metastasis": True}, ((False, True), (True, False), (True, True))),
        ({"metastatic_sites": [{"site": "lung"}]}, ((False, True), (True, True))),
    ],
)
def test_nodes_and_distant(fields: dict[str, Any], expected: tuple[tuple[bool, bool], ...]) -> None:
    t, ctx = _trace_for(**fields)
    assert nodes_and_distant(ctx, t) == expected


def test_options_must_have_ids_and_labels() -> None:
    t = Trace(rule="test", knowledge=default_knowledge())
    assert options(t, "bclc.first_choice.stage_0")
    with pytest.raises(KnowledgeError, match="id and a label"):
        options(t, "bclc.preserved_liver_function_child_pugh")


FIT = {
    "ecog": 0,
    "macrovascular_invasion": False,
    "adjacent_organ_invasion": False,
    "visceral_peritoneum_perforation": False,
    "lymph_node_metastasis": False,
    "extrahepatic_metastasis": False,
}


@pytest.mark.parametrize(
    ("stage_of", "sizes", "stage"),
    [
        (lambda ctx: bclc(ctx, cp("A", 5)), [1.0, 1.0, 1.0, 1.0, None], "B"),
        (lambda ctx: cnlc(ctx, cp("A", 5)), [1.0, 1.0, 1.0, None], "IIb"),
        (ajcc, [6.0, None], "IIIA"),
    ],
)
def test_a_stage_given_despite_a_gap_names_it_once(
    stage_of: Any, sizes: list[float | None], stage: str
) -> None:
    tumors = [{} if s is None else {"size_cm": s} for s in sizes]
    f = stage_of(context(record(tumors=tumors, microvascular_invasion=False, **FIT)))
    gap = f"tumors[{len(sizes) - 1}].size_cm"
    assert (f["stage"], f.missing) == (stage, (gap,))
    assert f.explanation.endswith(f" Unknown but not decisive: {gap}.")
    undetermined = stage_of(context(record(tumors=[{}], microvascular_invasion=False, **FIT)))
    assert undetermined["stage"] is None and "not decisive" not in undetermined.explanation


def test_words_and_order() -> None:
    assert words([]) == "" and words(["a"]) == "a" and words(["a", "b", "c"], "and") == "a, b and c"
    assert in_order(["C", None, "0"], ["0", "A", "C"], "none") == ["0", "C", "none"]


# --- the guarantee behind every staged answer ----------------------------------------------------

FLAGS = (
    "ecog_cancer_related",
    "macrovascular_invasion",
    "microvascular_invasion",
    "adjacent_organ_invasion",
    "visceral_peritoneum_perforation",
    "lymph_node_metastasis",
    "extrahepatic_metastasis",
)
SIZES = st.floats(0.3, 12).map(lambda v: round(v, 1)) | st.sampled_from([2.0, 3.0, 5.0])
GRADES = [cp("A", 5), cp("A", 6), cp("B", 7), cp("B", 9), cp("C", 10)]


@st.composite
def filled_in(draw: st.DrawFn, data: dict[str, Any]) -> dict[str, Any]:
    """The same record with every staging unknown replaced by some value."""
    out = dict(data)
    # extrahepatic_metastasis = false is read as "nothing outside the liver", nodes included.
    if out.get("extrahepatic_metastasis") is False and out.get("lymph_node_metastasis") is None:
        out["lymph_node_metastasis"] = False
    for name in FLAGS:
        if out.get(name) is None:
            out[name] = draw(st.booleans())
    if out.get("ecog") is None:
        out["ecog"] = draw(st.integers(0, 4))
    if "tumors" not in out:
        out["tumors"] = draw(st.lists(st.fixed_dictionaries({}), min_size=1, max_size=5))
    out["tumors"] = [t if "size_cm" in t else {**t, "size_cm": draw(SIZES)} for t in out["tumors"]]
    return out


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_stage_given_despite_gaps_survives_filling_them_in(data: st.DataObject) -> None:
    original = data.draw(records)
    grade = data.draw(st.sampled_from([*GRADES, cp(None, None)]))
    complete = data.draw(filled_in(original))
    filled_grade = grade if grade["class"] is not None else data.draw(st.sampled_from(GRADES))
    before, after = context(parse_record(original)), context(parse_record(complete))
    pairs = [
        (bclc(before, grade), bclc(after, filled_grade), ("stage",)),
        (cnlc(before, grade), cnlc(after, filled_grade), ("stage",)),
        (ajcc(before), ajcc(after), ("t", "n", "m", "stage")),
    ]
    for old, new, keys in pairs:
        assert new.determined or new["stage"] is None
        for key in keys:
            if old[key] is not None:
                assert new[key] == old[key], (old.rule, key, old.explanation, new.explanation)
