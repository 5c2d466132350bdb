"""What a report shows, independent of how it is printed.

:func:`build` turns an :class:`~hccwatch.core.assessment.Assessment` into plain strings in
report order (the bottom line, then alerts, ..., sources last). The text, Markdown and HTML
renderers only lay these out, so the three formats cannot drift apart in content.

The view reads the assessment's typed parts (findings, alerts, workup items, options, the
patient summary) and the typed digests of :mod:`hccwatch.report.cards`; display names come
from ``labels.toml``. Finding values are rendered generically: rules add and change value
keys often, and a report must never crash on a ``None`` or an unexpected shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from hccwatch.core.assessment import Assessment, PatientSummary
from hccwatch.core.finding import Alert, Finding, InputUsed, TreatmentOption, WorkupItem
from hccwatch.core.knowledge import JsonValue
from hccwatch.errors import KnowledgeError
from hccwatch.report import cards
from hccwatch.report.cards import Tone, by_urgency, code_label, urgency
from hccwatch.report.labels import labels
from hccwatch.version import __version__

__all__ = [
    "BottomLineRow",
    "Chip",
    "Detail",
    "Entry",
    "ReportView",
    "Section",
    "Source",
    "Tone",
    "Unverified",
    "build",
    "fmt_value",
]

_L = labels()
CANNOT = _L.word("cannot")
FACTS = _L.word("facts")
HEADLINE_MAX = 40  # a longer text value reads better on a line of its own than in the headline
GAP_UNDETERMINED = _L.word("gap_undetermined")
GAP_DETERMINED = _L.word("gap_determined")


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
class Chip:
    """One item of a bottom-line row: an optional urgency badge and its text."""

    text: str
    badge: str | None = None
    tone: Tone = "plain"


@dataclass(frozen=True)
class BottomLineRow:
    """A line of the bottom line: ``label`` then its chips (never empty: "none" is a chip)."""

    key: str
    label: str
    chips: tuple[Chip, ...]

    @property
    def text(self) -> str:
        return "; ".join(f"[{c.badge}] {c.text}" if c.badge else c.text for c in self.chips)


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
    bottom_line_title: str
    bottom_line: tuple[BottomLineRow, ...]
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
        return _L.word("unknown")
    if isinstance(v, bool):
        return _L.word("yes" if v else "no")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _num(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return "; ".join(f"{label(str(k))}: {fmt_value(x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return ", ".join(fmt_value(x) for x in v) or _L.word("none")
    return str(v)


def title(key: str) -> str:
    """A finding key as a title: known names as written, others capitalised."""
    return _L.title(key)


def label(key: str) -> str:
    """A value key as words: ``bilirubin_mg_dl`` -> ``bilirubin (mg/dL)``, ``chest_ct`` -> ``chest CT``."""
    return _L.key(key)


def _strs(v: object) -> tuple[str, ...]:
    """A list-ish value as strings (a lone scalar becomes one item)."""
    if v is None:
        return ()
    if isinstance(v, list | tuple):
        return tuple(fmt_value(x) for x in v if x is not None and x != "")
    return (fmt_value(v),)


def _fact(f: InputUsed) -> str:
    unit_text = f" {f.unit}" if f.unit not in {None, "", "1"} else ""
    when = f" ({f.date.isoformat()})" if f.date else ""
    return f"{fmt_value(f.name)} {fmt_value(f.value)}{unit_text}{when}"


def _code(v: str | None) -> str:
    """A code such as ``whole_spine_mri`` as words; any other value as written."""
    return code_label(v) if v is not None else fmt_value(v)


# ---------------------------------------------------------------- common details


def _missing(missing: tuple[str, ...], determined: bool) -> Detail | None:
    if not missing:
        return None
    head = GAP_DETERMINED if determined else GAP_UNDETERMINED
    return Detail(head, (f"{_L.word('missing')} {', '.join(missing)}",))


def _trail(
    facts_used: Iterable[InputUsed],
    notes: Iterable[str],
    unverified_keys: Iterable[str],
    policy_keys: Iterable[str] = (),
) -> list[Detail]:
    """Facts used, notes, unverified knowledge and the project's own choices: for every entry."""
    out: list[Detail] = []
    facts = tuple(_fact(f) for f in facts_used)
    if facts:
        out.append(Detail(FACTS, facts))
    for note in _strs(tuple(notes)):
        out.append(Detail(_L.word("note"), (note,)))
    unverified = _strs(tuple(unverified_keys))
    if unverified:
        out.append(Detail(_L.word("unverified"), unverified))
    policy = _strs(tuple(policy_keys))
    if policy:
        out.append(Detail(_L.word("policy"), policy))
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


