"""What a report shows, independent of how it is printed.

:func:`build` turns an :class:`~hccwatch.core.assessment.Assessment` into plain strings in
report order (alerts first, sources last). The text, Markdown and HTML renderers only lay
these out, so the three formats cannot drift apart in content.

The view reads the JSON form (``to_dict()``) of every finding, alert, workup item and
option, and renders their values generically: rules add and change value keys often, and a
report must never crash on a ``None`` or an unexpected shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from hccwatch.core.assessment import Assessment
from hccwatch.core.finding import RESERVED_KEYS, URGENCY_ORDER
from hccwatch.core.knowledge import JsonValue
from hccwatch.errors import KnowledgeError
from hccwatch.version import __version__

__all__ = ["Detail", "Entry", "ReportView", "Section", "Source", "Unverified", "build", "fmt_value"]

CANNOT = "cannot determine"
FACTS = "Used"
HEADLINE_MAX = 40  # a longer text value reads better on a line of its own than in the headline
GAP_UNDETERMINED = "Cannot determine"
GAP_DETERMINED = "Answer holds despite gaps"

# Display names of the finding keys the engine produces; any other key is shown as written.
TITLES: dict[str, str] = {
    "child_pugh": "Child-Pugh",
    "meld": "MELD",
    "meld_na": "MELD-Na",
    "meld_3": "MELD 3.0",
    "albi": "ALBI",
    "bclc": "BCLC",
    "cnlc": "CNLC",
    "ajcc": "AJCC (8th edition)",
    "milan": "Milan",
    "ucsf": "UCSF",
    "up_to_seven": "Up-to-seven",
    "metroticket_2": "Metroticket 2.0",
    "afp_model": "AFP model (French)",
    "hangzhou": "Hangzhou",
    "fudan": "Fudan",
    "kyoto": "Kyoto",
    "five_five_500": "5-5-500",
    "asan": "Asan",
    "unos_downstaging": "UNOS downstaging",
    "unos_afp_exception": "UNOS AFP exception",
}

OPTION_STATUS: dict[str, str] = {
    "candidate": "to discuss",
    "not_candidate": "not a candidate",
    "cannot_determine": CANNOT,
    "contraindicated": "contraindicated",
}

AS_OF_SOURCE: dict[str, str] = {
    "given": "date given",
    "record": "the record's as_of",
    "today": "today's date: no date was given, re-run with --as-of to reproduce",
}

Tone = Literal["emergency", "urgent", "soon", "routine", "cannot", "plain"]


@dataclass(frozen=True)
class Detail:
    """A labelled line (``label`` may be empty) or, when ``as_list``, a labelled list."""

    label: str
    items: tuple[str, ...]
    as_list: bool = False

    @property
    def text(self) -> str:
        return "; ".join(self.items)

    @property
    def is_gap(self) -> bool:
        return self.label in {GAP_UNDETERMINED, GAP_DETERMINED}


@dataclass(frozen=True)
class Entry:
    """One finding, alert, workup item, option or summary line."""

    title: str
    badge: str | None
    tone: Tone
    result: str | None
    details: tuple[Detail, ...]
    citations: tuple[str, ...]
    sourced: bool = True  # False for patient-summary lines, which carry no citations of their own


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    intro: str | None
    entries: tuple[Entry, ...]
    empty: str
    layout: Literal["list", "table"] = "list"
    lang: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Source:
    """A numbered bibliography item: ``text`` is ``Citation.short()``, ending with ``link``."""

    number: int
    id: str
    text: str
    link: str | None

    @property
    def reference(self) -> str:
        """The text without its trailing link, for formats that show the link as a link."""
        if self.link and self.text.endswith(self.link):
            return self.text[: -len(self.link)].rstrip(" .") + "."
        return self.text


@dataclass(frozen=True)
class Unverified:
    key: str
    text: str


@dataclass(frozen=True)
class ReportView:
    record_id: str
    patient: str
    as_of: str
    as_of_note: str
    knowledge_version: str
    hccwatch_version: str
    disclaimer: str
    lang: str
    sections: tuple[Section, ...]
    sources: tuple[Source, ...]
    unverified: tuple[Unverified, ...]

    def source(self, citation_id: str) -> Source:
        for s in self.sources:
            if s.id == citation_id:
                return s
        raise KeyError(citation_id)


# ---------------------------------------------------------------- values


def _num(v: float) -> str:
    if abs(v) >= 1e9:
        return f"{v:.4g}"
    if v == int(v):
        return str(int(v))
    text = f"{v:.2f}" if abs(v) >= 1 else f"{v:.3g}"
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text else text


def fmt_value(v: object) -> str:
    """A JSON value as a short phrase; never raises."""
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return "; ".join(f"{label(str(k))}: {fmt_value(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(fmt_value(x) for x in v) or "none"
    return str(v)


# Unit suffixes of value keys (knowledge-style names such as ``bilirubin_mg_dl``), shown as units.
_UNIT_SUFFIXES: dict[str, str] = {
    "_mg_dl": "mg/dL",
    "_g_dl": "g/dL",
    "_g_l": "g/L",
    "_umol_l": "µmol/L",
    "_mmol_l": "mmol/L",
    "_ng_ml_per_month": "ng/mL per month",
    "_ng_ml": "ng/mL",
    "_iu_ml": "IU/mL",
    "_mau_ml": "mAU/mL",
    "_cm": "cm",
    "_mm": "mm",
    "_days": "days",
    "_months": "months",
    "_years": "years",
}


def title(key: str) -> str:
    """A finding key as a title: known names as written, others capitalised."""
    text = label(key)
    return text if key in TITLES else text[:1].upper() + text[1:]


_ACRONYMS = {
    "afp": "AFP",
    "ct": "CT",
    "dcp": "DCP",
    "ecog": "ECOG",
    "hcc": "HCC",
    "inr": "INR",
    "ivc": "IVC",
    "mri": "MRI",
    "pet": "PET",
    "xray": "X-ray",
}


def _words(key: str) -> str:
    return " ".join(_ACRONYMS.get(w, w) for w in key.split("_"))


def label(key: str) -> str:
    """A value key as words: ``bilirubin_mg_dl`` -> ``bilirubin (mg/dL)``, ``chest_ct`` -> ``chest CT``."""
    if key in TITLES:
        return TITLES[key]
    for suffix, unit in _UNIT_SUFFIXES.items():
        if key.endswith(suffix) and len(key) > len(suffix):
            return f"{_words(key.removesuffix(suffix))} ({unit})"
    return _words(key)


def _strs(v: object) -> tuple[str, ...]:
    """A list-ish JSON value as strings (a lone scalar becomes one item)."""
    if v is None:
        return ()
    if isinstance(v, list | tuple):
        return tuple(fmt_value(x) for x in v if x is not None and x != "")
    return (fmt_value(v),)


def _dict(v: object) -> Mapping[str, JsonValue]:
    return v if isinstance(v, Mapping) else {}


def _fact(v: object) -> str:
    d = _dict(v)
    if not d:
        return fmt_value(v)
    unit = d.get("unit")
    unit_text = f" {unit}" if isinstance(unit, str) and unit not in {"", "1"} else ""
    when = f" ({d['date']})" if d.get("date") else ""
    return f"{fmt_value(d.get('name'))} {fmt_value(d.get('value'))}{unit_text}{when}"


_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")
_TONES: dict[str, Tone] = {"emergency": "emergency", "urgent": "urgent", "soon": "soon", "routine": "routine"}


def _urgency(v: object) -> tuple[str, Tone]:
    text = v if isinstance(v, str) else ""
    return (text.upper() or "UNRATED"), _TONES.get(text, "plain")


def _by_urgency(items: Iterable[Mapping[str, JsonValue]]) -> list[Mapping[str, JsonValue]]:
    return sorted(items, key=lambda d: URGENCY_ORDER.get(str(d.get("urgency")), len(URGENCY_ORDER)))


# ---------------------------------------------------------------- common details


def _missing(missing: tuple[str, ...], determined: bool) -> Detail | None:
    if not missing:
        return None
    head = GAP_DETERMINED if determined else GAP_UNDETERMINED
    return Detail(head, (f"missing {', '.join(missing)}",))


def _trail(d: Mapping[str, JsonValue]) -> list[Detail]:
    """Facts used, notes and unverified knowledge: shown for every kind of entry."""
    out: list[Detail] = []
    raw = d.get("inputs") or d.get("facts")
    facts = tuple(_fact(f) for f in raw if f is not None) if isinstance(raw, list) else ()
    if facts:
        out.append(Detail(FACTS, facts))
    for note in _strs(d.get("notes")):
        out.append(Detail("Note", (note,)))
    unverified = _strs(d.get("unverified"))
    if unverified:
        out.append(Detail("Unverified knowledge", unverified))
    return out


def _headline(simple: Mapping[str, JsonValue], determined: bool) -> tuple[str | None, list[Detail]]:
    """The known short values on one line; long text values become lines of their own."""
    parts = [] if determined else [CANNOT]
    long: list[Detail] = []
    for k, v in simple.items():
        if v is None:
            continue  # unknowns are named by the gap line, not listed one by one
        text = fmt_value(v)
        if len(text) > HEADLINE_MAX:
            long.append(Detail(label(k), (text,)))
        else:
            parts.append(text if k == "value" else f"{label(k)}: {text}")
    return ("; ".join(parts) or None), long


def _finding_entry(title: str, raw: object, *, verdict: str | None = None) -> Entry:
    """A finding; ``verdict`` names the value shown as the badge instead of in the headline."""
    d = _dict(raw)
    values = {k: v for k, v in d.items() if k not in RESERVED_KEYS and k != verdict}
    determined = d.get("determined") is True
    simple = {k: v for k, v in values.items() if not isinstance(v, list | dict)}
    result, long = _headline(simple, determined or verdict is not None)
    details: list[Detail] = []
    explanation = d.get("explanation")
    if explanation:
        details.append(Detail("", (fmt_value(explanation),)))
    details += long
    for k, v in values.items():
        if isinstance(v, list | dict):
            items = _strs(v) if isinstance(v, list) else _strs([v])
            details.append(Detail(label(k), items or ("none",), as_list=len(items) > 1))
    gap = _missing(_strs(d.get("missing")), determined)
    if gap:
        details.append(gap)
    details.extend(_trail(d))
    tone: Tone = "plain" if determined else "cannot"
    return Entry(title, None, tone, result, tuple(details), _strs(d.get("citations")))


def _verdict(key: str | None, value: object) -> str:
    if value is None:
        return CANNOT
    if key == "within" and isinstance(value, bool):
        return "within" if value else "beyond"
    if key == "eligible" and isinstance(value, bool):
        return "eligible" if value else "not eligible"
    return f"{label(key or '')}: {fmt_value(value)}"


def _criteria_section(group: object) -> Section:
    """Transplant criteria as a table: the verdict, then why. The facts, shared by nearly every
    criterion, are listed once under the table instead of in every row."""
    entries: list[Entry] = []
    facts: dict[str, None] = {}
    for key, raw in _dict(group).items():
        values = {k: v for k, v in _dict(raw).items() if k not in RESERVED_KEYS}
        verdict_key = "within" if "within" in values else next(iter(values), None)
        e = _finding_entry(title(key), raw, verdict=verdict_key)
        for d in e.details:
            if d.label == FACTS:
                facts.update(dict.fromkeys(d.items))
        tone: Tone = "cannot" if values.get(verdict_key or "") is None else "plain"
        details = tuple(d for d in e.details if d.label != FACTS)
        badge = _verdict(verdict_key, values.get(verdict_key or ""))
        entries.append(Entry(e.title, badge, tone, e.result, details, e.citations))
    note = f"{FACTS}: {'; '.join(facts)}" if facts else None
    return Section(
        "transplant",
        "Transplant criteria",
        None,
        tuple(entries),
        "No criterion evaluated.",
        "table",
        note=note,
    )


# ---------------------------------------------------------------- sections


def _alert_entry(d: Mapping[str, JsonValue]) -> Entry:
    badge, tone = _urgency(d.get("urgency"))
    details = [Detail("", _strs(d.get("detail")))] if d.get("detail") else []
    actions = _strs(d.get("actions"))
    if actions:
        details.append(Detail("Actions", actions, as_list=True))
    details.extend(_trail(d))
    return Entry(fmt_value(d.get("title")), badge, tone, None, tuple(details), _strs(d.get("citations")))


def _code(v: object) -> str:
    """A code such as ``whole_spine_mri`` as words; any other value as written."""
    return label(v) if isinstance(v, str) and _CODE.fullmatch(v) else fmt_value(v)


def _workup_entry(d: Mapping[str, JsonValue]) -> Entry:
    badge, tone = _urgency(d.get("urgency"))
    details = [Detail("", _strs(d.get("reason")))] if d.get("reason") else []
    if d.get("suspicion"):
        details.append(Detail("Suspicion", (_code(d.get("suspicion")),)))
    if d.get("instead_of"):
        details.append(Detail("Instead of", (_code(d.get("instead_of")),)))
    details.extend(_trail(d))
    test = _code(d.get("test"))
    return Entry(test[:1].upper() + test[1:], badge, tone, None, tuple(details), _strs(d.get("citations")))


def _option_entry(d: Mapping[str, JsonValue]) -> Entry:
    status = str(d.get("status"))
    badge = OPTION_STATUS.get(status, status.replace("_", " "))
    tone: Tone = "cannot" if status == "cannot_determine" else "plain"
    details: list[Detail] = []
    reasons = _strs(d.get("reasons"))
    if reasons:
        details.append(Detail("Why", reasons, as_list=len(reasons) > 1))
    cautions = _strs(d.get("cautions"))
    if cautions:
        details.append(Detail("Cautions", cautions, as_list=len(cautions) > 1))
    gap = _missing(_strs(d.get("missing")), status != "cannot_determine")
    if gap:
        details.append(gap)
    details.extend(_trail(d))
    title = fmt_value(d.get("title") or d.get("id"))
    return Entry(title, badge, tone, None, tuple(details), _strs(d.get("citations")))


def _summary_section(summary: Mapping[str, JsonValue], report_disclaimer: str) -> Section:
    entries: list[Entry] = []
    items = summary.get("items")
    for raw in _by_urgency(_dict(i) for i in items) if isinstance(items, list) else []:
        badge, tone = _urgency(raw.get("urgency"))
        entries.append(Entry(fmt_value(raw.get("text")), badge, tone, None, (), (), sourced=False))
    disclaimer = summary.get("disclaimer")
    if disclaimer and disclaimer != report_disclaimer:
        entries.append(Entry(fmt_value(disclaimer), None, "plain", None, (), (), sourced=False))
    headline = summary.get("headline")
    lang = summary.get("lang")
    return Section(
        "patient_summary",
        "Patient summary",
        fmt_value(headline) if headline else None,
        tuple(entries),
        "No patient summary was produced.",
        lang=lang if isinstance(lang, str) else None,
    )


def _single(key: str, title: str, entry_title: str, a: Mapping[str, JsonValue]) -> Section:
    """A section holding the one finding ``a[key]``."""
    return Section(key, title, None, (_finding_entry(entry_title, a.get(key)),), "")


def _findings(group: object) -> tuple[Entry, ...]:
    return tuple(_finding_entry(title(k), v) for k, v in _dict(group).items())


def _sections(a: Mapping[str, JsonValue], disclaimer: str) -> tuple[Section, ...]:
    def listed(key: str) -> list[Mapping[str, JsonValue]]:
        value = a.get(key)
        return [_dict(x) for x in value] if isinstance(value, list) else []

    return (
        Section(
            "alerts",
            "Alerts",
            None,
            tuple(_alert_entry(d) for d in _by_urgency(listed("alerts"))),
            "No alert raised.",
        ),
        Section(
            "workup",
            "Workup",
            None,
            tuple(_workup_entry(d) for d in _by_urgency(listed("workup"))),
            "No test suggested.",
        ),
        _single("surveillance", "Surveillance", "Schedule", a),
        _single("afp", "AFP", "AFP kinetics", a),
        Section("scores", "Scores", None, _findings(a.get("scores")), "No score computed."),
        Section("staging", "Staging", None, _findings(a.get("staging")), "No stage computed."),
        _criteria_section(a.get("transplant")),
        _single("metastasis", "Metastasis", "Sites and risk", a),
        _single("recurrence", "Recurrence", "Recurrence", a),
        Section(
            "options",
            "Options",
            "Options to discuss with the care team (tumour board); none of them is an order.",
            tuple(_option_entry(d) for d in listed("treatment_options")),
            "No option listed.",
        ),
        _summary_section(_dict(a.get("patient_summary")), disclaimer),
    )


# ---------------------------------------------------------------- bibliography


def _sources(assessment: Assessment, sections: Sequence[Section]) -> tuple[Source, ...]:
    # Numbered in the order a reader meets them; anything cited but not shown still gets a number.
    order: dict[str, None] = {}
    for section in sections:
        for entry in section.entries:
            for cid in entry.citations:
                order.setdefault(cid, None)
    for cid in assessment.cited():
        order.setdefault(cid, None)
    out = []
    for n, cid in enumerate(order, start=1):
        try:
            c = assessment.knowledge.citation(cid)
        except KnowledgeError:
            out.append(Source(n, cid, "(not in the bibliography of this knowledge base)", None))
            continue
        out.append(Source(n, cid, c.short(), c.link))
    return tuple(out)


def _unverified(assessment: Assessment) -> tuple[Unverified, ...]:
    out = []
    for key in assessment.unverified():
        try:
            e = assessment.knowledge.entry(key)
        except KnowledgeError:
            out.append(Unverified(key, "(no such knowledge entry)"))
            continue
        # A table or list is shown by its key alone: the findings that used it show its effect.
        shown = (
            ""
            if isinstance(e.value, list | dict)
            else f"{fmt_value(e.value)}{f' {e.unit}' if e.unit else ''} "
        )
        note = f" {e.note}" if e.note else ""
        out.append(Unverified(key, f"{shown}({', '.join(e.citations)}, {e.locator}).{note}"))
    return tuple(out)


def _patient(p: Mapping[str, JsonValue]) -> str:
    age = p.get("age")
    sex = p.get("sex")
    who = f"{fmt_value(age)}-year-old" if isinstance(age, int) else "age unknown,"
    sex_text = sex if isinstance(sex, str) else "sex unknown"
    ecog = p.get("ecog")
    return f"{who} {sex_text}, ECOG {fmt_value(ecog)}"


def build(assessment: Assessment) -> ReportView:
    """The report content for one assessment."""
    # Without the bibliography, which may not resolve: an unknown citation id is shown as such
    # rather than failing the report.
    a = assessment.parts()
    sections = _sections(a, assessment.disclaimer)
    summary = _dict(a.get("patient_summary"))
    lang = summary.get("lang")
    return ReportView(
        record_id=assessment.record_id,
        patient=_patient(_dict(a.get("patient"))),
        as_of=assessment.as_of.isoformat(),
        as_of_note=AS_OF_SOURCE.get(assessment.as_of_source, assessment.as_of_source),
        knowledge_version=assessment.knowledge.version,
        hccwatch_version=__version__,
        disclaimer=assessment.disclaimer,
        lang=lang if isinstance(lang, str) else "en",
        sections=sections,
        sources=_sources(assessment, sections),
        unverified=_unverified(assessment),
    )
