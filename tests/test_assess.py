"""End to end: assess() on any valid record never crashes, is deterministic, keeps the contract."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from hccwatch import (
    Assessment,
    InvalidRecordError,
    Knowledge,
    UsageError,
    assess,
    default_knowledge,
    parse_record,
)
from strategies import records

CONTRACT_PATHS = [
    "scores.child_pugh.points",
    "scores.child_pugh.class",
    "scores.meld.value",
    "scores.meld_na.value",
    "scores.meld_3.value",
    "scores.albi.score",
    "scores.albi.grade",
    "staging.bclc.stage",
    "staging.cnlc.stage",
    "staging.ajcc.stage",
    "transplant.milan.within",
    "transplant.ucsf.within",
    "transplant.up_to_seven.within",
    "transplant.metroticket_2.within",
    "transplant.afp_model.within",
    "transplant.afp_model.points",
    "transplant.hangzhou.within",
    "transplant.fudan.within",
    "transplant.kyoto.within",
    "transplant.five_five_500.within",
    "transplant.asan.within",
    "transplant.unos_downstaging.eligible",
    "surveillance.next_due",
    "surveillance.overdue",
    "afp.trend",
    "alerts",
    "metastasis.likely_sites",
    "metastasis.risk_factors",
    "workup",
    "recurrence.timing",
    "recurrence.favours",
    "treatment_options",
    "patient_summary",
]
RESULT_OBJECTS = [
    "scores.child_pugh", "scores.meld", "scores.meld_na", "scores.meld_3", "scores.albi", "staging.bclc",
    "staging.cnlc", "staging.ajcc", "surveillance", "afp", "metastasis", "recurrence",
]  # fmt: skip


def _get(d: Any, path: str) -> Any:
    for part in path.split("."):
        assert isinstance(d, dict) and part in d, f"{path}: {part!r} missing"
        d = d[part]
    return d


def check_contract(out: dict[str, Any]) -> None:
    for path in CONTRACT_PATHS:
        _get(out, path)
    for path in RESULT_OBJECTS + [f"transplant.{k}" for k in out["transplant"]]:
        obj = _get(out, path)
        assert isinstance(obj["missing"], list) and isinstance(obj["citations"], list), path
    for alert in out["alerts"]:
        assert {"id", "urgency", "title", "detail", "citations"} <= set(alert)
        assert alert["citations"], f"alert {alert['id']} cites nothing"
    for item in out["workup"]:
        assert {"test", "urgency", "reason", "citations"} <= set(item)
        assert item["citations"], f"workup {item['test']} cites nothing"
    assert out["disclaimer"]
    json.dumps(out, allow_nan=False)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_any_valid_record_is_assessed_and_keeps_the_contract(data: dict[str, Any]) -> None:
    rec = parse_record(data)
    first = assess(rec, as_of=dt.date(2026, 11, 24))
    out = first.to_dict()
    check_contract(out)
    assert assess(rec, as_of=dt.date(2026, 11, 24)).to_dict() == out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_determined_findings_cite_their_sources(data: dict[str, Any]) -> None:
    a = assess(parse_record(data), as_of=dt.date(2026, 11, 24))
    for f in a.findings():
        if f.determined:
            assert f.citations, f"{f.rule} answered without citing a source"


def test_as_of_precedence() -> None:
    rec = {"id": "p", "as_of": "2025-05-05"}
    assert assess(rec, as_of="2026-01-02").as_of_source == "given"
    a = assess(rec)
    assert (a.as_of, a.as_of_source) == (dt.date(2025, 5, 5), "record")
    assert assess({"id": "p"}).as_of_source == "today"


def test_bad_as_of_is_a_clear_error() -> None:
    with pytest.raises(UsageError, match="not a date"):
        assess({"id": "p"}, as_of="24/11/2026")


def test_assessment_type() -> None:
    assert isinstance(assess({"id": "p"}, as_of="2026-01-01"), Assessment)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UsageError, match="no patient texts"):
        assess({"id": "p"}, as_of="2026-01-01", lang="fr")


# ---------------------------------------------------------------- usage errors and non-records


@pytest.mark.parametrize("bad", [[], [{"id": "p"}], 3, 2.5, None, "p", True])
def test_a_non_object_record_is_an_invalid_record(bad: Any) -> None:
    with pytest.raises(InvalidRecordError, match="must be a JSON object"):
        assess(bad, as_of="2026-01-01")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"as_of": "24/11/2026"}, "not a date"),
        ({"as_of": 20261124}, "as_of must be a date"),
        ({"as_of": "9999-12-31"}, "outside the plausible dates"),
        ({"as_of": dt.date(1, 1, 1)}, "outside the plausible dates"),
        ({"as_of": "2026-01-01", "lang": "fr"}, "no patient texts for language 'fr'"),
        ({"as_of": "2026-01-01", "profile": "weekly"}, "unknown surveillance profile 'weekly'"),
        ({"as_of": "1950-01-01"}, "before the patient's birth_date"),
        ({"as_of": "2026-01-01", "lang": None}, "no patient texts for language null"),
        ({"as_of": "2026-01-01", "knowledge": "2026.1.0"}, "knowledge must be a Knowledge"),
    ],
)
def test_usage_errors_have_their_own_type(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        assess({"id": "p", "birth_date": "1960-05-05"}, **kwargs)


def test_a_usage_error_is_reported_before_the_record_is_read() -> None:
    # One bad --lang must not be reported as a problem of every record.
    with pytest.raises(UsageError):
        assess({"id": ""}, as_of="2026-01-01", lang="xx")


# ---------------------------------------------------------------- one knowledge base end to end


def _knowledge_with_afp_iu_factor(factor: float) -> Knowledge:
    k = default_knowledge()
    entry = k.entry("units.afp")
    assert isinstance(entry.value, dict) and isinstance(entry.value["convert"], dict)
    convert = {**entry.value["convert"], "IU/mL": ["multiply", factor]}
    value = {**entry.value, "convert": convert}
    entries = {**k.entries, "units.afp": dataclasses.replace(entry, value=value)}
    return dataclasses.replace(k, version="9999.0.0-test", entries=entries)


def _latest_afp(a: Assessment) -> float:
    latest = a.to_dict()["afp"]["latest"]
    assert isinstance(latest, dict) and isinstance(latest["value"], float)
    return latest["value"]


AFP_IU = {
    "id": "p",
    "labs": [{"test": "afp", "value": 100, "unit": "IU/mL", "date": "2026-01-01"}],
}


def test_the_record_boundary_converts_with_the_knowledge_the_rules_read() -> None:
    k = _knowledge_with_afp_iu_factor(2.0)
    a = assess(AFP_IU, as_of="2026-02-01", knowledge=k)
    assert a.to_dict()["knowledge_version"] == "9999.0.0-test"
    assert _latest_afp(a) == pytest.approx(200.0)
    packaged = assess(AFP_IU, as_of="2026-02-01")
    assert _latest_afp(packaged) == pytest.approx(121.0)  # WHO IS 72/225: 1 IU/mL = 1.21 ng/mL


def test_a_record_parsed_with_another_knowledge_base_is_converted_again() -> None:
    k = _knowledge_with_afp_iu_factor(2.0)
    rec = parse_record(AFP_IU)
    assert rec.knowledge is default_knowledge()
    a = assess(rec, as_of="2026-02-01", knowledge=k)
    assert _latest_afp(a) == pytest.approx(200.0)
    again = parse_record(AFP_IU, knowledge=k)
    assert again.knowledge is k and again.labs[0].canonical.value == pytest.approx(200.0)