def _finding_entry(entry_title: str, f: Finding, *, verdict: str | None = None) -> Entry:
    """A finding; ``verdict`` names the value shown as the badge instead of in the headline."""
    values = {k: v for k, v in f.values.items() if k != verdict}
    simple = {k: v for k, v in values.items() if not isinstance(v, list | dict)}
    result, long = _headline(simple, f.determined or verdict is not None)
    details: list[Detail] = []
    if f.explanation:
        details.append(Detail("", (f.explanation,)))
    details += long
    for k, v in values.items():
        if isinstance(v, list | dict):
            items = _strs(v) if isinstance(v, list) else _strs([v])
            details.append(Detail(label(k), items or (_L.word("none"),), as_list=len(items) > 1))
    gap = _missing(f.missing, f.determined)
    if gap:
        details.append(gap)
    details.extend(_trail(f.inputs, f.notes, f.unverified, f.policy))
    tone: Tone = "plain" if f.determined else "cannot"
    return Entry(entry_title, None, tone, result, tuple(details), f.citations)


def _verdict(c: cards.CriterionView) -> str:
    if c.text:
        return c.text
    return f"{label(c.verdict_key or '')}: {fmt_value(c.verdict)}"


def _criteria_section(group: Mapping[str, Finding]) -> Section:
    """Transplant criteria as a table: the verdict, then why. The facts, shared by nearly every
    criterion, are listed once under the table instead of in every row."""
    entries: list[Entry] = []
    facts: dict[str, None] = {}
    for key, f in group.items():
        c = cards.criterion(key, f)
        e = _finding_entry(c.label, f, verdict=c.verdict_key)
        for d in e.details:
            if d.label == FACTS:
                facts.update(dict.fromkeys(d.items))
        tone: Tone = "cannot" if c.verdict is None else "plain"
        details = tuple(d for d in e.details if d.label != FACTS)
        entries.append(Entry(e.title, _verdict(c), tone, e.result, details, e.citations))
    note = f"{FACTS}: {'; '.join(facts)}" if facts else None
    s = _L.section("transplant")
    return Section("transplant", s.title, None, tuple(entries), s.empty, "table", note=note)


# ---------------------------------------------------------------- sections


def _alert_entry(a: Alert) -> Entry:
    badge, tone = urgency(a.urgency)
    details = [Detail("", (a.detail,))] if a.detail else []
    if a.actions:
        details.append(Detail(_L.word("actions"), _strs(a.actions), as_list=True))
    details.extend(_trail(a.facts, (), a.unverified, a.policy))
    return Entry(a.title, badge, tone, None, tuple(details), a.citations)


def _workup_entry(w: WorkupItem) -> Entry:
    badge, tone = urgency(w.urgency)
    details = [Detail("", (w.reason,))] if w.reason else []
    if w.suspicion:
        details.append(Detail(_L.word("suspicion"), (_code(w.suspicion),)))
    if w.instead_of:
        details.append(Detail(_L.word("instead_of"), (_code(w.instead_of),)))
    details.extend(_trail((), (), w.unverified, w.policy))
    test = _code(w.test)
    return Entry(test[:1].upper() + test[1:], badge, tone, None, tuple(details), w.citations)


def _option_entry(o: TreatmentOption) -> Entry:
    status = str(o.status)
    badge = _L.option_status.get(status, status.replace("_", " "))
    tone: Tone = "cannot" if status == "cannot_determine" else "plain"
    details: list[Detail] = []
    reasons = _strs(o.reasons)
    if reasons:
        details.append(Detail(_L.word("why"), reasons, as_list=len(reasons) > 1))
    cautions = _strs(o.cautions)
    if cautions:
        details.append(Detail(_L.word("cautions"), cautions, as_list=len(cautions) > 1))
    gap = _missing(o.missing, status != "cannot_determine")
    if gap:
        details.append(gap)
    details.extend(_trail((), (), o.unverified, o.policy))
    return Entry(o.title or o.id, badge, tone, None, tuple(details), o.citations)


def _summary_section(summary: PatientSummary, report_disclaimer: str) -> Section:
    entries: list[Entry] = []
    for item in by_urgency(summary.items):
        badge, tone = urgency(item.urgency)
        entries.append(Entry(item.text, badge, tone, None, (), (), sourced=False))
    if summary.disclaimer and summary.disclaimer != report_disclaimer:
        entries.append(Entry(summary.disclaimer, None, "plain", None, (), (), sourced=False))
    s = _L.section("patient_summary")
    return Section(
        "patient_summary",
        s.title,
        summary.headline or None,
        tuple(entries),
        s.empty,
        lang=summary.lang or None,
    )


