"""Suspicion triggers that are not symptoms: an AFP rise or an AFP that did not normalise, and a new
or indeterminate imaging finding.

**AFP.** When AFP is rising, or raised and not falling (from the ``afp.kinetics`` finding), Then
suspect recurrence or extrahepatic metastasis ("afp_rise", soon). Else, when a raised AFP has not
returned to normal well after a curative treatment (``normalisation`` "not_normalised", even while
falling), Then suspect residual or hidden disease ("afp_not_normalised", ``afp.normalisation.urgency``,
SHIRABE-1997, ALLARD-2014); when both hold, the rise is the alert and non-normalisation one of its
reasons. What to do depends on the imaging of the last ``imaging_window_days``:

| recent imaging                                   | workup                                             |
|--------------------------------------------------|----------------------------------------------------|
| an abnormal study (new lesion, progression, ...) | none here: the imaging suspicion carries it        |
| none, or only a normal ultrasound                | multiphase liver CT/MRI + chest CT (PET-CT next)   |
| liver CT/MRI and chest CT both negative          | FDG PET-CT                                         |
| those and PET-CT negative                        | repeat multiphase liver imaging at a short interval |

Liver imaging is never skipped: ultrasound misses small intrahepatic recurrence and FDG-PET misses
lesions under 1 cm (Sugiyama 2004), while 38% of extrahepatic recurrences have no intrahepatic
recurrence (Yoon 2021). A raised AFP that is falling is noted, not alerted (it is what follows
successful treatment) unless it has not normalised in time. Unknown kinetics are a gap, never "normal".

**Imaging.** When the standing study of a region (the latest within ``alert_window_days``; a
normal study only replaces an abnormal one if it is at least as sensitive) reports a new lesion or progression
("imaging_new_lesion") or an indeterminate finding ("imaging_indeterminate"), Then suspect
recurrence at the lesions' sites (soon; urgent for the brain) and request the site's test plus,
for a new lesion, restaging (liver CT/MRI, chest CT, AFP) not already covered by that study.
A "new lesion" whose new lesions are all in the liver and all under 1 cm
(``recurrence.confirmed_lesion_min_cm``) cannot be diagnosed yet: it is an indeterminate finding
(routine, ``recurrence.subcentimetre_urgency``) asking for repeat multiphase CT/MRI in 3-6 months
(AASLD-2010), not a recurrence.

Same-day studies of a region are read together, never by their order in the record: an abnormal
study is not cleared by a normal one of the same day (they are concurrent, not a follow-up), and
each abnormal one stands.

Citations: SUGIYAMA-2004, YOON-2021, TURSHUDZHYAN-2022, HAN-2010, SHIRABE-1997, ALLARD-2014.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, InputUsed, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.metastasis.model import (
    ALERT_TITLES,
    Suspicion,
    WorkupRequest,
    as_urgency,
    most_urgent,
)
from hccwatch.core.rules.metastasis.workup import requests_for_tests
from hccwatch.core.rules.recurrence.lesions import sorted_imaging, study_key, subcentimetre
from hccwatch.record.model import Imaging

__all__ = ["afp_suspicions", "imaging_suspicions"]

NEGATIVE_RESULTS = frozenset({"normal", "stable"})
CROSS_SECTIONAL = frozenset({"ct", "mri"})

# Which studies already answer a test: (modalities, regions); regions None = any region. An
# adrenal-protocol study is never assumed: a routine abdominal CT does not characterise the gland.
DONE_BY: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {
    "liver_multiphase_ct_or_mri": (CROSS_SECTIONAL, frozenset({"liver", "abdomen"})),
    "chest_ct": (frozenset({"ct"}), frozenset({"chest"})),
    "fdg_pet_ct": (frozenset({"pet_ct"}), None),
    "brain_mri": (frozenset({"mri"}), frozenset({"brain"})),
    "whole_spine_mri": (frozenset({"mri"}), frozenset({"spine"})),
    "bone_imaging": (CROSS_SECTIONAL | {"pet_ct"}, frozenset({"bone", "spine", "whole_body"})),
    "abdomen_pelvis_ct_or_mri": (CROSS_SECTIONAL, frozenset({"abdomen", "pelvis"})),
}


def _does(study: Imaging, test: str) -> bool:
    if test not in DONE_BY:
        return False
    modalities, regions = DONE_BY[test]
    return study.modality in modalities and (regions is None or study.region in regions)


def _negative_for(studies: Iterable[Imaging], test: str) -> bool:
    return any(s.result in NEGATIVE_RESULTS and _does(s, test) for s in studies)


def _latest_by_region(t: Trace, studies: Iterable[Imaging]) -> list[Imaging]:
    """The studies of each region that stand: a later day supersedes an earlier one when it is
    abnormal itself or at least as sensitive, so a normal ultrasound never clears a CT finding.

    A day's studies of one region are taken together: its abnormal studies all stand (a normal
    study of the same day does not clear them), else its normal studies at their best rank.
    The answer never depends on the order of the record's imaging list.
    """
    rank = t.table("metastasis.suspicion.imaging.modality_rank")
    days: dict[tuple[str, date], list[Imaging]] = {}
    for study in studies:
        days.setdefault((study.region, study.date), []).append(study)
    standing: dict[str, list[Imaging]] = {}
    for (region, _), day in sorted(days.items(), key=lambda item: item[0]):
        abnormal = [s for s in day if s.result not in NEGATIVE_RESULTS]
        current = standing.get(region)
        best = max(_rank(rank, s) for s in day)
        if abnormal:
            standing[region] = abnormal
        elif current is None or best >= max(_rank(rank, s) for s in current):
            standing[region] = [s for s in day if _rank(rank, s) == best]
    return [s for region in sorted(standing) for s in sorted(standing[region], key=study_key)]


def _rank(rank: Mapping[str, JsonValue], study: Imaging) -> float:
    value = rank.get(study.modality)
    return float(value) if isinstance(value, int | float) else 0.0


def _open_findings(ctx: Context, t: Trace) -> list[Imaging]:
    """Studies recent enough to be an open suspicion: older findings have been acted on."""
    days = t.num("metastasis.suspicion.imaging.alert_window_days")
    return [s for s in sorted_imaging(ctx) if (ctx.as_of - s.date).days <= days]


def _treated_since(ctx: Context, study: Imaging) -> str | None:
    """A treatment after the study, said aloud: it may have answered the finding."""
    later = sorted((x for x in ctx.treatments() if x.date > study.date), key=lambda x: (x.date, x.type))
    if not later:
        return None
    return f"A {later[-1].type.replace('_', ' ')} on {later[-1].date.isoformat()} followed this study."


MODALITY_NAMES = {
    "ultrasound": "ultrasound",
    "ct": "CT",
    "mri": "MRI",
    "chest_xray": "chest X-ray",
    "bone_scan": "bone scan",
    "pet_ct": "PET-CT",
    "xray": "X-ray",
}


def _study_text(s: Imaging) -> str:
    result = s.result.replace("_", " ")
    return f"{MODALITY_NAMES[s.modality]} of the {s.region} on {s.date.isoformat()} ({result})"


# --- AFP -------------------------------------------------------------------------------------


def _level(t: Trace, afp: Finding) -> str:
    """The phrase "is at or above N ng/mL", N the lowest AFP threshold reached (from afp.kinetics)."""
    if afp.get("above_threshold") is not True:
        return ""
    exceeded = afp.get("thresholds_exceeded")
    if isinstance(exceeded, list) and exceeded:
        # afp.kinetics lists the reached thresholds lowest first, and compares with >=.
        return f" is at or above {t.num(f'afp.threshold_ng_ml.{exceeded[0]}'):g} ng/mL"
    return " is at or above the recall threshold"


def _afp_statement(t: Trace, afp: Finding) -> str:
    latest = afp.get("latest")
    trend = afp.get("trend")
    where = ""
    if isinstance(latest, dict) and isinstance(latest.get("value"), int | float):
        where = f" {latest['value']:g} ng/mL on {latest.get('date')}"
    level = _level(t, afp)
    if trend in ("rising", "stable", "falling"):
        return f"AFP{where}{level}; its trend is {trend}." if level else f"AFP{where} is {trend}."
    return f"AFP{where}{level}; its trend is not known (the AFP kinetics finding says why)."


def _afp_facts(afp: Finding) -> tuple[InputUsed, ...]:
    return (
        InputUsed(name="afp.latest", value=afp.get("latest"), unit="ng/mL"),
        InputUsed(name="afp.trend", value=afp.get("trend")),
        InputUsed(name="afp.above_threshold", value=afp.get("above_threshold")),
    )


def _afp_plan(
    t: Trace,
    recent: list[Imaging],
    evidence: Mapping[str, JsonValue],
    window_days: float,
    abnormal: Iterable[str],
) -> tuple[list[str], list[str]]:
    """(reasons, tests) for an unexplained AFP rise, from what recent imaging has already shown.

    Only the latest study of a region can explain the AFP (it is what the imaging alert reports):
    an abnormal study since superseded by a normal one explains nothing.
    """
    if any(s.result in abnormal for s in _latest_by_region(t, recent)):
        return [str(evidence["explained"])], []
    liver_done = _negative_for(recent, "liver_multiphase_ct_or_mri")
    chest_done = _negative_for(recent, "chest_ct")
    if liver_done and chest_done and _negative_for(recent, "fdg_pet_ct"):
        return [str(evidence["pet_negative"])], ["liver_multiphase_ct_or_mri"]
    if liver_done and chest_done:
        return [str(evidence["pet_next"])], ["fdg_pet_ct"]
    negatives = [s for s in recent if s.result in NEGATIVE_RESULTS]
    seen = (
        "Recent imaging: " + "; ".join(_study_text(s) for s in negatives) + "."
        if negatives
        else f"No imaging in the last {window_days:g} days."
    )
    tests = [
        test
        for test, done in (("liver_multiphase_ct_or_mri", liver_done), ("chest_ct", chest_done))
        if not done
    ]
    return [seen, str(evidence["ultrasound"]), str(evidence["next"])], tests


# The afp.kinetics knowledge behind each reason for an AFP alert.
RISE_KNOWLEDGE: dict[str, tuple[str, ...]] = {
    "slope": ("afp.rising_slope_ng_ml_per_month",),
    "nadir_multiple": ("afp.rise.nadir_multiple", "afp.upper_limit_normal_ng_ml"),
    "doubling_time": ("afp.rise.doubling_time_months", "afp.upper_limit_normal_ng_ml"),
    "uln_crossed": ("afp.upper_limit_normal_ng_ml",),
}
NORMALISATION_KNOWLEDGE = (
    "afp.curative_treatment_types",
    "afp.normalisation.normal_below_ng_ml",
    "afp.normalisation.assess_after_days",
    "afp.half_life_days",
)


def _relied_on(afp: Finding, alert_id: str) -> list[str]:
    criteria = afp.get("rise_criteria")
    fired = [c for c in criteria if isinstance(c, str)] if isinstance(criteria, list) else []
    keys = [key for c in fired if alert_id == "afp_rise" for key in RISE_KNOWLEDGE.get(c, ())]
    if afp.get("normalisation") == "not_normalised":
        keys += NORMALISATION_KNOWLEDGE
    return list(dict.fromkeys(keys))


def _normalisation_reason(afp: Finding) -> str | None:
    if afp.get("normalisation") != "not_normalised":
        return None
    by = afp.get("normalisation_expected_by")
    return "AFP has not returned to normal since the last curative treatment" + (
        f" (it should have by {by})." if isinstance(by, str) else "."
    )


def _afp_suspicion(ctx: Context, t: Trace, afp: Finding, alert_id: str, urgency_key: str) -> Suspicion:
    """One AFP suspicion: its statement, evidence and the imaging plan (what recent imaging left)."""
    at = ctx.trace(f"alert.{alert_id}")
    # The alert stands on the AFP thresholds that made it: their sources and doubts travel with it.
    for key in _relied_on(afp, alert_id):
        at.value(key)
    urgency = as_urgency(at.value(urgency_key))
    window = at.num("metastasis.suspicion.afp_rise.imaging_window_days")
    evidence = at.table("metastasis.suspicion.afp_rise.evidence")
    abnormal = at.table("metastasis.suspicion.imaging.results")
    recent = [s for s in sorted_imaging(ctx) if (ctx.as_of - s.date).days <= window]
    plan, tests = _afp_plan(t, recent, evidence, window, abnormal)
    statement = _afp_statement(at, afp)
    normalisation = _normalisation_reason(afp)
    if alert_id == "afp_not_normalised":
        meaning = at.table("afp.normalisation.evidence")
        head = [str(normalisation), statement, str(meaning["meaning"]), str(meaning["other_causes"])]
    else:
        head = [statement, str(evidence["marker"]), *([normalisation] if normalisation else [])]
    because = f"{ALERT_TITLES[alert_id]}: {statement}"
    facts = _afp_facts(afp)
    if normalisation:
        facts += (
            InputUsed(name="afp.normalisation", value=afp.get("normalisation")),
            InputUsed(name="afp.normalisation_expected_by", value=afp.get("normalisation_expected_by")),
        )
    return Suspicion(
        id=alert_id,
        kind="marker",
        urgency=urgency,
        sites=(),
        reasons=tuple([*head, *plan]),
        citations=at.citations,
        unverified=at.unverified,
        policy=at.policy,
        facts=facts,
        tests=requests_for_tests(at, tests, urgency, because, alert_id),
        actions=(str(evidence["next"]),),
    )


def afp_suspicions(ctx: Context, t: Trace, afp: Finding) -> list[Suspicion]:
    """ "afp_rise" if AFP is rising or raised and not falling; else "afp_not_normalised" if a raised
    AFP has not returned to normal well after a curative treatment (even while falling)."""
    trend, above, normalisation = afp.get("trend"), afp.get("above_threshold"), afp.get("normalisation")
    # An unknown trend or level cannot exclude a rise: name it even when the other one answers.
    if trend is None:
        t.need("afp.trend")
    if above is None:
        t.need("afp.above_threshold")
    rising = trend == "rising"
    raised = above is True and trend != "falling"
    if rising or raised:
        # One alert: the rise says more than non-normalisation, which joins it as a reason.
        return [_afp_suspicion(ctx, t, afp, "afp_rise", "metastasis.suspicion.afp_rise.urgency")]
    if normalisation == "not_normalised":
        return [_afp_suspicion(ctx, t, afp, "afp_not_normalised", "afp.normalisation.urgency")]
    if normalisation is None and afp.get("latest") is not None:
        t.need("afp.normalisation")
    if above is True and trend == "falling":
        t.note(
            "AFP is at or above the recall threshold but falling, as expected after treatment; not alerted."
        )
    return []


# --- Imaging ---------------------------------------------------------------------------------


def _lesion_text(study: Imaging) -> str:
    parts = []
    for lesion in study.lesions:
        size = f" {lesion.size_cm:g} cm" if lesion.size_cm is not None else ""
        count = f" x{lesion.count}" if lesion.count > 1 else ""
        new = " (new)" if lesion.new else ""
        parts.append(f"{lesion.site.replace('_', ' ')}{size}{count}{new}")
    return "; ".join(parts)


def _sites(t: Trace, study: Imaging) -> tuple[str, ...]:
    if study.lesions:
        return tuple(dict.fromkeys(lesion.site for lesion in study.lesions))
    by_region = t.table("metastasis.region_sites").get(study.region)
    return tuple(s for s in by_region if isinstance(s, str)) if isinstance(by_region, list) else ()


def _site_tests(t: Trace, sites: Iterable[str]) -> list[str]:
    table = t.table("metastasis.workup.site_tests")
    tests: list[str] = []
    for site in sites:
        listed = table.get(site)
        tests += [x for x in listed if isinstance(x, str)] if isinstance(listed, list) else []
    return tests


def _imaging_suspicion(ctx: Context, study: Imaging, alert_id: str, afp: Finding) -> Suspicion:
    at = ctx.trace(f"alert.{alert_id}")
    sites = _sites(at, study)
    levels = at.table("metastasis.suspicion.imaging.urgency")
    default = levels["default"]
    urgency = most_urgent(*(as_urgency(levels.get(site, default)) for site in sites or ("default",)))
    tests = _site_tests(at, sites)
    if alert_id == "imaging_new_lesion":
        tests = [x for x in tests if not _does(study, x)]
        tests += [str(x) for x in at.items("metastasis.workup.restaging_tests") if not _does(study, str(x))]
    if afp.get("latest") is not None:
        tests = [x for x in tests if x != "afp"]
    lesions = _lesion_text(study)
    reason = f"Latest {_study_text(study)}" + (f": {lesions}." if lesions else ".")
    fact = InputUsed(
        name=f"imaging.{study.region}",
        value={"modality": study.modality, "result": study.result, "lesions": lesions or None},
        date=study.date,
    )
    requests: tuple[WorkupRequest, ...] = requests_for_tests(
        at, tests, urgency, f"{ALERT_TITLES[alert_id]} ({_study_text(study)})", alert_id
    )
    return Suspicion(
        id=alert_id,
        kind="imaging",
        urgency=urgency,
        sites=sites,
        reasons=tuple(r for r in (reason, _treated_since(ctx, study)) if r),
        citations=at.citations,
        unverified=at.unverified,
        policy=at.policy,
        facts=(fact,),
        tests=requests,
    )


def _subcentimetre_follow_up(ctx: Context, study: Imaging) -> Suspicion | None:
    """A "new lesion" of liver lesions all under 1 cm: a prompt to re-image, not a recurrence."""
    alert_id = "imaging_indeterminate"
    # As lesions.py reads a study: lesions marked new if any, else those not marked old.
    new = [x for x in study.lesions if x.new is True] or [x for x in study.lesions if x.new is not False]
    at = ctx.trace(f"alert.{alert_id}")
    if study.result != "new_lesion" or any(x.site != "liver" for x in new) or not subcentimetre(at, new):
        return None
    minimum = at.num("recurrence.confirmed_lesion_min_cm")
    months = at.items("recurrence.subcentimetre_repeat_months")
    interval = "-".join(f"{m:g}" for m in months if isinstance(m, int | float))
    urgency = as_urgency(at.value("recurrence.subcentimetre_urgency"))
    reasons = (
        f"Latest {_study_text(study)}: {_lesion_text(study)}.",
        f"New liver lesion(s) under {minimum:g} cm cannot be diagnosed yet: not a confirmed recurrence. "
        f"Repeat multiphase liver CT or MRI in {interval} months (AASLD: nodules under 1 cm are "
        "followed with repeat imaging), sooner if AFP rises.",
    )
    because = (
        f"{ALERT_TITLES[alert_id]} ({_study_text(study)}): liver lesion(s) under {minimum:g} cm, "
        f"repeat in {interval} months"
    )
    fact = InputUsed(
        name=f"imaging.{study.region}",
        value={"modality": study.modality, "result": study.result, "lesions": _lesion_text(study)},
        date=study.date,
    )
    return Suspicion(
        id=alert_id,
        kind="imaging",
        urgency=urgency,
        sites=("liver",),
        reasons=tuple(r for r in (*reasons, _treated_since(ctx, study)) if r),
        citations=at.citations,
        unverified=at.unverified,
        policy=at.policy,
        facts=(fact,),
        tests=requests_for_tests(at, ["liver_multiphase_ct_or_mri"], urgency, because, alert_id),
    )


def imaging_suspicions(ctx: Context, t: Trace, afp: Finding) -> list[Suspicion]:
    """One suspicion per standing recent study that is new, progressing or indeterminate."""
    results = t.table("metastasis.suspicion.imaging.results")
    out = []
    for study in _latest_by_region(t, _open_findings(ctx, t)):
        alert_id = results.get(study.result)
        if isinstance(alert_id, str):
            follow_up = _subcentimetre_follow_up(ctx, study)
            out.append(follow_up or _imaging_suspicion(ctx, study, alert_id, afp))
    return out
