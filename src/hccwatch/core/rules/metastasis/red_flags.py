"""Red-flag symptoms in a person with HCC, each turned into an alert with an urgency.

When a symptom is active on the evaluation date, Then the triggers in knowledge
(``metastasis.red_flags.triggers.*``) decide the alert and its urgency; an alert takes its most
urgent trigger:

| symptoms                                                   | alert                       | urgency    |
|------------------------------------------------------------|-----------------------------|------------|
| leg weakness or numbness, gait difficulty, bladder/bowel    | mscc_suspected              | emergency  |
| dysfunction, saddle numbness, radicular pain (NICE CG75)    |                             |            |
| thoracic/cervical/progressive spinal pain, night pain, pain | spinal_metastasis_suspected | urgent     |
| on straining, tenderness, back pain of unknown level (CG75) |                             |            |
| other back pain                                             | spinal_metastasis_suspected | soon       |
| bone pain / pathological fracture                           | bone_metastasis_suspected   | soon/urgent|
| sudden headache, confusion, focal weakness or seizure       | brain_metastasis_suspected  | emergency  |
| confusion, focal weakness, seizure, cranial nerve palsy,    | brain_metastasis_suspected  | urgent     |
| progressive headache; other headache                        |                             | soon       |
| haemoptysis                                                 | haemoptysis                 | urgent     |
| GI bleeding                                                 | gi_bleeding                 | emergency  |
| cough, wheeze, dyspnoea, chest pain                         | lung_symptoms               | soon       |
| abdominal pain or distension                                | peritoneal_symptoms         | soon       |
| jaundice                                                    | jaundice                    | urgent     |
| weight loss                                                 | weight_loss                 | soon       |

Radicular pain is an emergency, not an urgent pain pattern, because NICE CG75 lists it with the
neurological symptoms of MSCC. Suspected MSCC brings the NICE NG234 actions: whole-spine MRI
within 24 hours, dexamethasone 16 mg if there are neurological symptoms, lie flat and log-roll
if unstable or neurological, urgent spinal oncology referral.
Citations: NICE-CG75, NICE-NG234, SEO-2011, HAN-2010, LIN-2017, KWAK-2012, BAVENO-2022.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hccwatch.core.context import Context
from hccwatch.core.finding import InputUsed, Trace, Urgency
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.metastasis.model import (
    ALERT_TITLES,
    Suspicion,
    as_urgency,
    merge_suspicions,
    most_urgent,
)
from hccwatch.core.rules.metastasis.workup import requests_for_alert
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import Symptom

__all__ = ["red_flag_suspicions"]


def _fires(spec: Mapping[str, JsonValue], s: Symptom, t: Trace) -> bool:
    """Does this trigger's condition hold for the symptom? Unknown details are named as gaps."""
    when = spec["when"]
    if when == "any":
        return True
    if when == "level_unknown":
        if s.spinal_level is None:
            t.need(f"symptoms.{s.code}.spinal_level")
        return s.spinal_level is None
    if when == "level_in":
        levels = spec.get("levels")
        return isinstance(levels, list) and s.spinal_level in levels
    flags = {"sudden": s.sudden, "progressive": s.progressive}
    if when not in flags:
        raise KnowledgeError(f"red-flag trigger condition {when!r} is unknown")
    flag = flags[str(when)]
    if flag is None:
        t.need(f"symptoms.{s.code}.{when}")
    return flag is True


def _label(s: Symptom) -> str:
    details = [d for d in (s.spinal_level, "sudden onset" if s.sudden else None) if d]
    if s.progressive:
        details.append("progressive")
    if s.onset is not None:
        details.append(f"since {s.onset.isoformat()}")
    name = s.code.replace("_", " ")
    return f"{name} ({', '.join(details)})" if details else name


def _fact(s: Symptom) -> InputUsed:
    value: dict[str, JsonValue] = {
        "sudden": s.sudden,
        "progressive": s.progressive,
        "spinal_level": s.spinal_level,
    }
    return InputUsed(name=f"symptoms.{s.code}", value=value, date=s.onset)


def _sites(t: Trace, codes: Sequence[str]) -> tuple[str, ...]:
    table = t.table("metastasis.symptom_sites")
    sites = [site for code in codes for site in _strings(table.get(code))]
    return tuple(dict.fromkeys(sites))


def _strings(value: JsonValue) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _mscc_actions(t: Trace) -> tuple[str, ...]:
    hours = t.num("metastasis.red_flags.mscc.mri_within_hours")
    dex = t.num("metastasis.red_flags.mscc.dexamethasone_mg")
    return (
        "Contact the acute oncology / MSCC coordinator now: an oncological emergency.",
        f"Whole-spine MRI as soon as possible and within {hours:g} hours (CT if MRI is contraindicated).",
        f"Discuss dexamethasone {dex:g} mg orally (or parenteral equivalent) now if there are neurological "
        "symptoms or signs, with gastric protection; stop if MSCC is excluded.",
        "Lie flat and log-roll if spinal instability or neurological symptoms, until the MRI is reported.",
        "Urgent referral to the spinal surgical / clinical oncology team.",
    )


def _spinal_actions(t: Trace) -> tuple[str, ...]:
    days = t.num("metastasis.red_flags.spinal.mri_within_days")
    return (
        f"Discuss urgently with the MSCC coordinator; whole-spine MRI within {days:g} days "
        "(NICE CG75), at once if any neurological symptom appears.",
    )