def _single(key: str, f: Finding) -> Section:
    """A section holding the one finding ``f``."""
    s = _L.section(key)
    return Section(key, s.title, None, (_finding_entry(s.entry, f),), s.empty)


def _group(key: str, group: Mapping[str, Finding]) -> Section:
    s = _L.section(key)
    return Section(key, s.title, None, tuple(_finding_entry(title(k), f) for k, f in group.items()), s.empty)


def _listed(key: str, entries: Iterable[Entry]) -> Section:
    s = _L.section(key)
    return Section(key, s.title, s.intro, tuple(entries), s.empty)


def _sections(a: Assessment) -> tuple[Section, ...]:
    return (
        _listed("alerts", (_alert_entry(x) for x in by_urgency(a.alerts))),
        _listed("workup", (_workup_entry(w) for w in by_urgency(a.workup))),
        _single("surveillance", a.surveillance),
        _single("afp", a.afp),
        _group("scores", a.scores),
        _group("staging", a.staging),
        _criteria_section(a.transplant),
        _single("metastasis", a.metastasis),
        _single("recurrence", a.recurrence),
        _listed("options", (_option_entry(o) for o in a.treatment_options)),
        _summary_section(a.patient_summary, a.disclaimer),
    )


# ---------------------------------------------------------------- bottom line


def _more(n: int, section: str) -> tuple[Chip, ...]:
    if not n:
        return ()
    return (Chip(_L.bottom_line["more"].format(n=n, section=_L.section(section).title)),)


def _see(text: str, missing: tuple[str, ...], section: str) -> str:
    """A "cannot determine" that names no gap points to the section that explains it."""
    if missing:
        return text
    return f"{text} ({_L.bottom_line['see'].format(section=_L.section(section).title)})"


def _overdue(o: cards.OverdueView) -> str:
    words = _L.bottom_line
    when = [words["due"].format(date=o.due)] if o.due else []
    if o.last_done is None:  # never done is more pressing than late
        when.append(words["never_done"])
    return f"{o.label} ({'; '.join(when)})" if when else o.label


def _known(v: cards.ScoreView | cards.StageView, section: str) -> Chip:
    if v.determined:
        return Chip(f"{v.label} {v.text}")
    return Chip(f"{v.label} {_see(v.text, v.missing, section)}", tone="cannot")


def _bottom_line(a: Assessment) -> tuple[BottomLineRow, ...]:
    """Five rows a clinician reads in ten seconds; each says "none" or "cannot determine" when it
    has nothing to show, never nothing."""
    b = cards.bottom_line(a)
    words = _L.bottom_line
    none = (Chip(_L.word("none")),)
    alert = (
        (Chip(b.alert.title, b.alert.badge, b.alert.tone), *_more(b.more_alerts, "alerts"))
        if b.alert
        else none
    )
    order = tuple(Chip(o.label, o.badge, o.tone) for o in b.orders) + _more(b.more_orders, "workup")
    if b.overdue is None:
        late: tuple[Chip, ...] = (
            Chip(_see(b.overdue_text, a.surveillance.missing, "surveillance"), tone="cannot"),
        )
    else:
        late = tuple(Chip(_overdue(o)) for o in b.overdue)
    key_scores = tuple(_known(s, "scores") for s in b.scores)
    stage = (_known(b.stage, "staging"),) if b.stage else ()
    return (
        BottomLineRow("alert", words["alert"], alert),
        BottomLineRow("orders", words["orders"], order or none),
        BottomLineRow("overdue", words["overdue"], late or none),
        BottomLineRow("scores", words["scores"], key_scores or (Chip(CANNOT, tone="cannot"),)),
        BottomLineRow("stage", words["stage"], stage or (Chip(CANNOT, tone="cannot"),)),
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
    sections = _sections(assessment)
    return ReportView(
        record_id=assessment.record_id,
        patient=_patient(assessment.patient),
        as_of=assessment.as_of.isoformat(),
        as_of_note=_L.as_of_source.get(assessment.as_of_source, assessment.as_of_source),
        knowledge_version=assessment.knowledge.version,
        hccwatch_version=__version__,
        disclaimer=assessment.disclaimer,
        lang=assessment.patient_summary.lang or "en",
        bottom_line_title=_L.section("bottom_line").title,
        bottom_line=_bottom_line(assessment),
        sections=sections,
        # Without the bibliography, which may not resolve: an unknown citation id is shown as such
        # rather than failing the report.
        sources=_sources(assessment, sections),
        unverified=_unverified(assessment),
    )
