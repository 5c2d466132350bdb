"""Typed, display-ready reading of an :class:`~hccwatch.core.assessment.Assessment`.

Small frozen views of what a clinician looks at first: alerts, tests to order, overdue
surveillance, the key scores, the stage and each transplant criterion's verdict, each with its
display name (from ``labels.toml``) and, when it cannot be determined, what is missing. The
reports' bottom line is built from them; a web app or an EHR card can use them as they are.

Every reader is defensive: rules add and change value keys, and a view must never crash on a
``None`` or an unexpected shape. Unknown stays unknown: ``None``, never a default.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeVar

from hccwatch.core.assessment import Assessment
from hccwatch.core.finding import URGENCY_ORDER, Alert, Finding, WorkupItem
from hccwatch.core.knowledge import JsonValue
from hccwatch.report.labels import labels

__all__ = [
    "AlertView",
    "BottomLine",
    "CriterionView",
    "OrderView",
    "OverdueView",
    "ScoreView",
    "StageView",
    "Tone",
    "alerts",
    "bottom_line",
    "by_urgency",
    "code_label",
    "criteria",
    "criterion",
    "orders",
    "overdue",
    "score",
    "scores",
    "short_missing",
    "stage",
    "stages",
    "urgency",
]

Tone = Literal["emergency", "urgent", "soon", "routine", "cannot", "plain"]
_TONES: dict[str, Tone] = {"emergency": "emergency", "urgent": "urgent", "soon": "soon", "routine": "routine"}

# The bottom line's key scores and stage, in the order they are shown.
KEY_SCORES = ("child_pugh", "meld_3", "albi")
KEY_STAGE = "bclc"
# The values a score is read by (the first known one), when it has several.
_MAIN_VALUE: dict[str, tuple[str, ...]] = {
    "child_pugh": ("class", "points"),
    "meld": ("value",),
    "meld_na": ("value",),
    "meld_3": ("value",),
    "albi": ("grade", "score"),
}
# How many gaps a short "cannot determine: missing ..." names before "+N more".
SHORT_MISSING_MAX = 3
# How many tests the bottom line lists before "+N more in Workup".
BOTTOM_LINE_ORDERS = 3
_CODE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)+")

_T = TypeVar("_T", bound="_Rated")


def urgency(value: object) -> tuple[str, Tone]:
    """An urgency as its badge (``URGENT``) and tone; an unrated value is shown, never dropped."""
    text = value if isinstance(value, str) else ""
    return (text.upper() or labels().word("unrated")), _TONES.get(text, "plain")


class _Rated(Protocol):
    @property
    def urgency(self) -> str: ...


def by_urgency(items: Iterable[_T]) -> list[_T]:
    """Most urgent first (an unrated item last); the order within one urgency is the rules' own."""
    return sorted(items, key=lambda x: URGENCY_ORDER.get(x.urgency, len(URGENCY_ORDER)))


def short_missing(missing: Sequence[str], limit: int = SHORT_MISSING_MAX) -> str:
    """Gaps named briefly for a glance: ``labs.inr (latest ... is older than 90 days)`` -> ``INR``.
    The detailed sections give each gap in full."""
    names = dict.fromkeys(labels().key(m.split(" (")[0].split(".")[-1]) for m in missing)
    shown = list(names)[:limit]
    more = len(names) - len(shown)
    text = ", ".join(shown) + (f", +{more} more" if more else "")
    return f"{labels().word('missing')} {text}" if text else ""


def _cannot(missing: Sequence[str]) -> str:
    gap = short_missing(missing)
    return f"{labels().word('cannot')}: {gap}" if gap else labels().word("cannot")


@dataclass(frozen=True)
class AlertView:
    id: str
    urgency: str
    badge: str
    tone: Tone
    title: str
    citations: tuple[str, ...]

    @classmethod
    def of(cls, a: Alert) -> AlertView:
        badge, tone = urgency(a.urgency)
        return cls(a.id, a.urgency, badge, tone, a.title, a.citations)


@dataclass(frozen=True)
class OrderView:
    """A test the workup suggests ordering."""

    test: str
    label: str
    urgency: str
    badge: str
    tone: Tone
    instead_of: str | None
    citations: tuple[str, ...]

    @classmethod
    def of(cls, w: WorkupItem) -> OrderView:
        badge, tone = urgency(w.urgency)
        name = code_label(w.test)
        instead = None if w.instead_of is None else code_label(w.instead_of)
        return cls(w.test, name[:1].upper() + name[1:], w.urgency, badge, tone, instead, w.citations)


@dataclass(frozen=True)
class OverdueView:
    """A surveillance test past its due date (and grace)."""

    item: str
    label: str
    due: str | None
    last_done: str | None


@dataclass(frozen=True)
class ScoreView:
    key: str
    label: str
    value: JsonValue  # the value the score is read by (class, value, grade), None when unknown
    text: str  # e.g. "A (5 points)", "7", "grade 2", "cannot determine: missing INR"
    determined: bool
    missing: tuple[str, ...]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class StageView:
    key: str
    label: str
    stage: str | None
    text: str
    determined: bool
    missing: tuple[str, ...]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class CriterionView:
    """A transplant criterion's verdict: ``verdict`` is None when it cannot be determined."""

    key: str
    label: str
    verdict_key: str | None
    verdict: JsonValue
    text: str  # "within", "beyond", "eligible", "not eligible", "cannot determine", "points: 3"
    missing: tuple[str, ...]
    citations: tuple[str, ...]


