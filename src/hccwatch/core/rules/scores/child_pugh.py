"""Child-Pugh score and class (Pugh 1973, INR version).

When bilirubin, albumin and INR (latest within the lab window), ascites and hepatic
encephalopathy are all known, then each item scores 1-3 points and the total (5-15) gives
class A (5-6), B (7-9) or C (10-15):

| item           | 1 point | 2 points                 | 3 points            |
|----------------|---------|--------------------------|---------------------|
| bilirubin      | < 2     | 2-3 mg/dL                | > 3                 |
| albumin        | > 3.5   | 2.8-3.5 g/dL             | < 2.8               |
| INR            | < 1.7   | 1.7-2.3                  | > 2.3               |
| ascites        | none    | mild                     | moderate-severe     |
| encephalopathy | none    | grade 1-2                | grade 3-4           |

When an item is unknown it is never scored as absent: the points are null, and the class is
given only when every possible value of the unknown items leads to the same class (12 known
points with ascites unknown is class C whatever the ascites). The gap is listed either way.

Sources: PUGH-1973 (the score), CCJM-CHILD-PUGH and MSD-2023-CTP (the INR table and the
2.8 g/dL albumin band); the tables that use albumin 3.0 or INR 2.2 are named in the
knowledge notes.
"""

from __future__ import annotations

from hccwatch.core.context import Context
from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.rules.scores.liver_common import latest_value, number_pair, number_table
from hccwatch.errors import KnowledgeError

__all__ = ["child_pugh", "class_for", "lab_points"]

# (test, band entry, unit shown, whether a higher value is worse)
_LABS: tuple[tuple[str, str, str, bool], ...] = (
    ("bilirubin", "child_pugh.bilirubin_mg_dl", " mg/dL", True),
    ("albumin", "child_pugh.albumin_g_dl", " g/dL", False),
    ("inr", "child_pugh.inr", "", True),
)
_LABEL = {
    "inr": "INR",
    "grade_1_2": "grade 1-2",
    "grade_3_4": "grade 3-4",
    "moderate_severe": "moderate-severe",
}
_CLINICAL: tuple[tuple[str, str], ...] = (
    ("ascites", "child_pugh.ascites_points"),
    ("encephalopathy", "child_pugh.encephalopathy_points"),
)


def _band_points(t: Trace) -> tuple[int, int, int]:
    match t.items("child_pugh.band_points"):
        case [int() as normal, int() as middle, int() as worst]:
            return normal, middle, worst
    raise KnowledgeError("child_pugh.band_points must be three integers")


def lab_points(t: Trace, test: str, value: float) -> int:
    """Points for one lab (canonical unit); the middle band includes both of its ends."""
    _, key, _, higher_is_worse = next(spec for spec in _LABS if spec[0] == test)
    low, high = number_pair(t, key)
    normal, middle, worst = _band_points(t)
    if higher_is_worse:
        return normal if value < low else middle if value <= high else worst
    return normal if value > high else middle if value >= low else worst


def class_for(t: Trace, points: int) -> str:
    """The class whose lowest score is the highest one not above ``points``."""
    minimums = number_table(t, "child_pugh.class_min_points")
    reached = [name for name, low in sorted(minimums.items(), key=lambda kv: kv[1]) if points >= low]
    if not reached:
        raise ValueError(f"{points} Child-Pugh points is below the lowest possible score")
    return reached[-1]


def child_pugh(ctx: Context) -> Finding:
    t = ctx.trace("scores.child_pugh")
    components: dict[str, int | None] = {}
    possible: dict[str, list[int]] = {}
    described: list[str] = []
    for test, _key, unit, _ in _LABS:
        value = latest_value(ctx, t, test)
        possible[test] = list(_band_points(t))
        components[test] = None if value is None else lab_points(t, test, value)
        if value is not None:
            described.append(f"{_LABEL.get(test, test)} {value:g}{unit} ({components[test]})")
    for item, key in _CLINICAL:
        table = {grade: int(p) for grade, p in number_table(t, key).items()}
        possible[item] = sorted(set(table.values()))
        grade = getattr(ctx.record.liver, item)
        if grade is None:
            t.need(f"liver.{item}")
            components[item] = None
        else:
            t.used(f"liver.{item}", grade)
            components[item] = table[grade]
            described.append(f"{item} {_LABEL.get(grade, grade)} ({table[grade]})")

    unknown = [name for name, p in components.items() if p is None]
    known = sum(p for p in components.values() if p is not None)
    lowest = known + sum(min(possible[name]) for name in unknown)
    highest = known + sum(max(possible[name]) for name in unknown)
    low_class, high_class = class_for(t, lowest), class_for(t, highest)
    cls = low_class if low_class == high_class else None
    values: dict[str, JsonValue] = {
        "points": None if unknown else known,
        "class": cls,
        "components": dict(components),
    }
    items = "; ".join(described)
    if not unknown:
        return t.finish(values, f"Child-Pugh {known} points, class {cls}: {items}.", determined=True)
    gaps = f"{' and '.join(_LABEL.get(n, n) for n in unknown)} {'is' if len(unknown) == 1 else 'are'} unknown"
    reach = f"the known items give {known} points, so the total lies between {lowest} and {highest}"
    if cls is not None:
        text = f"Child-Pugh class {cls} although {gaps}: {reach}, class {cls} in every case."
        return t.finish(values, f"{text} Known: {items}.", determined=True)
    text = (
        f"Cannot determine Child-Pugh: {gaps} (never assumed absent); {reach} "
        f"(class {low_class} to {high_class})."
    )
    return t.finish(values, f"{text} Known: {items or 'nothing'}.", determined=False)
