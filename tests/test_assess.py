"""End to end: assess() on any valid record never crashes, is deterministic, keeps the contract."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from hccwatch import Assessment, assess, parse_record
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
    with pytest.raises(ValueError, match="not a date"):
        assess({"id": "p"}, as_of="24/11/2026")


def test_assessment_type() -> None:
    assert isinstance(assess({"id": "p"}, as_of="2026-01-01"), Assessment)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no patient texts"):
        assess({"id": "p"}, as_of="2026-01-01", lang="fr")
