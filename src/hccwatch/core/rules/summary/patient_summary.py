"""The plain-language summary for the patient, urgent items first, in the patient's language.

When an assessment is complete, then write, from the templates in ``text/<lang>/*.toml``
(never translated at run time; placeholders filled with ``str.format`` on named fields, dates
in the language's own format):

=====================  ==================================  =================================
item                   template                            urgency
=====================  ==================================  =================================
each alert             ``alert.<alert id>``, or            the alert's
                       ``alert_by_urgency.<urgency>.<id>``
                       when the alert is at a less usual
                       urgency; if missing,
                       ``summary.alert_generic.<urgency>``
                       with the alert title
what is due next       ``summary.due.next`` / ``overdue``  routine; soon when overdue
                       (test names ``test.<id>``, else
                       ``summary.test.<id>``)
AFP                    ``summary.afp.<key>`` (or           soon, but routine for
                       ``summary.afp_with_value.<key>``
                       with the latest value): rising;
                       not_normalised (the finding or      falling and stable
                       its alert); raised (an AFP alert
                       without either); else the trend
recurrence timing      ``summary.recurrence.<timing>``     soon (routine when none)
recurrence origin      ``summary.recurrence.favours.*``    soon
options                ``summary.options.*``               routine
what to watch for      ``summary.watch_for``               routine, always last
=====================  ==================================  =================================

The headline follows the most urgent item. The disclaimer is ``disclaimer`` (common.toml).
Unknown values add no item, and an undecided recurrence origin is said to be unclear: the
summary never guesses.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date

from hccwatch.core.assessment import Assessment, PatientSummary, SummaryItem
from hccwatch.core.context import Context
from hccwatch.core.finding import URGENCY_ORDER, Alert, Finding, TreatmentOption
from hccwatch.core.knowledge import JsonValue, Knowledge

__all__ = ["AFP_ALERTS", "REASSURING_AFP_KEYS", "afp_summary_key", "patient_summary"]

# The AFP trends of core/rules/afp_kinetics.py, each with a template.
AFP_TRENDS = ("rising", "falling", "stable")
# The alerts of core/rules/metastasis/suspicion.py that are about AFP.
AFP_ALERTS = frozenset({"afp_rise", "afp_not_normalised"})
# The AFP sentences that reassure; never written beside an AFP alert or a rising trend.
REASSURING_AFP_KEYS = frozenset({"falling", "stable"})
SUMMARISED_TREATMENTS = ("resection", "ablation", "transplant")


@dataclass(frozen=True)
class _Writer:
    """Templates of one language, and the language's way of writing dates."""

    knowledge: Knowledge
    lang: str

    def has(self, key: str) -> bool:
        return key in self.knowledge.texts.get(self.lang, {})

    def fits(self, key: str, fields: Mapping[str, object]) -> bool:
        """Whether every placeholder of the template can be filled from ``fields``."""
        names = {name for _, name, _, _ in string.Formatter().parse(self.knowledge.text(self.lang, key))}
        return all(name in fields for name in names if name)

    def text(self, key: str, **fields: object) -> str:
        return self.knowledge.text(self.lang, key).format_map(fields)

    def date(self, day: date) -> str:
        return self.text(
            "summary.date",
            day=day.day,
            month=day.month,
            year=day.year,
            month_name=self.text(f"summary.month.{day.month}"),
        )

    def test_name(self, test: str) -> str:
        for key in (f"test.{test}", f"summary.test.{test}"):
            if self.has(key):
                return self.text(key)
        return self.text("summary.test_unnamed", test=test)


def _iso(value: JsonValue) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# --- alerts ------------------------------------------------------------------------------


def _alert_fields(w: _Writer, alert: Alert) -> dict[str, object]:
    fields: dict[str, object] = {"title": alert.title}
    for fact in alert.facts:
        name = fact.name.rsplit(".", 1)[-1]
        fields[name] = f"{fact.value:g}" if isinstance(fact.value, float) else fact.value
        if fact.date is not None:
            shown = w.date(fact.date)
            fields[f"{name}_date"] = shown
            fields.setdefault("date", shown)
    return fields


