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
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from hccwatch.core.assessment import Assessment
from hccwatch.core.finding import Alert, Finding, InputUsed, WorkupItem
from hccwatch.core.knowledge import JsonValue, Knowledge, default_knowledge
from hccwatch.report.labels import labels
from hccwatch.version import __version__

__all__ = [
    "alert_assumptions",
    "all_assumptions",
    "assessment_bundle",
    "assumptions_of",
    "fact_text",
    "patient_reference",
    "stable_uuid",
    "stated_assumptions",
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
_STAGE_PARTS = {"ajcc": ("t", "n", "m")}


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


def _assumption(item: object) -> tuple[str | None, str]:
    """(field, sentence) of one stated assumption: a mapping or an object with field/value/reason."""

    def part(name: str) -> object:
        return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)

    field, value, reason = part("field"), part("value"), part("reason")
    text = f"{field} = {_value_text(cast(JsonValue, value))}" if field is not None else str(item)
    if reason:
        text += f": {reason}"
    return (None if field is None else str(field), text)


def assumptions_of(source: object) -> list[tuple[str | None, str]]:
    """The stated assumptions a finding, alert or assessment carries, as (field, sentence).

    The record reader may conclude "none recorded, so no" where the EHR is the record of truth
    (dialysis in the last week, say); each such conclusion travels as an assumption with a field,
    a value and a reason, and whatever used it must show it. Objects without any give ``[]``.
    """
    return [_assumption(item) for item in getattr(source, "assumptions", None) or ()]


def stated_assumptions(
    assessment: Assessment, names: Iterable[str], own: Iterable[object] = (), given: Iterable[object] = ()
) -> list[str]:
    """The stated assumptions behind something that used the facts ``names``: those ``own``
    sources carry, and those (given by the caller, or on any finding or the assessment) whose
    field is one of ``names``; an assumption without a field shows everywhere."""
    used = set(names)
    found: dict[str, None] = {}
    for source in own:
        for _, text in assumptions_of(source):
            found.setdefault(text, None)
    candidates = [_assumption(item) for item in given]
    for source in [*assessment.findings(), assessment]:
        candidates += assumptions_of(source)
    for field, text in candidates:
        if field is None or field in used:
            found.setdefault(text, None)
    return list(found)


def all_assumptions(assessment: Assessment, given: Iterable[object] = ()) -> list[str]:
    """Every stated assumption, once: those given and those any finding or alert carries."""
    found: dict[str, None] = {}
    sources: list[object] = [*assessment.findings(), *assessment.alerts, assessment]
    for field_text in [_assumption(item) for item in given] + [a for s in sources for a in assumptions_of(s)]:
        found.setdefault(field_text[1], None)
    return list(found)


def alert_assumptions(
    assessment: Assessment, alerts: Sequence[Alert], given: Iterable[object] = ()
) -> list[str]:
    """The stated assumptions behind some alerts (see :func:`stated_assumptions`)."""
    return stated_assumptions(assessment, [f.name for a in alerts for f in a.facts], own=alerts, given=given)


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


