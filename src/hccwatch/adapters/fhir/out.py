"""An assessment written as FHIR R4 resources, in one ``collection`` Bundle.

What goes where:

- one **RiskAssessment** for the whole assessment: the likely sites of spread as predictions
  (population frequencies, with the patient-specific reasons as rationale), the scores and
  alerts as ``basis``, the workup as ``mitigation``, and the disclaimer, explanations and
  numbered sources as notes;
- one **DetectedIssue** per alert: severity from its urgency, the facts it used as evidence,
  its next steps as mitigation actions, its first source as ``reference``;
- one proposed **ServiceRequest** (status draft, intent proposal) per workup item, never an
  order: a clinician signs or discards it;
- one **Observation** per score (Child-Pugh, MELD, MELD-Na, MELD 3.0, ALBI); a score that
  cannot be determined carries ``dataAbsentReason`` and names what was missing, never a value.

Codes are knowledge data (``fhir_out.*``): LOINC only where a checked code names the test as
ordered, else text plus a project code. Ids are UUID 5 of the record id, the evaluation date
and the item, so writing the same assessment twice gives the same bytes.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from hccwatch.core.assessment import Assessment
from hccwatch.core.finding import Alert, Finding, InputUsed, WorkupItem
from hccwatch.core.knowledge import JsonValue, Knowledge, default_knowledge
from hccwatch.report.labels import labels
from hccwatch.version import __version__

__all__ = [
    "assessment_bundle",
    "fact_text",
    "patient_reference",
    "stable_uuid",
    "workup_service_request",
]

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:hccwatch:fhir")
# FHIR id: 1-64 of [A-Za-z0-9-.]; a record id outside that is referred to by identifier.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# Which value of each score finding is the score itself, and which parts ride along as components.
_SCORE_VALUE = {
    "child_pugh": "points",
    "meld": "value",
    "meld_na": "value",
    "meld_3": "value",
    "albi": "score",
}
_SCORE_PARTS = {"child_pugh": ("class",), "albi": ("grade",)}


def stable_uuid(assessment: Assessment, *item: str) -> str:
    """The same UUID for the same record, evaluation date and item, on every run."""
    name = "|".join([assessment.record_id, assessment.as_of.isoformat(), *item])
    return str(uuid.uuid5(_NAMESPACE, name))


def patient_reference(record_id: str, knowledge: Knowledge | None = None) -> dict[str, Any]:
    """A Reference to the patient: literal when the record id is a valid FHIR id."""
    if _FHIR_ID.fullmatch(record_id):
        return {"reference": f"Patient/{record_id}"}
    system = _systems(knowledge or default_knowledge())["record_id"]
    return {"identifier": {"system": system, "value": record_id}}


def fact_text(fact: InputUsed) -> str:
    """A fact a rule used, in one line: name, value with unit, date."""
    when = fact.date
    # A dated measurement ({"value": 24.6, "date": ...}) reads as "24.6 ng/mL on <date>".
    value: JsonValue = fact.value
    dated: JsonValue = None
    raw = fact.value
    if isinstance(raw, dict) and set(raw) == {"value", "date"}:
        value, dated = raw["value"], raw["date"]
    text = f"{fact.name}: {_value_text(value)}"
    if fact.unit and fact.unit != "1":
        text += f" {fact.unit}"
    if isinstance(dated, str):
        text += f" on {dated}"
    if when is not None:
        text += f" ({when.isoformat()})"
    return text


def _value_text(value: JsonValue) -> str:
    if isinstance(value, dict):
        parts = [f"{k} {_value_text(v)}" for k, v in value.items() if v is not None]
        return ", ".join(parts) if parts else "recorded, no details"
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value) if value else "none"
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _systems(knowledge: Knowledge) -> dict[str, str]:
    return _str_table(knowledge.entry("fhir_out.systems").value)


def _str_table(value: JsonValue) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _project_coding(knowledge: Knowledge, kind: str, code: str, display: str) -> dict[str, Any]:
    return {"system": f"{_systems(knowledge)['project']}:{kind}", "code": code, "display": display}


def _order_concept(knowledge: Knowledge, test: str) -> dict[str, Any]:
    """The code of a proposed test: LOINC where the code table has one, always the project code."""
    display = labels().title(test)
    codings: list[dict[str, Any]] = []
    key = f"fhir_out.order_codes.{test}"
    if key in knowledge.entries:
        row = _str_table(knowledge.entry(key).value)
        codings.append(
            {"system": _systems(knowledge)["loinc"], "code": row["code"], "display": row["display"]}
        )
    codings.append(_project_coding(knowledge, "order", test, display))
    return {"coding": codings, "text": display}


def _urgency_map(knowledge: Knowledge, key: str) -> dict[str, str]:
    return _str_table(knowledge.entry(key).value)


def workup_service_request(
    item: WorkupItem,
    patient_ref: str,
    *,
    knowledge: Knowledge | None = None,
    resource_id: str | None = None,
    authored_on: str | None = None,
    supporting: Sequence[str] = (),
) -> dict[str, Any]:
    """A proposed ServiceRequest for one workup item (status draft, intent proposal).

    ``patient_ref`` is a literal reference (``Patient/123``); ``supporting`` are references to
    the resources (DetectedIssues) that gave rise to it.
    """
    k = knowledge or default_knowledge()
    out: dict[str, Any] = {"resourceType": "ServiceRequest"}
    if resource_id is not None:
        out["id"] = resource_id
    out |= {
        "status": "draft",
        "intent": "proposal",
        "priority": _urgency_map(k, "fhir_out.service_request_priority")[item.urgency],
        "code": _order_concept(k, item.test),
        "subject": {"reference": patient_ref},
    }
    if authored_on is not None:
        out["authoredOn"] = authored_on
    out["reasonCode"] = [{"text": item.reason}]
    if supporting:
        out["supportingInfo"] = [{"reference": ref} for ref in supporting]
    notes = [f"Urgency: {item.urgency}."]
    if item.instead_of:
        notes.append(f"Proposed rather than {labels().key(item.instead_of)}.")
    if item.citations:
        notes.append(f"Sources: {', '.join(item.citations)}.")
    if item.unverified:
        notes.append(f"Relies on knowledge not yet verified: {', '.join(item.unverified)}.")
    out["note"] = [{"text": " ".join(notes)}]
    return out


def _alert_issue(
    assessment: Assessment, alert: Alert, resource_id: str, patient: dict[str, Any]
) -> dict[str, Any]:
    k = assessment.knowledge
    out: dict[str, Any] = {
        "resourceType": "DetectedIssue",
        "id": resource_id,
        "status": "final",
        "code": {"coding": [_project_coding(k, "alert", alert.id, alert.title)], "text": alert.title},
        "severity": _urgency_map(k, "fhir_out.detected_issue_severity")[alert.urgency],
        "patient": patient,
        "identifiedDateTime": assessment.as_of.isoformat(),
        "detail": alert.detail,
    }
    link = _first_link(k, alert.citations)
    if link is not None:
        out["reference"] = link
    if alert.facts:
        out["evidence"] = [{"code": [{"text": fact_text(f)} for f in alert.facts]}]
    if alert.actions:
        out["mitigation"] = [{"action": {"text": action}} for action in alert.actions]
    return out


def _first_link(knowledge: Knowledge, citation_ids: Iterable[str]) -> str | None:
    for cid in citation_ids:
        link = knowledge.citation(cid).link
        if link:
            return link
    return None


def _score_observation(
    assessment: Assessment, key: str, finding: Finding, resource_id: str, patient: dict[str, Any]
) -> dict[str, Any]:
    k = assessment.knowledge
    display = _str_table(k.entry("fhir_out.scores").value).get(key, labels().key(key))
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "code": {"coding": [_project_coding(k, "score", key, display)], "text": display},
        "subject": patient,
        "effectiveDateTime": assessment.as_of.isoformat(),
    }
    value = finding.get(_SCORE_VALUE.get(key, "value"))
    if finding.determined and isinstance(value, int) and not isinstance(value, bool):
        out["valueInteger"] = value
    elif finding.determined and isinstance(value, float):
        out["valueQuantity"] = {
            "value": value,
            "unit": "{score}",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
    else:
        gaps = "; ".join(finding.missing) or "required data"
        out["dataAbsentReason"] = {
            "coding": [
                {"system": _systems(k)["data_absent_reason"], "code": "unknown", "display": "Unknown"}
            ],
            "text": f"cannot determine: missing {gaps}",
        }
    if finding.determined:
        components = [_component(k, key, part, finding.get(part)) for part in _SCORE_PARTS.get(key, ())]
        out["component"] = [c for c in components if c is not None] or None
        if out["component"] is None:
            del out["component"]
    notes = [finding.explanation]
    if finding.inputs:
        notes.append("Facts used: " + "; ".join(fact_text(i) for i in finding.inputs) + ".")
    if finding.citations:
        notes.append(f"Sources: {', '.join(finding.citations)}.")
    if finding.unverified:
        notes.append(f"Relies on knowledge not yet verified: {', '.join(finding.unverified)}.")
    out["note"] = [{"text": text} for text in notes if text]
    return out


def _component(knowledge: Knowledge, key: str, part: str, value: JsonValue) -> dict[str, Any] | None:
    display = f"{labels().key(key)} {part}"
    code = {"coding": [_project_coding(knowledge, "score", f"{key}.{part}", display)], "text": display}
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return {"code": code, "valueInteger": value}
    if isinstance(value, str):
        return {"code": code, "valueString": value}
    return None


def _predictions(assessment: Assessment) -> list[dict[str, Any]]:
    """One prediction per likely site: a population frequency and why the site ranks where it does."""
    sites = assessment.metastasis.get("likely_sites")
    out: list[dict[str, Any]] = []
    if not isinstance(sites, list):
        return out
    for site in sites:
        if not isinstance(site, dict) or not isinstance(site.get("site"), str):
            continue
        name = str(site["site"])
        rationale = [f"Reported frequency {site.get('frequency')} of {site.get('of')}."]
        reasons = site.get("reasons")
        if isinstance(reasons, list) and reasons:
            rationale.append("Ranked here because: " + "; ".join(str(r) for r in reasons) + ".")
        cites = site.get("citations")
        if isinstance(cites, list) and cites:
            rationale.append(f"Sources: {', '.join(str(c) for c in cites)}.")
        out.append(
            {
                "outcome": {
                    "coding": [_project_coding(assessment.knowledge, "site", name, labels().key(name))],
                    "text": f"Extrahepatic spread to {labels().key(name)}",
                },
                "rationale": " ".join(rationale),
            }
        )
    return out


def _risk_assessment(
    assessment: Assessment, resource_id: str, patient: dict[str, Any], basis: list[str]
) -> dict[str, Any]:
    k = assessment.knowledge
    notes = [assessment.disclaimer, assessment.metastasis.explanation, assessment.recurrence.explanation]
    notes += [f"[{cid}] {k.citation(cid).short()}" for cid in assessment.cited()]
    unverified = assessment.unverified()
    if unverified:
        notes.append(
            f"Relies on knowledge not yet verified against its primary source: {', '.join(unverified)}."
        )
    out: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": resource_id,
        "status": "final",
        "method": {"text": f"hccwatch {__version__}, knowledge base {k.version}"},
        "code": {"text": "Follow-up after hepatocellular carcinoma treatment: recurrence and spread"},
        "subject": patient,
        "occurrenceDateTime": assessment.as_of.isoformat(),
    }
    if basis:
        out["basis"] = [{"reference": ref} for ref in basis]
    predictions = _predictions(assessment)
    if predictions:
        out["prediction"] = predictions
    if assessment.workup:
        out["mitigation"] = "Proposed workup: " + "; ".join(
            f"{labels().key(w.test)} ({w.urgency})" for w in assessment.workup
        )
    out["note"] = [{"text": text} for text in notes if text]
    return out


def assessment_bundle(assessment: Assessment) -> dict[str, Any]:
    """The assessment as a FHIR R4 Bundle of type ``collection`` (see the module docstring)."""
    k = assessment.knowledge
    patient = patient_reference(assessment.record_id, k)
    entries: list[tuple[str, dict[str, Any]]] = []

    score_refs: list[str] = []
    for key, finding in assessment.scores.items():
        rid = stable_uuid(assessment, "score", key)
        entries.append((rid, _score_observation(assessment, key, finding, rid, patient)))
        score_refs.append(f"urn:uuid:{rid}")

    issue_refs: dict[str, str] = {}
    for alert in assessment.alerts:
        rid = stable_uuid(assessment, "alert", alert.id)
        entries.append((rid, _alert_issue(assessment, alert, rid, patient)))
        issue_refs[alert.id] = f"urn:uuid:{rid}"

    # A record id that is no FHIR id is referred to by identifier (the subject is replaced below).
    patient_ref = str(patient.get("reference", "Patient"))
    for item in assessment.workup:
        rid = stable_uuid(assessment, "order", item.test)
        suspicions = [s.strip() for s in (item.suspicion or "").split(",") if s.strip()]
        request = workup_service_request(
            item,
            patient_ref,
            knowledge=k,
            resource_id=rid,
            authored_on=assessment.as_of.isoformat(),
            supporting=[issue_refs[s] for s in suspicions if s in issue_refs],
        )
        if "reference" not in patient:
            request["subject"] = patient
        entries.append((rid, request))

    rid = stable_uuid(assessment, "risk-assessment")
    risk = _risk_assessment(assessment, rid, patient, [*score_refs, *issue_refs.values()])
    entries.insert(0, (rid, risk))
    return {
        "resourceType": "Bundle",
        "id": stable_uuid(assessment, "bundle"),
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{rid}", "resource": resource} for rid, resource in entries],
    }