def _alert_items(w: _Writer, alerts: tuple[Alert, ...]) -> Iterator[SummaryItem]:
    for alert in alerts:
        fields = _alert_fields(w, alert)
        # The same alert can be urgent or not (spinal pain): its wording must not promise otherwise.
        candidates = (f"alert_by_urgency.{alert.urgency}.{alert.id}", f"alert.{alert.id}")
        key = next(
            (k for k in candidates if w.has(k) and w.fits(k, fields)),
            f"summary.alert_generic.{alert.urgency}",
        )
        yield SummaryItem(urgency=alert.urgency, text=w.text(key, **fields), about=f"alert.{alert.id}")


# --- follow-up ---------------------------------------------------------------------------


def _due_entries(value: JsonValue) -> Iterator[tuple[str | None, date, bool | None]]:
    """(test, due date, overdue flag) from the surveillance finding's ``next_due``."""
    entries = value if isinstance(value, list) else [value]
    for entry in entries:
        if isinstance(entry, dict):
            test = entry.get("item", entry.get("test"))
            due = _iso(entry.get("due", entry.get("date")))
            flag = entry.get("overdue")
            if due is not None:
                yield (test if isinstance(test, str) else None, due, flag if isinstance(flag, bool) else None)
        elif (due := _iso(entry)) is not None:
            yield None, due, None


def _due_items(w: _Writer, surveillance: Finding, as_of: date) -> Iterator[SummaryItem]:
    for test, due, flag in sorted(_due_entries(surveillance.get("next_due")), key=lambda e: e[1]):
        overdue = flag if flag is not None else due < as_of
        kind = "overdue" if overdue else "next"
        if test is None:
            text = w.text(f"summary.due.{kind}_visit", date=w.date(due))
        else:
            text = w.text(f"summary.due.{kind}", test=w.test_name(test), date=w.date(due))
        yield SummaryItem(
            urgency="soon" if overdue else "routine", text=text, about=f"surveillance.{test or 'visit'}"
        )


def afp_summary_key(afp: Finding, alert_ids: Iterable[str]) -> str | None:
    """The ``summary.afp.<key>`` for this AFP, read from the same fields the alerts use.

    An AFP alert or a rising trend rules out the reassuring keys (stable, falling): the patient
    is never told "about the same" beside a clinician alert about AFP. The alarming sentences say
    what AFP did and leave what to do to the alert's own sentence, which always comes with them.
    """
    alerts = set(alert_ids)
    trend = afp.get("trend")
    if trend == "rising":
        return "rising"
    if "afp_not_normalised" in alerts or afp.get("normalisation") == "not_normalised":
        return "not_normalised"
    if alerts & AFP_ALERTS:
        return "raised"
    return trend if trend in AFP_TRENDS else None


def _afp_fields(w: _Writer, afp: Finding) -> dict[str, object]:
    latest = afp.get("latest")
    if not isinstance(latest, dict) or not isinstance(latest.get("value"), int | float):
        return {}
    day = _iso(latest.get("date"))
    return {} if day is None else {"value": f"{latest['value']:g}", "date": w.date(day)}


def _afp_items(w: _Writer, afp: Finding, alerts: tuple[Alert, ...]) -> Iterator[SummaryItem]:
    key = afp_summary_key(afp, (a.id for a in alerts))
    if key is None:
        return
    urgency = "routine" if key in REASSURING_AFP_KEYS else "soon"
    # With the latest value when it is known: beside the alert's sentence it says what AFP did.
    fields = _afp_fields(w, afp)
    detailed = f"summary.afp_with_value.{key}"
    chosen = detailed if w.has(detailed) and fields and w.fits(detailed, fields) else f"summary.afp.{key}"
    yield SummaryItem(urgency=urgency, text=w.text(chosen, **fields), about="afp.trend")


