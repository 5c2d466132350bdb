"""Properties of every transplant criterion: total, deterministic and monotone in tumour burden and AFP.

Monotone: a larger nodule, an extra nodule or a higher AFP never turns "beyond" into "within"
(for the ten "within" criteria; UNOS-DS entry and T2 are bands with a lower edge by definition).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from transplant_support import WITHIN_KEYS

from hccwatch.core.finding import Finding
from hccwatch.core.rules.transplant import transplant_criteria
from strategies import records
from support import context, labs, record

sizes = st.floats(0.5, 15, allow_nan=False).map(lambda v: round(v, 1))
known_or_unknown = st.sampled_from([False, None])


@st.composite
def patients(draw: st.DrawFn) -> dict[str, Any]:
    """A record with tumours (some sizes or viability unknown), maybe AFP/DCP/grade, no or unknown spread."""
    tumours = draw(
        st.lists(
            st.fixed_dictionaries({"size_cm": st.none() | sizes, "viable": st.none() | st.booleans()}),
            max_size=12,
        )
    )
    data: dict[str, Any] = {
        "tumors": tumours,
        "macrovascular_invasion": draw(known_or_unknown),
        "extrahepatic_metastasis": draw(known_or_unknown),
        "lymph_node_metastasis": draw(known_or_unknown),
        "histologic_grade": draw(st.sampled_from([None, "well", "moderate", "poor"])),
        "labs": [],
    }
    afp = draw(st.none() | st.floats(0.5, 5000).map(lambda v: round(v, 1)))
    if afp is not None:
        data["labs"] += labs(afp=afp)
    dcp = draw(st.none() | st.floats(1, 2000).map(lambda v: round(v, 1)))
    if dcp is not None:
        data["labs"] += labs(dcp=dcp)
    if draw(st.booleans()):
        data["treatments"] = [{"type": "tace", "date": "2026-06-01"}]
    return data


def _run(data: dict[str, Any]) -> dict[str, Finding]:
    return transplant_criteria(context(record(**data)))


def _never_beyond_to_within(before: dict[str, Finding], after: dict[str, Finding]) -> None:
    for key in WITHIN_KEYS:
        if before[key]["within"] is False:
            assert after[key]["within"] is not True, (key, before[key].explanation, after[key].explanation)


@settings(max_examples=150, deadline=None)
@given(records)
def test_never_crashes_on_any_valid_record(data: dict[str, Any]) -> None:
    found = _run(data)
    for key, finding in found.items():
        answer = finding.get("eligible" if key.startswith("unos_") else "within")
        assert answer in (True, False, None)
        assert finding.determined is (answer is not None)
        assert finding.explanation.split(" ")[0] in {"Within", "Beyond", "Cannot", "Eligible", "Not"}
        json.dumps(finding.to_dict())


@settings(max_examples=100, deadline=None)
@given(records)
def test_deterministic(data: dict[str, Any]) -> None:
    first = {k: f.to_dict() for k, f in _run(data).items()}
    assert first == {k: f.to_dict() for k, f in _run(data).items()}


@settings(max_examples=200, deadline=None)
@given(patients(), st.data())
def test_a_larger_nodule_never_turns_beyond_into_within(data: dict[str, Any], draw: st.DataObject) -> None:
    known = [i for i, t in enumerate(data["tumors"]) if t["size_cm"] is not None]
    assume(known)
    i = draw.draw(st.sampled_from(known))
    grown = [dict(t) for t in data["tumors"]]
    grown[i]["size_cm"] = round(min(grown[i]["size_cm"] + draw.draw(st.floats(0.1, 5)), 20), 1)
    _never_beyond_to_within(_run(data), _run({**data, "tumors": grown}))


@settings(max_examples=200, deadline=None)
@given(patients(), st.fixed_dictionaries({"size_cm": sizes, "viable": st.none() | st.just(True)}))
def test_an_extra_nodule_never_turns_beyond_into_within(data: dict[str, Any], extra: dict[str, Any]) -> None:
    _never_beyond_to_within(_run(data), _run({**data, "tumors": [*data["tumors"], extra]}))


@settings(max_examples=200, deadline=None)
@given(patients(), st.floats(0.5, 5000).map(lambda v: round(v, 1)), st.floats(0, 5000))
def test_a_higher_afp_never_turns_beyond_into_within(data: dict[str, Any], afp: float, rise: float) -> None:
    others = [lab for lab in data["labs"] if lab["test"] != "afp"]
    low = _run({**data, "labs": [*others, *labs(afp=afp)]})
    high = _run({**data, "labs": [*others, *labs(afp=round(afp + rise, 1))]})
    _never_beyond_to_within(low, high)


@settings(max_examples=150, deadline=None)
@given(patients())
def test_learning_a_fact_never_contradicts_a_determined_answer(data: dict[str, Any]) -> None:
    # Replacing every unknown size by a value must keep any answer given despite the gap.
    filled = [{**t, "size_cm": t["size_cm"] or 2.0} for t in data["tumors"]]
    before, after = _run(data), _run({**data, "tumors": filled})
    for key in WITHIN_KEYS:
        if before[key]["within"] is not None:
            assert after[key]["within"] is before[key]["within"], key
