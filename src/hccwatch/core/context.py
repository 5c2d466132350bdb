"""What every rule receives: the record, the evaluation date and the knowledge base.

Facts dated after ``as_of`` are invisible to the rules, so re-running an old date gives
the answer that would have been given then.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from operator import attrgetter
from typing import Any

from hccwatch.core.finding import AssumedInput, InputUsed, Trace
from hccwatch.core.knowledge import Knowledge
from hccwatch.core.memo import once
from hccwatch.record.model import Imaging, ImagingLesion, Lab, PatientRecord, Symptom, Treatment

__all__ = ["Context", "study_key"]


def _same(lab: Lab) -> float:
    """The value two same-day results must share to agree (canonical unit, as the trace shows it)."""
    return round(lab.canonical.value, 6)


_date = attrgetter("date")
_test = attrgetter("test")
_NO_LABS: tuple[list[Lab], list[date]] = ([], [])
# latest_lab's answer: the lab and the input it records, or None and the gap it records.
_Latest = tuple[Lab | None, InputUsed | str]
# The knowledge entry of each lab's window, by test name (the rules' own few names).
_WINDOW_KEYS: dict[str, str] = {}


def _lab_order(lab: Lab) -> tuple[date, float, float, str]:
    return (lab.date, lab.canonical.value, lab.value, lab.unit or "")


LesionKey = tuple[str, bool, float, str, int, str]


def _lesion_key(lesion: ImagingLesion) -> LesionKey:
    size = lesion.size_cm
    return (lesion.site, size is not None, size or 0, lesion.segment or "", lesion.count, repr(lesion.new))


def study_key(study: Imaging) -> tuple[date, str, str, str, tuple[LesionKey, ...]]:
    """A total order over studies: date first, then everything else the study reports."""
    lesions = tuple(sorted(_lesion_key(lesion) for lesion in study.lesions))
    return (study.date, study.region, study.modality, study.result, lesions)


def _treatment_order(t: Treatment) -> tuple[date, str, str, date, str, str, str]:
    """A total order, so that same-day treatments never depend on the record's list order.

    Rules that must choose between same-day treatments of different types say how (surveillance
    uses ``surveillance.same_day_phase_precedence``); this order only makes the choice repeatable.
    """
    return (
        t.date,
        t.type,
        t.agent or "",
        t.end_date or date.max,
        t.site or "",
        t.margin or "",
        str(t.curative),
    )


@dataclass(frozen=True)
class Context:
    record: PatientRecord
    as_of: date
    knowledge: Knowledge

    def trace(self, rule: str) -> Trace:
        assumed = self._assumed
        # Positional: rules open some thirty traces per assessment.
        if assumed:
            return Trace(rule, self.knowledge, assumed)
        return Trace(rule, self.knowledge)

    @once
    def shared(self) -> dict[Hashable, Any]:
        """Derived facts several rules read in one assessment, by a key naming the reader
        (e.g. ``("staging.tumour_burden", False)``): computed by the first rule that asks, kept for
        this context only, so nothing passes from one record or date to another."""
        return {}

    @once
    def _assumed(self) -> dict[str, AssumedInput]:
        """The record's stated assumptions by field, as rules name their inputs."""
        return {a.field: AssumedInput(a.field, a.value, a.reason) for a in self.record.assumptions}

    @once
    def _labs_by_test(self) -> dict[str, tuple[list[Lab], list[date]]]:
        """Per test: its results dated on or before ``as_of`` in a total order, and their dates.

        Built once per context: rules look labs up about thirty times per assessment. The order
        (date, then value) does not depend on the order of the record's list.
        """
        # One sort by test name and one grouping, both in C: a loop over the labs in Python cost
        # more than the rest of the index (some eighty labs per record). The sorts are stable, so
        # same-day results keep the record's order until the full order below settles them.
        as_of = self.as_of
        out: dict[str, tuple[list[Lab], list[date]]] = {}
        for test, group in groupby(sorted(self.record.labs, key=_test), key=_test):
            found = sorted(group, key=_date)
            dates = list(map(_date, found))
            kept = bisect_right(dates, as_of)
            if kept == 0:
                continue  # every result of the test is dated after ``as_of``
            if kept < len(found):
                del found[kept:], dates[kept:]
            # Only a date shared by two results needs the full order.
            if len(set(dates)) != len(dates):
                found.sort(key=_lab_order)
                dates = list(map(_date, found))
            out[test] = (found, dates)
        return out

    @once
    def _conflicts(self) -> dict[tuple[str, date], str]:
        """(test, date) -> description, where one test has different results on one date."""
        out: dict[tuple[str, date], str] = {}
        for test, (found, dates) in self._labs_by_test.items():
            if len(set(dates)) == len(dates):
                continue  # one result per date: nothing can disagree
            for when, same_day in groupby(found, key=_date):
                values = list(dict.fromkeys(_same(lab) for lab in same_day))
                if len(values) > 1:
                    shown = ", ".join(f"{v:g}" for v in values)
                    unit = found[0].canonical.unit
                    out[test, when] = (
                        f"labs.{test}: {len(values)} different results on {when.isoformat()} "
                        f"({shown}{' ' + unit if unit else ''})"
                    )
        return out

    def labs(self, test: str) -> list[Lab]:
        """All results of ``test`` dated on or before ``as_of``, oldest first (same date: lowest first).

        Every result is returned, including same-day results that disagree: use this to know
        when a test was done; use ``lab_series`` or ``latest_lab`` for values.
        """
        found = self._labs_by_test.get(test)
        return [] if found is None else list(found[0])

    def lab_conflict(self, test: str, when: date) -> str | None:
        """Why the results of ``test`` on ``when`` cannot be used (they disagree), or None."""
        return self._conflicts.get((test, when))

    def lab_series(self, trace: Trace, test: str) -> list[Lab]:
        """One result per date, oldest first, for trends and histories.

        Identical same-day results count once. A date whose results disagree is left out and named
        in ``trace.need``: picking one by list order would be a silent guess.
        """
        found = self._labs_by_test.get(test)
        if found is None:
            return []
        labs, dates = found
        if len(set(dates)) == len(dates):
            return list(labs)  # one result per date: nothing to merge, nothing can disagree
        conflicts = self._conflicts
        out: list[Lab] = []
        for lab in labs:
            conflict = conflicts.get((test, lab.date))
            if conflict is not None:
                trace.need(conflict)
            elif not out or out[-1].date != lab.date:
                out.append(lab)
        return out

    def latest_lab(self, trace: Trace, test: str, *, on_or_before: date | None = None) -> Lab | None:
        """The latest ``test`` within the lab window (``labs.window_days``) before the reference date.

        Records the value as an input, or the test as missing (naming a stale value if
        there is one), so the caller only decides what to do with ``None``. When the latest date
        holds disagreeing results the answer is None with the conflict named: an older value is
        not current and is never used in its place.
        """
        ref = on_or_before or self.as_of
        window_key = _WINDOW_KEYS.get(test)
        if window_key is None:  # one string per test name, not one per call
            window_key = _WINDOW_KEYS[test] = f"labs.window_days.{test}"
        window_days = trace.num(window_key)
        # Looked up once per (test, date, window) per context, then replayed into each trace that
        # asks: rules ask for the same few tests some twenty times per assessment.
        key = (test, ref, window_days)
        seen = self._latest.get(key)
        if seen is None:
            seen = self._latest[key] = self._find_latest(test, ref, window_days)
        latest, recorded = seen
        if isinstance(recorded, InputUsed):
            trace.use(recorded)
        else:
            trace.need(recorded)
        return latest

    @once
    def _latest(self) -> dict[tuple[str, date, float], _Latest]:
        return {}

    def _find_latest(self, test: str, ref: date, window_days: float) -> _Latest:
        """What ``latest_lab`` answers: the lab and the input it records, or None and the gap."""
        found, dates = self._labs_by_test.get(test, _NO_LABS)
        at = bisect_right(dates, ref)
        if at == 0:
            return None, f"labs.{test}"
        latest = found[at - 1]
        # Whole days between dates: the same test as against ``timedelta(days=window_days)``.
        if (ref - latest.date).days > window_days:
            window = timedelta(days=window_days)
            return None, f"labs.{test} (latest, {latest.date.isoformat()}, is older than {window.days} days)"
        conflict = self._conflicts.get((test, latest.date)) if self._conflicts else None
        if conflict is not None:
            return None, conflict
        c = latest.canonical
        # One input, shared by every trace that asks (an InputUsed is immutable).
        return latest, InputUsed(f"labs.{test}", round(c.value, 6), c.unit, latest.date)

    def treatments(self, *types: str) -> list[Treatment]:
        """Treatments on or before ``as_of`` (of the given types, if any), oldest first (total order)."""
        ordered = self._treatments
        if not types:
            return list(ordered)
        return [t for t in ordered if t.type in types]

    @once
    def _treatments(self) -> tuple[Treatment, ...]:
        """Every treatment on or before ``as_of`` in the total order (rules ask a dozen times)."""
        chosen = [t for t in self.record.treatments if t.date <= self.as_of]
        chosen.sort(key=_date)
        if len({t.date for t in chosen}) != len(chosen):  # a shared date needs the whole order
            chosen.sort(key=_treatment_order)
        return tuple(chosen)

    def imaging(self) -> list[Imaging]:
        """Studies on or before ``as_of``, by date (same-day studies: see :meth:`studies`)."""
        return list(self._imaging)

    @once
    def _imaging(self) -> tuple[Imaging, ...]:
        return tuple(sorted((i for i in self.record.imaging if i.date <= self.as_of), key=_date))

    def studies(self) -> list[Imaging]:
        """Studies on or before ``as_of`` in :func:`study_key` order (record order never matters)."""
        return list(self._studies)

    @once
    def _studies(self) -> tuple[Imaging, ...]:
        # Built once per context: the recurrence and metastasis rules walk the studies a dozen times.
        studies = self._imaging  # by date: the whole order when no two studies share a date
        if len({s.date for s in studies}) == len(studies):
            return studies
        return tuple(sorted(studies, key=study_key))

    def active_symptoms(self) -> list[Symptom]:
        """Symptoms present on ``as_of``: started by then (or undated) and not resolved."""
        return [
            s
            for s in self.record.symptoms
            if (s.onset is None or s.onset <= self.as_of) and (s.resolved is None or s.resolved > self.as_of)
        ]
