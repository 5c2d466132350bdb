"""Options to discuss at a tumour board when HCC has spread outside the liver (never orders).

When extrahepatic disease is known or strongly suspected (``extrahepatic_metastasis`` or
``lymph_node_metastasis`` is true, a metastatic site is recorded, or imaging shows a new
extrahepatic lesion), then list, each with its status, reasons, cautions and gaps:

- **metastasectomy** (WANG-2018; clinical reference §7.4, [K]/derived so unverified): a
  candidate only if every criterion holds. Unmet criterion -> not_candidate; else unknown ->
  cannot_determine.

  ==========================  ==============================================================
  criterion                   holds when
  ==========================  ==============================================================
  limited                     one organ, <= 3 lesions, all recorded resectable
  liver disease controlled    no viable tumour (one assessed before the last curative treatment
                              was treated by it); no confirmed new liver lesion since that
                              treatment, and the latest day of liver imaging after it shows
                              the liver clear: read from the lesions' sites, so an abdominal CT
                              showing only an adrenal lesion, or a normal liver MRI the same
                              day, clears it; an indeterminate or sub-centimetre liver finding
                              leaves it unknown (follow-up imaging first)
  liver function              Child-Pugh A (``scores["child_pugh"]["class"]``)
  performance status          ECOG 0-1
  disease-free interval       >= 12 months from the last curative treatment to the first
                              extrahepatic metastasis (unknown if any recorded site is undated)
  ==========================  ==============================================================

- **systemic therapy**, one option per regimen: the first-line list, or the second-line list
  once a systemic therapy is recorded. Eligibility is the population each trial enrolled
  (Child-Pugh A, ECOG 0-1; FINN-2020, ABOU-ALFA-2022, YAU-2025, QIN-2023-CARES310, KUDO-2018,
  LLOVET-2008, QIN-2023-RATIONALE301, BRUIX-2017, ABOU-ALFA-2018, ZHU-2019-REACH2). Checkpoint
  inhibitors after liver transplant are *contraindicated* (AASLD-2023, unverified). Ramucirumab
  needs AFP >= 400 ng/mL. Bevacizumab carries a caution unless varices were assessed within 6
  months and are absent or treated (FINN-2020, unverified). A regimen already given is
  not_candidate.
- **radiotherapy for painful bone metastases** (JUNG-2017) when bone is involved: candidate
  with bone or back pain; with neurological symptoms a caution sends to the spinal cord
  compression pathway first (NICE-CG75).
- **liver transplant**: not a candidate, extrahepatic spread excludes it (MAZZAFERRO-1996).

Imaging counts as spread when it shows a new extrahepatic lesion on a study that is not
indeterminate (an indeterminate finding is a prompt for more imaging, not disease to treat).
Every look-up is independent of the order of the record's lists.

When no extrahepatic disease is known or strongly suspected the answer is an empty tuple: the
options here are for extrahepatic disease only (intrahepatic options belong to staging). The
transplant criteria, staging and metastasis findings are accepted for the engine's contract;
the spread itself already decides transplant and BCLC C, so they are not re-read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace, TreatmentOption
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.recurrence.classification import add_months, curative_treatments, months_between
from hccwatch.core.rules.recurrence.lesions import first_confirmed, liver_findings, sorted_imaging
from hccwatch.errors import KnowledgeError
from hccwatch.record.model import Imaging, MetastaticSite

__all__ = ["treatment_options"]

CONTROLLED_RESULTS = ("normal", "stable")
Status = Literal["candidate", "not_candidate", "cannot_determine", "contraindicated"]


def _status(value: JsonValue) -> Status:
    for status in get_args(Status):
        if value == status:
            return status  # type: ignore[no-any-return]
    raise KnowledgeError(f"{value!r} is not an option status")


@dataclass(frozen=True)
class _Spread:
    """What says the disease is outside the liver, and since when."""

    evidence: tuple[str, ...]
    sites: tuple[MetastaticSite, ...]
    organs: tuple[str, ...]
    first_seen: date | None
    # A recorded site without a date may predate ``first_seen``: the first metastasis is then undated.
    undated: bool
    # Lesions per organ on the study showing most of them (organs known only from imaging).
    imaging_counts: dict[str, int]


def _imaging_counts(studies: list[Imaging]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for study in studies:
        per_organ: dict[str, int] = {}
        for lesion in study.lesions:
            if lesion.site != "liver" and lesion.new is True:
                per_organ[lesion.site] = per_organ.get(lesion.site, 0) + lesion.count
        for organ, n in per_organ.items():
            counts[organ] = max(counts.get(organ, 0), n)
    return counts


def _spread(ctx: Context) -> _Spread | None:
    record = ctx.record
    sites = tuple(
        sorted(
            (s for s in record.metastatic_sites if s.date is None or s.date <= ctx.as_of),
            key=lambda s: (s.site, s.date or date.min, s.count or 0, repr(s.resectable)),
        )
    )
    # An indeterminate study is a prompt for more imaging, not disease to treat.
    shown = [study for study in sorted_imaging(ctx) if study.result != "indeterminate"]
    on_imaging = [
        (study.date, lesion.site)
        for study in shown
        for lesion in study.lesions
        if lesion.site != "liver" and lesion.new is True
    ]
    evidence = [
        text
        for text, present in (
            ("extrahepatic metastasis recorded", record.extrahepatic_metastasis is True),
            ("lymph-node metastasis recorded", record.lymph_node_metastasis is True),
        )
        if present
    ]
    evidence += [f"metastatic site: {s.site}" + (f" ({s.count} lesion(s))" if s.count else "") for s in sites]
    evidence += [f"new {site} lesion on imaging {when.isoformat()}" for when, site in on_imaging]
    if not evidence:
        return None
    dates = [s.date for s in sites if s.date is not None] + [when for when, _ in on_imaging]
    nodes = {"lymph_node"} if record.lymph_node_metastasis else set()
    organs = sorted({s.site for s in sites} | {site for _, site in on_imaging} | nodes)
    first_seen = min(dates) if dates else None
    undated = any(s.date is None for s in sites)
    return _Spread(tuple(evidence), sites, tuple(organs), first_seen, undated, _imaging_counts(shown))


@dataclass
class _Checks:
    """Criteria of one option: met, unmet, and unknown (which are recorded as gaps)."""

    t: Trace
    met: list[str] = field(default_factory=list)
    unmet: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def add(self, ok: bool | None, text: str, need: str | None = None) -> None:
        if ok is None:
            self.unknown.append(text)
            if need:
                self.t.need(need)
        else:
            (self.met if ok else self.unmet).append(text)

    def option(self, option_id: str, title: str, cautions: list[str] | None = None) -> TreatmentOption:
        status: Status = (
            "not_candidate" if self.unmet else "cannot_determine" if self.unknown else "candidate"
        )
        reasons = (
            [f"not met: {x}" for x in self.unmet]
            + [f"unknown: {x}" for x in self.unknown]
            + [f"met: {x}" for x in self.met]
        )
        return _option(self.t, option_id, title, status, reasons, cautions or [])


def _option(
    t: Trace, option_id: str, title: str, status: Status, reasons: list[str], cautions: list[str]
) -> TreatmentOption:
    return TreatmentOption(
        id=option_id,
        title=title,
        status=status,
        reasons=tuple(reasons),
        citations=t.citations,
        cautions=tuple(cautions),
        missing=t.missing,
        unverified=t.unverified,
        policy=t.policy,
    )


def _child_pugh_class(t: Trace, scores: Mapping[str, Finding]) -> str | None:
    finding = scores.get("child_pugh")
    value = finding.get("class") if finding is not None else None
    cls = value if isinstance(value, str) else None
    t.used("scores.child_pugh.class", cls)
    return cls


def _function_checks(
    checks: _Checks, ctx: Context, cp: str | None, allowed: list[JsonValue], ecog_max: float
) -> None:
    """Child-Pugh class and ECOG against a population (shared by surgery and systemic therapy)."""
    ecog = ctx.record.ecog
    checks.t.used("ecog", ecog)
    wanted = "/".join(str(a) for a in allowed)
    checks.add(
        None if cp is None else cp in allowed,
        f"Child-Pugh {cp or 'unknown'} (needs {wanted})",
        "scores.child_pugh.class",
    )
    shown = "unknown" if ecog is None else str(ecog)
    checks.add(None if ecog is None else ecog <= ecog_max, f"ECOG {shown} (needs 0-{ecog_max:g})", "ecog")


# --- metastasectomy -------------------------------------------------------------------------


def _limited(checks: _Checks, spread: _Spread) -> None:
    t = checks.t
    max_organs, max_lesions = (
        t.num("options.metastasectomy.max_organs"),
        t.num("options.metastasectomy.max_lesions"),
    )
    if not spread.organs:
        checks.add(None, "which organs the metastases involve", "metastatic_sites")
        return
    checks.add(
        len(spread.organs) <= max_organs,
        f"metastases in {len(spread.organs)} organ(s): {', '.join(spread.organs)} (limit {max_organs:g})",
    )
    # An organ known only from imaging has the count imaging shows but no recorded resectability;
    # one known only from a flag has neither.
    recorded = {s.site for s in spread.sites}
    counts = [s.count for s in spread.sites] + [
        spread.imaging_counts.get(organ) for organ in spread.organs if organ not in recorded
    ]
    total = None if None in counts else sum(c for c in counts if c is not None)
    checks.add(
        None if total is None else total <= max_lesions,
        f"{'unknown number of' if total is None else total} lesion(s) (limit {max_lesions:g})",
        "metastatic_sites[].count",
    )
    resectable = [s.resectable for s in spread.sites] + [None for o in spread.organs if o not in recorded]
    verdict = False if False in resectable else None if None in resectable else True
    checks.add(verdict, "all metastases completely resectable", "metastatic_sites[].resectable")


def _liver_clear(study: Imaging, regions: list[JsonValue]) -> bool:
    """The study shows the liver without a new lesion: normal or stable, or abnormal only at
    extrahepatic sites (its lesions say where, not its overall result)."""
    if study.region not in regions or study.result == "indeterminate":
        return False
    if study.result in CONTROLLED_RESULTS:
        return True
    liver = [lesion for lesion in study.lesions if lesion.site == "liver" and lesion.new is not False]
    return bool(study.lesions) and not liver


def _clear_text(study: Imaging) -> str:
    text = f"{study.modality} {study.region} {study.result.replace('_', ' ')}"
    if study.result in CONTROLLED_RESULTS:
        return text
    sites = ", ".join(dict.fromkeys(lesion.site.replace("_", " ") for lesion in study.lesions))
    return f"{text} outside the liver only ({sites})"


def _liver_control(checks: _Checks, ctx: Context) -> None:
    t = checks.t
    treatments = curative_treatments(ctx, t)
    assessed = ctx.record.tumors_assessed_on
    # Tumours assessed before the last curative treatment describe the disease it treated.
    treated_since = bool(treatments) and assessed is not None and treatments[-1].date >= assessed
    if not treated_since and any(tumor.viable is True for tumor in ctx.record.tumors or ()):
        checks.add(False, "intrahepatic disease controlled (a viable liver tumour is recorded)")
        return
    if not treatments:
        checks.add(
            None,
            "intrahepatic disease controlled (no curative liver treatment recorded)",
            "control of the intrahepatic tumour",
        )
        return
    last = treatments[-1]
    findings = liver_findings(ctx, t, after=last.date)
    lesion = first_confirmed(findings)
    if lesion is not None:
        checks.add(
            None,
            f"intrahepatic recurrence on {lesion.study.date.isoformat()}: is it controllable?",
            "controllability of the intrahepatic recurrence",
        )
        return
    regions = t.items("recurrence.new_lesion_regions")
    scans = [s for s in sorted_imaging(ctx) if s.date > last.date and s.region in regions]
    day = [s for s in scans if s.date == scans[-1].date] if scans else []
    pending = [f for f in findings if day and f.study.date == day[0].date]
    clear = [s for s in day if _liver_clear(s, regions)]
    if pending or not clear:
        what = (
            f"an unconfirmed liver finding on {day[0].date.isoformat()} awaits follow-up imaging"
            if pending
            else f"no liver imaging after {last.type} on {last.date.isoformat()} shows the liver clear"
        )
        checks.add(
            None,
            f"intrahepatic disease controlled ({what})",
            "liver imaging after the last curative treatment",
        )
        return
    shown = "; ".join(_clear_text(s) for s in clear)
    t.used("liver_imaging", shown, None, clear[0].date)
    checks.add(
        True,
        f"intrahepatic disease controlled (liver clear on {clear[0].date.isoformat()}: {shown}; "
        f"after {last.type} on {last.date.isoformat()})",
    )


def _disease_free_interval(checks: _Checks, ctx: Context, spread: _Spread) -> None:
    t = checks.t
    minimum = t.num("options.metastasectomy.dfi_min_months")
    if spread.first_seen is None or spread.undated:
        checks.add(
            None,
            f"disease-free interval >= {minimum:g} months (date of the first metastasis unknown)",
            "metastatic_sites[].date",
        )
        return
    before = [tx for tx in curative_treatments(ctx, t) if tx.date < spread.first_seen]
    if not before:
        checks.add(
            None,
            f"disease-free interval >= {minimum:g} months (no curative treatment before "
            f"the metastasis of {spread.first_seen.isoformat()})",
            "curative treatment date",
        )
        return
    months = months_between(before[-1].date, spread.first_seen)
    t.used("disease_free_interval", months, "months", spread.first_seen)
    checks.add(
        months >= minimum,
        f"disease-free interval {months} months ({before[-1].type} "
        f"{before[-1].date.isoformat()} to metastasis {spread.first_seen.isoformat()}; needs >= {minimum:g})",
    )


def _metastasectomy(ctx: Context, spread: _Spread, scores: Mapping[str, Finding]) -> TreatmentOption:
    t = ctx.trace("options.metastasectomy")
    checks = _Checks(t)
    _limited(checks, spread)
    _liver_control(checks, ctx)
    _function_checks(
        checks,
        ctx,
        _child_pugh_class(t, scores),
        t.items("options.metastasectomy.child_pugh_classes"),
        t.num("options.metastasectomy.ecog_max"),
    )
    _disease_free_interval(checks, ctx, spread)
    return checks.option("metastasectomy", "Resection of limited (oligo-)metastatic disease")


# --- systemic therapy -----------------------------------------------------------------------


def _agent_id(agent: str) -> str:
    return "_".join(agent.lower().replace("+", " ").replace("-", " ").replace("/", " ").split())


def _varices_caution(ctx: Context, t: Trace) -> list[str]:
    liver, as_of = ctx.record.liver, ctx.as_of
    assessed = liver.varices_assessed_on
    if liver.varices is None or assessed is None or assessed > as_of:
        t.need("liver.varices", "liver.varices_assessed_on")
        return [
            "Varices not assessed: upper endoscopy (and treatment of varices) before bevacizumab, "
            "which raises the bleeding risk."
        ]
    max_age = int(t.num("options.bevacizumab.varices_assessment_max_age_months"))
    t.used("liver.varices", liver.varices, None, assessed)
    cautions = []
    if add_months(assessed, max_age) < as_of:
        cautions.append(
            f"Last endoscopy {assessed.isoformat()} is older than {max_age} months: repeat "
            "before bevacizumab."
        )
    if liver.varices in ("small", "large"):
        cautions.append(
            f"Untreated {liver.varices} varices on {assessed.isoformat()}: treat before bevacizumab."
        )
    return cautions


def _afp_check(checks: _Checks, ctx: Context, minimum: float) -> None:
    lab = ctx.latest_lab(checks.t, "afp")
    if lab is None:
        checks.add(None, f"AFP >= {minimum:g} ng/mL")
    else:
        value = lab.canonical.value
        checks.add(value >= minimum, f"AFP {value:g} ng/mL on {lab.date.isoformat()} (needs >= {minimum:g})")


def _regimen(ctx: Context, rid: str, line_key: str, scores: Mapping[str, Finding]) -> TreatmentOption:
    t = ctx.trace(f"options.systemic.{rid}")
    t.items(line_key)
    spec = t.table(f"options.regimen.{rid}")
    title, trial = str(spec["title"]), str(spec["trial"])
    option_id = f"systemic.{rid}"
    transplants = ctx.treatments("transplant")
    if spec.get("checkpoint_inhibitor") and transplants:
        status = _status(t.value("options.checkpoint_inhibitor_after_transplant"))
        reason = (
            f"immune checkpoint inhibitor after liver transplant ({transplants[-1].date.isoformat()}): "
            "risk of graft rejection; sorafenib or lenvatinib are used instead"
        )
        return _option(t, option_id, title, status, [reason], [])
    prior = ctx.treatments("systemic")
    given = {_agent_id(tx.agent): tx for tx in prior if tx.agent}
    checks = _Checks(t)
    if rid in given:
        checks.add(False, f"already given (started {given[rid].date.isoformat()})")
    allowed = spec.get("child_pugh")
    ecog_max = spec.get("ecog_max")
    if not isinstance(allowed, list) or not isinstance(ecog_max, int | float):
        raise KnowledgeError(f"options.regimen.{rid} needs child_pugh (list) and ecog_max (number)")
    _function_checks(checks, ctx, _child_pugh_class(t, scores), allowed, ecog_max)
    afp_min = spec.get("afp_min_ng_ml")
    if isinstance(afp_min, int | float):
        _afp_check(checks, ctx, afp_min)
    cautions = _varices_caution(ctx, t) if spec.get("varices_check") else []
    if prior:
        cautions.append(_second_line_caution(trial, spec.get("after"), list(given)))
    return checks.option(option_id, f"{title} ({trial})", cautions)


def _second_line_caution(trial: str, after: JsonValue, given: list[str]) -> str:
    before = ", ".join(given) or "agent not recorded"
    if after is None:
        return (
            f"{trial} was a first-line trial; use after prior systemic therapy ({before}) is expert opinion."
        )
    if after in given:
        return f"{trial} enrolled patients after {after}, as here."
    return (
        f"{trial} enrolled patients after {after}; this patient received {before}, "
        "a sequence without phase 3 evidence."
    )


def _systemic(ctx: Context, scores: Mapping[str, Finding]) -> list[TreatmentOption]:
    line_key = "options.regimens.second_line" if ctx.treatments("systemic") else "options.regimens.first_line"
    lister = ctx.trace("options.systemic")
    return [_regimen(ctx, str(rid), line_key, scores) for rid in lister.items(line_key)]


# --- radiotherapy and transplant ------------------------------------------------------------


def _bone_radiotherapy(ctx: Context, spread: _Spread) -> TreatmentOption | None:
    if "bone" not in spread.organs:
        return None
    t = ctx.trace("options.bone_radiotherapy")
    active = {s.code for s in ctx.active_symptoms()}
    pain = sorted(active & {str(x) for x in t.items("options.bone_radiotherapy.pain_symptoms")})
    neuro = sorted(active & {str(x) for x in t.items("options.bone_radiotherapy.neurological_symptoms")})
    t.used("symptoms", [str(code) for code in sorted(active)])
    cautions = []
    if neuro:
        cautions.append(
            f"Neurological symptoms ({', '.join(neuro)}): treat as suspected spinal cord "
            "compression first (emergency pathway, whole-spine MRI)."
        )
    title = "Palliative radiotherapy for painful bone metastases"
    if pain:
        return _option(
            t, "bone_radiotherapy", title, "candidate", [f"bone metastasis with {', '.join(pain)}"], cautions
        )
    t.need("symptoms (bone or back pain)")
    return _option(
        t,
        "bone_radiotherapy",
        title,
        "cannot_determine",
        [
            "bone metastasis but no bone or back pain recorded: radiotherapy is for painful "
            "lesions; ask about pain"
        ],
        cautions,
    )


def _transplant(ctx: Context, spread: _Spread) -> TreatmentOption | None:
    t = ctx.trace("options.transplant")
    if t.value("options.transplant.extrahepatic_spread_excludes") is not True:
        return None
    return _option(
        t,
        "transplant",
        "Liver transplantation",
        "not_candidate",
        [f"extrahepatic spread ({'; '.join(spread.evidence)}) excludes liver transplantation"],
        [],
    )


def treatment_options(
    ctx: Context,
    *,
    scores: Mapping[str, Finding],
    staging: Mapping[str, Finding],
    transplant: Mapping[str, Finding],
    metastasis: Finding,
) -> tuple[TreatmentOption, ...]:
    """Options for extrahepatic disease to discuss at a tumour board; empty when none is known."""
    spread = _spread(ctx)
    if spread is None:
        return ()
    options = [
        _metastasectomy(ctx, spread, scores),
        *_systemic(ctx, scores),
        _bone_radiotherapy(ctx, spread),
        _transplant(ctx, spread),
    ]
    return tuple(o for o in options if o is not None)
