"""What every rule receives: the record, the evaluation date and the knowledge base.

Facts dated after ``as_of`` are invisible to the rules, so re-running an old date gives
the answer that would have been given then.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import Knowledge
from hccwatch.record.model import Imaging, Lab, PatientRecord, Symptom, Treatment

__all__ = ["Context"]


@dataclass(frozen=True)
class Context:
    record: PatientRecord
    as_of: date
    knowledge: Knowledge

    def trace(self, rule: str) -> Trace:
        return Trace(rule=rule, knowledge=self.knowledge)

    @cached_property
    def _labs_by_test(self) -> dict[str, tuple[list[Lab], list[date]]]:
        """Per test: its results dated on or before ``as_of``, oldest first, and their dates.

        Built once per context: rules look labs up about thirty times per assessment.
        """
        by_test: dict[str, list[Lab]] = {}
        for lab in self.record.labs:
            if lab.date <= self.as_of:
                by_test.setdefault(lab.test, []).append(lab)
        out: dict[str, tuple[list[Lab], list[date]]] = {}
        for test, found in by_test.items():
            found.sort(key=lambda x: x.date)
            out[test] = (found, [lab.date for lab in found])
        return out

    def labs(self, test: str) -> list[Lab]:
        """All results of ``test`` dated on or before ``as_of``, oldest first."""
        found = self._labs_by_test.get(test)
        return [] if found is None else list(found[0])

    def latest_lab(self, trace: Trace, test: str, *, on_or_before: date | None = None) -> Lab | None:
        """The latest ``test`` within the lab window (``labs.window_days``) before the reference date.

        Records the value as an input, or the test as missing (naming a stale value if
        there is one), so the caller only decides what to do with ``None``.
        """
        ref = on_or_before or self.as_of
        window = timedelta(days=trace.num(f"labs.window_days.{test}"))
        found, dates = self._labs_by_test.get(test, ([], []))
        at = bisect_right(dates, ref)
        if at == 0:
            trace.need(f"labs.{test}")
            return None
        latest = found[at - 1]
        if ref - latest.date > window:
            trace.need(f"labs.{test} (latest, {latest.date.isoformat()}, is older than {window.days} days)")
            return None
        c = latest.canonical
        trace.used(f"labs.{test}", round(c.value, 6), c.unit, latest.date)
        return latest

    def treatments(self, *types: str) -> list[Treatment]:
        """Treatments on or before ``as_of`` (of the given types, if any), oldest first."""
        chosen = [
            t for t in self.record.treatments if t.date <= self.as_of and (not types or t.type in types)
        ]
        return sorted(chosen, key=lambda t: t.date)

    def imaging(self) -> list[Imaging]:
        return sorted((i for i in self.record.imaging if i.date <= self.as_of), key=lambda i: i.date)

    def active_symptoms(self) -> list[Symptom]:
        """Symptoms present on ``as_of``: started by then (or undated) and not resolved."""
        return [
            s
            for s in self.record.symptoms
            if (s.onset is None or s.onset <= self.as_of) and (s.resolved is None or s.resolved > self.as_of)
        ]
