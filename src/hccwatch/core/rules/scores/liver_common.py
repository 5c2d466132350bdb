"""Helpers shared by the liver-function scores (Child-Pugh, MELD family, ALBI).

Typed readers for knowledge tables, OPTN-style rounding (half up, never Python's banker's
rounding) and lab look-ups that strip unit-conversion noise before a value meets a cut-off.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from hccwatch.core.context import Context
from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import JsonValue
from hccwatch.core.memo import Memo
from hccwatch.errors import KnowledgeError

__all__ = ["clamp", "half_up", "latest_value", "number_pair", "number_table"]


def half_up(value: float | int | Decimal, places: int = 0) -> Decimal:
    """``value`` rounded half up to ``places`` decimals.

    A float enters through its shortest repr, so 2.45 rounds to 2.5 as a reader expects.
    """
    # Keyed by type too: 2 and 2.0 are equal keys but enter as different decimals.
    return _ROUNDED.get((value, places, type(value)), lambda: _half_up(value, places))


def _half_up(value: float | int | Decimal, places: int) -> Decimal:
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# Pure, and the same lab values and scores recur record after record (Decimal is immutable).
_ROUNDED: Memo[Decimal] = Memo()


def number_table(t: Trace, key: str) -> Mapping[str, float]:
    """A knowledge table whose every value is a number (coefficients, points by category)."""
    raw = t.table(key)
    held, numbers = _TABLES.get((key, id(raw)), lambda: (raw, _number_table(raw, key)))
    return numbers if held is raw else _number_table(raw, key)


def _number_table(raw: Mapping[str, JsonValue], key: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise KnowledgeError(f"knowledge entry {key!r}: {name} is not a number")
        out[name] = float(value)
    return out


def number_pair(t: Trace, key: str) -> tuple[float, float]:
    """A knowledge ``[low, high]`` pair (bounds, a middle band, grade cut-offs)."""
    raw = t.items(key)
    held, pair = _PAIRS.get((key, id(raw)), lambda: (raw, _number_pair(raw, key)))
    return pair if held is raw else _number_pair(raw, key)


def _number_pair(raw: list[JsonValue], key: str) -> tuple[float, float]:
    match raw:
        case [int() | float() as low, int() | float() as high] if (
            not isinstance(low, bool) and not isinstance(high, bool) and low <= high
        ):
            return float(low), float(high)
    raise KnowledgeError(f"knowledge entry {key!r} must be [low, high] numbers, low first")


# Read and checked once per knowledge base (the scores read some ten per assessment): told apart by
# the identity of the knowledge value (immutable by convention), checked on a hit. The tables are
# handed out shared, hence read-only (``Mapping``).
_TABLES: Memo[tuple[object, Mapping[str, float]]] = Memo()
_PAIRS: Memo[tuple[object, tuple[float, float]]] = Memo()


def clamp(value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    return min(max(value, low), high)


def latest_value(ctx: Context, t: Trace, test: str) -> float | None:
    """The latest ``test`` in canonical units (recorded as an input), or None (recorded as missing)."""
    lab = ctx.latest_lab(t, test)
    if lab is None:
        return None
    places = int(t.num("liver_scores.lab_decimals"))
    # Rounded once per assessment (the scores ask for the same few labs some fifteen times),
    # kept with the lab it was rounded from.
    key = ("liver_common.latest_value", test, places)
    kept: tuple[object, float] | None = ctx.shared.get(key)
    if kept is not None and kept[0] is lab:
        return kept[1]
    value = float(half_up(lab.canonical.value, places))
    ctx.shared[key] = (lab, value)
    return value
