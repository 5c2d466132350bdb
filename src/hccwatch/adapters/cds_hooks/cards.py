"""An assessment as CDS Hooks 2.0 cards: few, quiet, and only when something is actionable.

Which cards (EHR alert override rates are 49-96%: one quiet card beats five):

- at most **one card per urgency level**, most urgent first: ``emergency`` alerts give one
  ``critical`` card (the only level a client may interrupt the user with), ``urgent`` one
  ``warning`` card, ``soon`` one ``info`` card; several alerts of a level share their card;
- each card proposes, as ``create`` suggestions, the workup ServiceRequests of its level (a test
  sits on the card of its own urgency, so whole-spine MRI for suspected cord compression is on
  the critical card);
- **routine items and overdue surveillance make no card**: on opening a chart, a patient whose
  surveillance is late but who has no suspicion is not an interruption; that belongs to the
  report's bottom line and to the registry's worklist, where a clinician plans the visit;
- **no card at all** (``[]``) when no alert or workup item is more urgent than routine.

Each card cites its guideline (``source``: label and URL of its first guideline with a link),
shows in Markdown the reasons, the facts used and any stated assumptions (a fact the record
reader concluded, e.g. "no dialysis recorded means none"), and carries a deterministic ``uuid``
(as does each suggestion) so feedback can name it. The disclaimer appears once, on the first
card. Every card is checked by :func:`check_card` before it is returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from hccwatch.adapters.fhir.out import (
    alert_assumptions,
    fact_text,
    patient_reference,
    stable_uuid,
    workup_service_request,
)
from hccwatch.core.assessment import Assessment
from hccwatch.core.finding import Alert, WorkupItem
from hccwatch.core.knowledge import Knowledge
from hccwatch.report.labels import labels

__all__ = ["SUMMARY_MAX", "cards", "check_card"]

# CDS Hooks 2.0: "summary ... SHALL be less than 140 characters".
SUMMARY_MAX = 139
_INDICATORS = frozenset({"info", "warning", "critical"})
_URGENCIES = ("emergency", "urgent", "soon", "routine")
_MARKDOWN_SPECIAL = "\\`*_[]<>#|"


def _md(text: str) -> str:
    """Free text made safe for Markdown: its characters show as written."""
    return "".join(f"\\{c}" if c in _MARKDOWN_SPECIAL else c for c in text)


def _shorten(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def _str_table(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str)}


def _indicators(knowledge: Knowledge) -> dict[str, str]:
    return _str_table(knowledge.entry("fhir_out.card_indicator").value)


def _source(knowledge: Knowledge, citation_ids: Iterable[str]) -> dict[str, Any]:
    """The card's source: its first guideline with a link, else its first source with a link."""
    ids = list(dict.fromkeys(citation_ids))
    linked = [cid for cid in ids if knowledge.citation(cid).link]
    guidelines = [cid for cid in linked if knowledge.citation(cid).kind == "guideline"]
    if not linked:
        return {"label": "hccwatch"}
    chosen = (guidelines or linked)[0]
    return {"label": f"hccwatch, after {chosen.replace('-', ' ')}", "url": knowledge.citation(chosen).link}


def _alert_markdown(alert: Alert) -> list[str]:
    lines = [f"**{_md(alert.title)}** ({alert.urgency})", "", _md(alert.detail)]
    if alert.actions:
        lines += ["", "Next: " + " ".join(_md(a) for a in alert.actions)]
    if alert.facts:
        lines += ["", "Facts used:", *(f"- {_md(fact_text(f))}" for f in alert.facts)]
    if alert.citations:
        lines += ["", f"Sources: {_md(', '.join(alert.citations))}"]
    if alert.unverified:
        lines += ["", f"Relies on knowledge not yet verified: {_md(', '.join(alert.unverified))}"]
    return lines


def _detail(
    assessment: Assessment, alerts: Sequence[Alert], items: Sequence[WorkupItem], given: Sequence[object]
) -> str:
    lines: list[str] = []
    for alert in alerts:
        lines += [*_alert_markdown(alert), ""]
    if items:
        lines += ["Proposed tests:"]
        lines += [f"- **{_md(labels().title(w.test))}**: {_md(w.reason)}" for w in items]
        lines += [""]
    assumed = alert_assumptions(assessment, alerts, given)
    if assumed:
        lines += ["Stated assumptions (concluded by the record reader, not recorded):"]
        lines += [f"- {_md(a)}" for a in assumed]
        lines += [""]
    return "\n".join(lines).strip()


def _summary(level: str, alerts: Sequence[Alert], items: Sequence[WorkupItem]) -> str:
    """The first alert, how many more share the card, and the tests proposed: what a clinician
    glancing at the panel needs to decide whether to open the card."""
    tests = ", ".join(labels().key(w.test) for w in items)
    if not alerts:
        return _shorten(f"Consider {tests}")
    text = alerts[0].title
    if len(alerts) > 1:
        more = len(alerts) - 1
        text += f" (and {more} more {level} finding{'' if more == 1 else 's'})"
    if tests:
        text += f": consider {tests}"
    return _shorten(text)