# --- recurrence --------------------------------------------------------------------------


def _recurrence_items(w: _Writer, rec: Finding) -> Iterator[SummaryItem]:
    treatment, lesion, timing = rec.get("treatment"), rec.get("lesion"), rec.get("timing")
    if not isinstance(treatment, dict) or treatment.get("type") not in SUMMARISED_TREATMENTS:
        return
    treated_on = _iso(treatment.get("date"))
    if treated_on is None:
        return
    what = w.text(f"summary.treatment.{treatment['type']}")
    # An unconfirmed (indeterminate or sub-centimetre) finding is neither a recurrence nor "none".
    if timing is None and lesion is None and rec.determined and not rec.get("unconfirmed"):
        text = w.text("summary.recurrence.none", treatment=what, date=w.date(treated_on))
        yield SummaryItem(urgency="routine", text=text, about="recurrence.timing")
        return
    seen = _iso(lesion.get("date")) if isinstance(lesion, dict) else None
    if timing not in ("early", "late") or seen is None:
        return
    text = w.text(
        f"summary.recurrence.{timing}",
        date=w.date(seen),
        months=rec.get("months_since_treatment"),
        treatment=what,
        cutoff_months=rec.get("early_cutoff_months"),
    )
    yield SummaryItem(urgency="soon", text=text, about="recurrence.timing")
    # After a transplant the graft lesion is the original cancer; there is no origin to weigh.
    if treatment["type"] != "transplant":
        favours = rec.get("favours")
        decided = favours in ("intrahepatic_metastasis", "de_novo")
        key = f"summary.recurrence.favours.{favours if decided else 'unclear'}"
        yield SummaryItem(urgency="soon", text=w.text(key), about="recurrence.favours")


# --- options -----------------------------------------------------------------------------


def _option_items(w: _Writer, options: tuple[TreatmentOption, ...]) -> Iterator[SummaryItem]:
    if not options:
        return
    candidates = [o for o in options if o.status == "candidate"]
    systemic = [o for o in candidates if o.id.startswith("systemic.")]
    for option in candidates:
        if option not in systemic:
            text = w.text("summary.options.discuss", option=w.text(f"option.{option.id}"))
            yield SummaryItem(urgency="routine", text=text, about=f"treatment_options.{option.id}")
    if systemic:
        text = w.text("summary.options.systemic", example=w.text(f"option.{systemic[0].id}"))
        yield SummaryItem(urgency="routine", text=text, about="treatment_options.systemic")
    if any(o.status == "contraindicated" and o.id.startswith("systemic.") for o in options):
        text = w.text("summary.options.no_checkpoint_after_transplant")
        yield SummaryItem(urgency="routine", text=text, about="treatment_options.contraindicated")
    if not candidates:
        yield SummaryItem(
            urgency="routine", text=w.text("summary.options.pending"), about="treatment_options"
        )


def patient_summary(ctx: Context, assessment: Assessment, *, lang: str) -> PatientSummary:
    """Write the patient's summary of ``assessment`` in ``lang`` (most urgent first)."""
    w = _Writer(ctx.knowledge, lang)
    items = [
        *_alert_items(w, assessment.alerts),
        # Next to the alerts, so an AFP alert and the sentence on what AFP did are read together.
        *_afp_items(w, assessment.afp, assessment.alerts),
        *_due_items(w, assessment.surveillance, ctx.as_of),
        *_recurrence_items(w, assessment.recurrence),
        *_option_items(w, assessment.treatment_options),
    ]
    items.sort(key=lambda item: URGENCY_ORDER[item.urgency])
    top = items[0].urgency if items else "routine"
    watch = SummaryItem(urgency="routine", text=w.text("summary.watch_for"), about="watch_for")
    return PatientSummary(
        lang=lang,
        headline=w.text(f"summary.headline.{top}"),
        items=(*items, watch),
        disclaimer=w.text("disclaimer"),
    )