def _bleeding_actions(t: Trace) -> tuple[str, ...]:
    hours = t.num("metastasis.red_flags.gi_bleeding.endoscopy_within_hours")
    return (
        "Emergency assessment and resuscitation now.",
        f"Upper GI endoscopy within {hours:g} hours of presentation (Baveno VII).",
    )


def _brain_actions(urgency: Urgency) -> tuple[str, ...]:
    if urgency == "emergency":
        return ("Non-contrast head CT now (haemorrhage), then contrast brain MRI.",)
    return ("Contrast brain MRI.",)


def _actions(t: Trace, alert_id: str, urgency: Urgency) -> tuple[str, ...]:
    if alert_id == "mscc_suspected":
        return _mscc_actions(t)
    if alert_id == "spinal_metastasis_suspected" and urgency == "urgent":
        return _spinal_actions(t)
    if alert_id == "gi_bleeding":
        return _bleeding_actions(t)
    if alert_id == "brain_metastasis_suspected":
        return _brain_actions(urgency)
    return ()


def _strongest_per_symptom(
    ctx: Context, hits: list[tuple[str, Symptom]]
) -> list[tuple[str, Symptom, Mapping[str, JsonValue]]]:
    """Per symptom, only the most urgent triggers: a weaker reading of the same pain adds nothing."""
    specs = [(key, s, _spec(ctx, key)) for key, s in hits]
    best: dict[str, Urgency] = {}
    for _, s, spec in specs:
        best[s.code] = most_urgent(best.get(s.code, "routine"), as_urgency(spec["urgency"]))
    return [(key, s, spec) for key, s, spec in specs if as_urgency(spec["urgency"]) == best[s.code]]


def _suspicion(ctx: Context, t: Trace, alert_id: str, hits: list[tuple[str, Symptom]]) -> Suspicion:
    at = ctx.trace(f"alert.{alert_id}")
    kept = _strongest_per_symptom(ctx, hits)
    for key, _, _ in kept:
        at.value(key)
    urgency = most_urgent(*(as_urgency(spec["urgency"]) for _, _, spec in kept))
    # One sentence per symptom, however many of its triggers fired.
    whys: dict[str, list[str]] = {}
    for _, s, spec in kept:
        whys.setdefault(_label(s).capitalize(), []).append(str(spec["why"]))
    reasons = [f"{label}: {'; '.join(dict.fromkeys(why))}." for label, why in whys.items()]
    codes = list(dict.fromkeys(s.code for _, s, _ in kept))
    if (
        alert_id == "brain_metastasis_suspected"
        and "confusion" in codes
        and _liver_explains_confusion(ctx, at)
    ):
        reasons.append(str(at.value("metastasis.red_flags.confusion_differential")))
    because = f"{ALERT_TITLES[alert_id]} ({', '.join(c.replace('_', ' ') for c in codes)})"
    actions = _actions(at, alert_id, urgency)
    tests = requests_for_alert(at, alert_id, urgency, because)
    return Suspicion(
        id=alert_id,
        kind="symptom",
        urgency=urgency,
        sites=_sites(t, codes),
        reasons=tuple(dict.fromkeys(reasons)),
        citations=at.citations,
        unverified=at.unverified,
        policy=at.policy,
        facts=tuple({f.name: f for f in (*(_fact(s) for _, s, _ in kept), *at.inputs)}.values()),
        tests=tests,
        actions=actions,
    )


def _liver_explains_confusion(ctx: Context, at: Trace) -> bool:
    """Cirrhosis or recorded encephalopathy make hepatic encephalopathy the first explanation."""
    liver = ctx.record.liver
    if liver.encephalopathy not in (None, "none"):
        at.used("liver.encephalopathy", liver.encephalopathy)
        return True
    if liver.cirrhosis:
        at.used("liver.cirrhosis", True)
        return True
    return False


def _spec(ctx: Context, key: str) -> Mapping[str, JsonValue]:
    # Trigger definitions hold no numbers; the ones that fire are read through the alert's trace,
    # so an alert cites exactly the triggers behind it.
    value = ctx.knowledge.entry(key).value
    if not isinstance(value, dict):
        raise KnowledgeError(f"red-flag trigger {key!r} is not a table")
    return value


def red_flag_suspicions(ctx: Context, t: Trace) -> list[Suspicion]:
    """Suspicions from the symptoms active on ``ctx.as_of``; gaps are recorded on ``t``."""
    symptoms = ctx.active_symptoms()
    hits: dict[str, list[tuple[str, Symptom]]] = {}
    trigger_ids = t.items("metastasis.red_flags.trigger_ids")
    if not symptoms:
        return []  # a trigger fires on an active symptom: none can fire
    for trigger_id in trigger_ids:
        key = f"metastasis.red_flags.triggers.{trigger_id}"
        spec = _spec(ctx, key)
        codes = _strings(spec["symptoms"])
        for s in symptoms:
            if s.code in codes and _fires(spec, s, t):
                hits.setdefault(str(spec["alert"]), []).append((key, s))
    return merge_suspicions(_suspicion(ctx, t, alert_id, found) for alert_id, found in hits.items())