def _suggestion(assessment: Assessment, item: WorkupItem, patient_ref: str) -> dict[str, Any]:
    request = workup_service_request(
        item, patient_ref, knowledge=assessment.knowledge, authored_on=assessment.as_of.isoformat()
    )
    if not patient_ref.startswith("Patient/"):
        request["subject"] = patient_reference(assessment.record_id, assessment.knowledge)
    title = labels().title(item.test)
    return {
        "label": f"Order {title}",
        "uuid": stable_uuid(assessment, "cds-suggestion", item.test),
        "isRecommended": True,
        "actions": [
            {"type": "create", "description": f"Propose {title} ({item.urgency})", "resource": request}
        ],
    }


def _override_reasons(knowledge: Knowledge) -> list[dict[str, str]]:
    system = f"{_str_table(knowledge.entry('fhir_out.systems').value)['project']}:override-reason"
    rows = knowledge.entry("fhir_out.override_reasons").value
    out: list[dict[str, str]] = []
    for row in rows if isinstance(rows, list) else []:
        table = _str_table(row)
        if "code" in table and "display" in table:
            out.append({"system": system, "code": table["code"], "display": table["display"]})
    return out


def _link(patient_link: str) -> dict[str, Any]:
    parts = urlsplit(patient_link)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError("patient_link must be an absolute http(s) URL")
    return {
        "label": "hccwatch report for this patient",
        "url": patient_link,
        "type": "absolute",
        "autolaunchable": False,
    }


def cards(
    assessment: Assessment, *, patient_link: str | None = None, assumptions: Iterable[object] = ()
) -> list[dict[str, Any]]:
    """CDS Hooks 2.0 cards for an assessment (see the module docstring); ``[]`` when quiet.

    ``assumptions`` are the record reader's stated assumptions (``FhirReading.assumptions``):
    a card shows those whose field one of its alerts used.
    """
    k = assessment.knowledge
    given = list(assumptions)
    indicators = _indicators(k)
    link = None if patient_link is None else _link(patient_link)
    patient_ref = str(patient_reference(assessment.record_id, k).get("reference", "Patient"))
    out: list[dict[str, Any]] = []
    for level in _URGENCIES:
        indicator = indicators.get(level)
        alerts = [a for a in assessment.alerts if a.urgency == level]
        items = [w for w in assessment.workup if w.urgency == level]
        if indicator is None or not (alerts or items):
            continue
        card: dict[str, Any] = {
            "uuid": stable_uuid(assessment, "cds-card", level),
            "summary": _summary(level, alerts, items),
            "indicator": indicator,
            "detail": _detail(assessment, alerts, items, given),
            "source": _source(
                k, [c for a in alerts for c in a.citations] + [c for w in items for c in w.citations]
            ),
        }
        if items:
            card["suggestions"] = [_suggestion(assessment, w, patient_ref) for w in items]
            card["selectionBehavior"] = "any"
        card["overrideReasons"] = _override_reasons(k)
        if link is not None:
            card["links"] = [dict(link)]
        out.append(card)
    if out:
        out[0]["detail"] += f"\n\n*{_md(assessment.disclaimer)}*"
    for card in out:
        check_card(card)
    return out


def check_card(card: Mapping[str, Any]) -> None:
    """Raise ValueError if a card breaks a CDS Hooks 2.0 rule a client relies on."""
    summary = card.get("summary")
    if not isinstance(summary, str) or not summary or len(summary) > SUMMARY_MAX:
        raise ValueError("card summary must be a non-empty string under 140 characters")
    if card.get("indicator") not in _INDICATORS:
        raise ValueError(f"card indicator must be one of {sorted(_INDICATORS)}")
    source = card.get("source")
    if not isinstance(source, Mapping) or not isinstance(source.get("label"), str) or not source["label"]:
        raise ValueError("card source needs a label")
    if not isinstance(card.get("uuid"), str):
        raise ValueError("card needs a uuid")
    suggestions = card.get("suggestions")
    if suggestions:
        if card.get("selectionBehavior") not in ("at-most-one", "any"):
            raise ValueError("a card with suggestions needs selectionBehavior at-most-one or any")
        for suggestion in suggestions:
            if not suggestion.get("label") or not isinstance(suggestion.get("uuid"), str):
                raise ValueError("each suggestion needs a label and a uuid")
            for action in suggestion.get("actions", ()):
                if action.get("type") not in ("create", "update", "delete"):
                    raise ValueError("suggestion action type must be create, update or delete")
        if card.get("selectionBehavior") == "at-most-one":
            if sum(1 for s in suggestions if s.get("isRecommended")) > 1:
                raise ValueError("at most one suggestion may be recommended with at-most-one")
    for link in card.get("links", ()):
        if link.get("type") not in ("absolute", "smart") or not link.get("label") or not link.get("url"):
            raise ValueError("each link needs a label, a url and type absolute or smart")
        if link["type"] == "absolute" and not urlsplit(link["url"]).netloc:
            raise ValueError("an absolute link needs an absolute URL")
