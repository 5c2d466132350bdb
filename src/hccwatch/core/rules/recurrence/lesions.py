"""Which imaging findings are a confirmed new liver lesion, and a total order for studies.

A recurrence needs a **confirmed** new lesion. A study reported ``indeterminate``, or new liver
lesions all smaller than ``recurrence.confirmed_lesion_min_cm`` (1 cm: nodules under 1 cm
cannot be characterised and are followed with repeat imaging in 3-6 months, AASLD-2010), is a
prompt for follow-up imaging, not a recurrence: it sets no early/late timing, no IM vs de novo
weighing and no treatment option.

Studies of the same day are never told apart by their position in the record: every look-up
sorts with :func:`study_key` (a total order over everything a study says), and choices between
same-day studies use what they report, not which came first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from hccwatch.core.context import Context, study_key
from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.record.model import Imaging, ImagingLesion

__all__ = [
    "LiverFinding",
    "NewLesion",
    "first_confirmed",
    "liver_findings",
    "sorted_imaging",
    "study_key",
    "subcentimetre",
]

Kind = Literal["confirmed", "indeterminate", "subcentimetre"]
# What a study adds, most telling first: chooses between same-day studies without list order.
RESULT_ORDER = ("progression", "new_lesion", "indeterminate", "stable", "normal")


def sorted_imaging(ctx: Context) -> list[Imaging]:
    """Studies on or before ``as_of`` in :func:`study_key` order (record order never matters)."""
    return ctx.studies()


@dataclass(frozen=True)
class NewLesion:
    """The study showing the first confirmed new intrahepatic lesion, and those lesions."""

    study: Imaging
    lesions: tuple[ImagingLesion, ...]

    @property
    def count(self) -> int | None:
        return sum(lesion.count for lesion in self.lesions) if self.lesions else None

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(sorted({lesion.segment for lesion in self.lesions if lesion.segment}))

    def to_dict(self) -> dict[str, JsonValue]:
        sizes = [lesion.size_cm for lesion in self.lesions if lesion.size_cm is not None]
        return {
            "date": self.study.date.isoformat(),
            "modality": self.study.modality,
            "region": self.study.region,
            "result": self.study.result,
            "count": self.count,
            "segments": list(self.segments),
            "largest_cm": max(sizes) if sizes else None,
        }


@dataclass(frozen=True)
class LiverFinding:
    """A study's new liver finding: confirmed, indeterminate, or only sub-centimetre lesions."""

    kind: Kind
    study: Imaging
    lesions: tuple[ImagingLesion, ...]

    def to_dict(self) -> dict[str, JsonValue]:
        sizes = [lesion.size_cm for lesion in self.lesions if lesion.size_cm is not None]
        return {
            "date": self.study.date.isoformat(),
            "modality": self.study.modality,
            "region": self.study.region,
            "result": self.study.result,
            "kind": self.kind,
            "largest_cm": max(sizes) if sizes else None,
        }


def subcentimetre(t: Trace, lesions: Iterable[ImagingLesion]) -> bool:
    """True when there are lesions and every one has a known size below the diagnosable size."""
    listed = list(lesions)
    if not listed:
        return False
    minimum = t.num("recurrence.confirmed_lesion_min_cm")
    return all(lesion.size_cm is not None and lesion.size_cm < minimum for lesion in listed)


def _liver_finding(
    t: Trace, study: Imaging, regions: list[JsonValue], results: list[JsonValue]
) -> LiverFinding | None:
    liver = tuple(x for x in study.lesions if x.site == "liver" and x.new is not False)
    marked_new = tuple(x for x in liver if x.new is True)
    # A report that lists only extrahepatic lesions says nothing new about the liver.
    liver_study = study.region in regions and (not study.lesions or bool(liver))
    if study.result == "indeterminate":
        return LiverFinding("indeterminate", study, liver) if marked_new or liver_study else None
    if marked_new:
        lesions = marked_new
    elif liver_study and study.result in results:
        lesions = liver
    else:
        return None
    if subcentimetre(t, lesions):
        return LiverFinding("subcentimetre", study, lesions)
    return LiverFinding("confirmed", study, lesions)


def _most_telling(findings: list[LiverFinding]) -> LiverFinding:
    """Of same-day findings, the one that reports most (never the first listed)."""

    def rank(f: LiverFinding) -> tuple[int, int, int, tuple[object, ...]]:
        sizes = sum(lesion.size_cm is not None for lesion in f.lesions)
        count = sum(lesion.count for lesion in f.lesions)
        return (-count, -sizes, RESULT_ORDER.index(f.study.result), study_key(f.study))

    return min(findings, key=rank)


def liver_findings(ctx: Context, t: Trace, *, after: date) -> list[LiverFinding]:
    """New liver findings dated after ``after`` and on or before ``as_of``, in study order."""
    studies = [s for s in sorted_imaging(ctx) if s.date > after]
    if not studies:
        return []
    # Read once for all studies, before any of them (the order the trace cites its sources in).
    regions = t.items("recurrence.new_lesion_regions")
    results = t.items("recurrence.new_lesion_results")
    found = [_liver_finding(t, s, regions, results) for s in studies]
    return [f for f in found if f is not None]


def first_confirmed(findings: Sequence[LiverFinding]) -> NewLesion | None:
    """The first confirmed new intrahepatic lesion among :func:`liver_findings` (those dated
    after a date and up to ``as_of``); the rules that need both read the studies once.

    Same-day studies showing it are not added up (they may show the same nodules): the one
    reporting most lesions, then most measured, stands for the day.
    """
    confirmed = [f for f in findings if f.kind == "confirmed"]
    if not confirmed:
        return None
    day = confirmed[0].study.date
    best = _most_telling([f for f in confirmed if f.study.date == day])
    return NewLesion(best.study, best.lesions)