def _order_concept(knowledge: Knowledge, test: str) -> tuple[dict[str, Any], list[str]]:
    """The code of a proposed test (LOINC where the code table has one, always the project code),
    and the code-table entries it relied on that are not yet verified."""
    display = labels().title(test)
    codings: list[dict[str, Any]] = []
    unverified: list[str] = []
    key = f"fhir_out.order_codes.{test}"
    if key in knowledge.entries:
        entry = knowledge.entry(key)
        row = _str_table(entry.value)
        codings.append(
            {"system": _systems(knowledge)["loinc"], "code": row["code"], "display": row["display"]}
        )
        if not entry.verified:
            unverified.append(key)
    codings.append(_project_coding(knowledge, "order", test, display))
    return {"coding": codings, "text": display}, unverified


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
    concept, unverified_codes = _order_concept(k, item.test)
    out: dict[str, Any] = {"resourceType": "ServiceRequest"}
    if resource_id is not None:
        out["id"] = resource_id
    out |= {
        "status": "draft",
        "intent": "proposal",
        "priority": _urgency_map(k, "fhir_out.service_request_priority")[item.urgency],
        "code": concept,
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
    unverified = [*item.unverified, *unverified_codes]
    if unverified:
        notes.append(f"Relies on knowledge not yet verified: {', '.join(unverified)}.")
    out["note"] = [{"text": " ".join(notes)}]
    return out


def _alert_issue(
    assessment: Assessment,
    alert: Alert,
    resource_id: str,
    patient: dict[str, Any],
    given: Sequence[object],
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
    evidence = [fact_text(f) for f in alert.facts]
    evidence += [f"Stated assumption: {text}" for text in alert_assumptions(assessment, [alert], given)]
    if evidence:
        out["evidence"] = [{"code": [{"text": text} for text in evidence]}]
    if alert.actions:
        out["mitigation"] = [{"action": {"text": action}} for action in alert.actions]
    return out


def _first_link(knowledge: Knowledge, citation_ids: Iterable[str]) -> str | None:
    for cid in citation_ids:
        link = knowledge.citation(cid).link
        if link:
            return link
    return None


def _observation(
    assessment: Assessment,
    kind: str,
    key: str,
    finding: Finding,
    resource_id: str,
    patient: dict[str, Any],
    given: Sequence[object],
) -> dict[str, Any]:
    """A score (kind "score") or a stage (kind "stage") as an Observation on ``as_of``."""
    k = assessment.knowledge
    table = "fhir_out.scores" if kind == "score" else "fhir_out.stages"
    display = _str_table(k.entry(table).value).get(key, labels().key(key))
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "status": "final",
        "code": {"coding": [_project_coding(k, kind, key, display)], "text": display},
        "subject": patient,
        "effectiveDateTime": assessment.as_of.isoformat(),
    }
    value_key = _SCORE_VALUE.get(key, "value") if kind == "score" else "stage"
    parts = _SCORE_PARTS.get(key, ()) if kind == "score" else _STAGE_PARTS.get(key, ())
    value = finding.get(value_key)
    if finding.determined and isinstance(value, str) and value:
        out["valueCodeableConcept"] = {"text": value}
    elif finding.determined and isinstance(value, int) and not isinstance(value, bool):
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
        components = [_component(k, kind, key, part, finding.get(part)) for part in parts]
        out["component"] = [c for c in components if c is not None] or None
        if out["component"] is None:
            del out["component"]
    notes = [finding.explanation]
    if finding.inputs:
        notes.append("Facts used: " + "; ".join(fact_text(i) for i in finding.inputs) + ".")
    assumed = stated_assumptions(assessment, [i.name for i in finding.inputs], own=[finding], given=given)
    if assumed:
        notes.append("Stated assumptions: " + "; ".join(assumed) + ".")
    if finding.citations:
        notes.append(f"Sources: {', '.join(finding.citations)}.")
    if finding.unverified:
        notes.append(f"Relies on knowledge not yet verified: {', '.join(finding.unverified)}.")
    out["note"] = [{"text": text} for text in notes if text]
    return out


def _component(
    knowledge: Knowledge, kind: str, key: str, part: str, value: JsonValue
) -> dict[str, Any] | None:
    display = f"{labels().key(key)} {part.upper() if len(part) == 1 else part}"
    code = {"coding": [_project_coding(knowledge, kind, f"{key}.{part}", display)], "text": display}
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
    assessment: Assessment,
    resource_id: str,
    patient: dict[str, Any],
    basis: list[str],
    given: Sequence[object],
) -> dict[str, Any]:
    k = assessment.knowledge
    notes = [assessment.disclaimer, assessment.metastasis.explanation, assessment.recurrence.explanation]
    assumed = all_assumptions(assessment, given)
    if assumed:
        notes.append("Stated assumptions of the record reader: " + "; ".join(assumed) + ".")
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


def assessment_bundle(assessment: Assessment, *, assumptions: Iterable[object] = ()) -> dict[str, Any]:
    """The assessment as a FHIR R4 Bundle of type ``collection`` (see the module docstring).

    ``assumptions`` are the record reader's stated assumptions (``FhirReading.assumptions``, or
    ``record["assumptions"]``): each is shown on every resource that used its field, and all of
    them once on the RiskAssessment.
    """
    k = assessment.knowledge
    given = list(assumptions)
    patient = patient_reference(assessment.record_id, k)
    entries: list[tuple[str, dict[str, Any]]] = []

    score_refs: list[str] = []
    for key, finding in assessment.scores.items():
        rid = stable_uuid(assessment, "score", key)
        entries.append((rid, _observation(assessment, "score", key, finding, rid, patient, given)))
        score_refs.append(f"urn:uuid:{rid}")
    for key, finding in assessment.staging.items():
        rid = stable_uuid(assessment, "stage", key)
        entries.append((rid, _observation(assessment, "stage", key, finding, rid, patient, given)))
        score_refs.append(f"urn:uuid:{rid}")

    issue_refs: dict[str, str] = {}
    for alert in assessment.alerts:
        rid = stable_uuid(assessment, "alert", alert.id)
        entries.append((rid, _alert_issue(assessment, alert, rid, patient, given)))
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
    risk = _risk_assessment(assessment, rid, patient, [*score_refs, *issue_refs.values()], given)
    entries.insert(0, (rid, risk))
    return {
        "resourceType": "Bundle",
        "id": stable_uuid(assessment, "bundle"),
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{rid}", "resource": resource} for rid, resource in entries],
    }