@dataclass(frozen=True)
class BottomLine:
    """What a clinician reads first. ``overdue`` is None when it cannot be determined
    (``overdue_text`` then says what is missing); the ``more_*`` counts are what is not shown."""

    alert: AlertView | None
    more_alerts: int
    orders: tuple[OrderView, ...]
    more_orders: int
    overdue: tuple[OverdueView, ...] | None
    overdue_text: str
    scores: tuple[ScoreView, ...]
    stage: StageView | None


def code_label(value: str) -> str:
    """A code such as ``whole_spine_mri`` as words; any other text (``MRI whole spine``) as written."""
    return labels().key(value) if _CODE.fullmatch(value) else value


def _fmt(value: JsonValue) -> str:
    if isinstance(value, bool):
        return labels().word("yes" if value else "no")
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- readers


def alerts(assessment: Assessment) -> tuple[AlertView, ...]:
    return tuple(AlertView.of(a) for a in by_urgency(assessment.alerts))


def orders(assessment: Assessment) -> tuple[OrderView, ...]:
    return tuple(OrderView.of(w) for w in by_urgency(assessment.workup))


def overdue(assessment: Assessment) -> tuple[OverdueView, ...] | None:
    """The overdue surveillance tests; None when whether anything is overdue is unknown."""
    s = assessment.surveillance
    flag = s.get("overdue")
    if not isinstance(flag, bool):
        return None
    rows = s.get("next_due")
    out = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("overdue") is True:
            item = str(row.get("item"))
            due, last = row.get("due"), row.get("last_done")
            name = labels().key(item)
            out.append(
                OverdueView(
                    item,
                    name[:1].upper() + name[1:],
                    due if isinstance(due, str) else None,
                    last if isinstance(last, str) else None,
                )
            )
    return tuple(out)


def _main_value(key: str, f: Finding) -> JsonValue:
    for k in _MAIN_VALUE.get(key, ("value",)):
        if f.get(k) is not None:
            return f.get(k)
    return None


def score(key: str, f: Finding) -> ScoreView:
    words = labels().bottom_line
    value = _main_value(key, f)
    if value is None:
        text = _cannot(f.missing)
    elif key == "child_pugh":
        points = f.get("points")
        if points is not None:
            text = f"{_fmt(value)} ({words['points'].format(n=_fmt(points))})"
        else:  # the class can be certain while the points are not
            gap = short_missing(f.missing) or labels().word("cannot")
            text = f"{_fmt(value)}; {words['points_unknown'].format(gap=gap)}"
    elif key == "albi" and f.get("grade") is not None:
        text = words["grade"].format(n=_fmt(value))
    else:
        text = _fmt(value)
    return ScoreView(
        key, labels().key(key), value, text, f.determined and value is not None, f.missing, f.citations
    )


def scores(assessment: Assessment) -> tuple[ScoreView, ...]:
    return tuple(score(k, f) for k, f in assessment.scores.items())


def stage(key: str, f: Finding) -> StageView:
    value = f.get("stage")
    if value is None and key == "ajcc":
        value = f.get("group")
    known = value if isinstance(value, str) and f.determined else None
    text = _fmt(known) if known is not None else _cannot(f.missing)
    return StageView(key, labels().key(key), known, text, known is not None, f.missing, f.citations)


def stages(assessment: Assessment) -> tuple[StageView, ...]:
    return tuple(stage(k, f) for k, f in assessment.staging.items())


def criterion(key: str, f: Finding) -> CriterionView:
    verdict_key = "within" if "within" in f.values else next(iter(f.values), None)
    value = None if verdict_key is None else f.get(verdict_key)
    word = labels().word
    if value is None:
        text = word("cannot")
    elif verdict_key == "within" and isinstance(value, bool):
        text = word("within" if value else "beyond")
    elif verdict_key == "eligible" and isinstance(value, bool):
        text = word("eligible" if value else "not_eligible")
    else:
        text = ""  # the report shows other verdicts with its own value formatting
    return CriterionView(key, labels().title(key), verdict_key, value, text, f.missing, f.citations)


def criteria(assessment: Assessment) -> tuple[CriterionView, ...]:
    return tuple(criterion(k, f) for k, f in assessment.transplant.items())


def bottom_line(assessment: Assessment, max_orders: int = BOTTOM_LINE_ORDERS) -> BottomLine:
    all_alerts = alerts(assessment)
    all_orders = orders(assessment)
    late = overdue(assessment)
    s = assessment.surveillance
    overdue_text = _cannot(s.missing) if late is None else ""
    key_scores = tuple(score(k, assessment.scores[k]) for k in KEY_SCORES if k in assessment.scores)
    bclc = assessment.staging.get(KEY_STAGE)
    return BottomLine(
        alert=all_alerts[0] if all_alerts else None,
        more_alerts=max(len(all_alerts) - 1, 0),
        orders=all_orders[:max_orders],
        more_orders=max(len(all_orders) - max_orders, 0),
        overdue=late,
        overdue_text=overdue_text,
        scores=key_scores,
        stage=None if bclc is None else stage(KEY_STAGE, bclc),
    )
