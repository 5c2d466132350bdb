"""The Trace records provenance as a side effect of reading numbers."""

from __future__ import annotations

from datetime import date

import pytest

from hccwatch.core.finding import AssumedInput, Finding, InputUsed, Trace, merge_citations
from hccwatch.core.knowledge import default_knowledge
from hccwatch.errors import KnowledgeError


def _trace() -> Trace:
    return Trace(rule="test.rule", knowledge=default_knowledge())


def test_reading_a_number_cites_its_sources() -> None:
    t = _trace()
    assert t.num("labs.window_days.afp") > 0
    assert t.citations == ("HCCWATCH-POLICY",)
    assert t.unverified == ()


def test_a_table_is_not_a_number() -> None:
    with pytest.raises(KnowledgeError, match="not a number"):
        _trace().num("units.afp")


def test_unknown_keys_and_citations_fail_loudly() -> None:
    with pytest.raises(KnowledgeError):
        _trace().num("no.such.key")
    with pytest.raises(KnowledgeError):
        _trace().cite("NO-SUCH-1999")


def test_finish_reports_missing_and_defaults_determined() -> None:
    t = _trace()
    t.need("liver.ascites")
    t.used("labs.inr", 1.2)
    f = t.finish({"points": None}, "why")
    assert not f.determined
    assert f.to_dict()["missing"] == ["liver.ascites"]
    assert f.to_dict()["inputs"] == [{"name": "labs.inr", "value": 1.2, "unit": None, "date": None}]


def test_cannot_determine_nulls_every_key_and_names_the_gap() -> None:
    t = _trace()
    t.need("tumors")
    f = t.cannot_determine(["stage", "t"])
    assert f.values == {"stage": None, "t": None}
    assert "tumors" in f.explanation


def test_reserved_keys_cannot_be_values() -> None:
    with pytest.raises(KnowledgeError, match="reserved"):
        Finding(rule="r", values={"missing": 1}, determined=True, explanation="")


def test_merge_citations_keeps_first_seen_order() -> None:
    assert merge_citations(["B", "A"], ["A", "C"]) == ("B", "A", "C")


def test_a_finding_writes_its_inputs_as_each_input_writes_itself() -> None:
    t = _trace()
    t.used("labs.inr", 1.2, "1", date(2024, 3, 1))
    t.used("liver.ascites", "none")
    f = t.finish({"points": 5}, "why")
    assert f.to_dict()["inputs"] == [i.to_dict() for i in f.inputs]


def test_a_detached_finding_equals_its_source_and_owns_its_values() -> None:
    t = _trace()
    t.num("labs.window_days.afp")
    t.need("liver.ascites")
    f = t.finish({"points": None}, "why")
    copy = f.detached()
    assert copy == f
    assert copy.values is not f.values
    assert copy.to_dict() == f.to_dict()


def test_finish_gives_the_finding_the_constructor_gives() -> None:
    # finish fills the Finding without the constructor: every field, and the constructor's check.
    t = _trace()
    t.used("labs.inr", 1.2)
    t.need("liver.ascites")
    t.note("a note")
    t.num("labs.window_days.afp")
    f = t.finish({"points": 3}, "why", determined=True)
    built = Finding(
        rule="test.rule",
        values={"points": 3},
        determined=True,
        explanation="why",
        inputs=t.inputs,
        missing=t.missing,
        citations=t.citations,
        unverified=t.unverified,
        notes=("a note",),
        policy=t.policy,
    )
    assert f.policy == ("labs.window_days.afp",)  # a project choice: named apart, not unverified
    assert f == built
    assert f.__dict__ == built.__dict__
    with pytest.raises(KnowledgeError, match="reserved"):
        _trace().finish({"inputs": 1}, "why")


def test_extend_copies_what_another_trace_recorded_in_its_order() -> None:
    shared = _trace()
    shared.used("tumors", [2.0], "cm")
    shared.need("afp")
    shared.cite("AASLD-2023")
    shared.note("shared note")
    direct = _trace()
    direct.used("tumors", [2.0], "cm")
    direct.need("afp")
    direct.cite("AASLD-2023")
    direct.note("shared note")
    copied = _trace()
    copied.extend(shared)
    assert copied.finish({}, "x") == direct.finish({}, "x")
    copied.need("dcp")
    assert shared.missing == ("afp",)  # the source is not changed by later records


def test_a_shared_input_is_recorded_as_used_records_it() -> None:
    k = default_knowledge()
    assumed = {"labs.afp": AssumedInput("labs.afp", 5.0, "carried over")}
    fact = InputUsed("labs.afp", 5.0, "ng/mL", date(2026, 1, 2))
    shared, direct = Trace("r", k, assumed), Trace("r", k, assumed)
    shared.use(fact)
    direct.used("labs.afp", 5.0, "ng/mL", date(2026, 1, 2))
    assert shared.finish({}, "x") == direct.finish({}, "x")  # the assumption is shown for both
    assert shared.finish({}, "x").to_dict() == direct.finish({}, "x").to_dict()


def test_a_fork_is_a_new_trace_extended_with_its_source() -> None:
    k = default_knowledge()
    assumed = {"liver.ascites": AssumedInput("liver.ascites", "none", "not charted")}
    shared = Trace("shared", k, assumed)
    shared.used("tumors", [2.0], "cm")
    shared.used("liver.ascites", "none")
    shared.need("afp")
    shared.num("labs.window_days.afp")
    shared.cite("AASLD-2023")
    shared.note("shared note")
    forked = shared.fork("test.rule")
    extended = Trace("test.rule", k, assumed)
    extended.extend(shared)
    for t in (forked, extended):
        t.used("labs.inr", 1.1, "1")
        t.need("dcp")
    assert forked.finish({"x": 1}, "why") == extended.finish({"x": 1}, "why")
    assert (shared.missing, len(shared.inputs)) == (("afp",), 2)  # the source is not changed


def test_a_reads_status_decides_where_a_finding_names_it() -> None:
    # Verified entries are not named; unverified and secondary ones are "unverified"; the project's
    # own choices are "policy", so a reader sees exactly which numbers are hccwatch's.
    k = default_knowledge()
    by_status = {}
    for e in k.entries.values():
        by_status.setdefault(e.status, e.key)
    t = _trace()
    for key in by_status.values():
        t.value(key)
    f = t.finish({}, "why")
    assert set(f.unverified) == {by_status["unverified"], by_status["secondary"]}
    assert f.policy == (by_status["policy"],)
    assert f.to_dict()["policy"] == [by_status["policy"]]


def test_traces_never_share_what_they_record() -> None:
    one, two = _trace(), _trace()
    one.used("a", 1, "mg/dL", date(2026, 1, 2))
    one.need("b")
    one.note("c")
    one.cite("AASLD-2023")
    assert (two.inputs, two.missing, two.citations, dict(two.assumed)) == ((), (), (), {})
    assert two.finish({}, "x").notes == ()
    assert one.inputs == (InputUsed("a", 1, "mg/dL", date(2026, 1, 2)),)
