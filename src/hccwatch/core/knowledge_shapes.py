"""Shapes of knowledge values, checked when the knowledge base is loaded.

A rule reads an entry with ``num``, ``table`` or ``items`` in the middle of an assessment; a
malformed value found there would fail one patient's report instead of the release. So the
shapes a rule relies on are checked at load, by conventions the TOML already follows (no
extra key in the files):

- every value is JSON-shaped (no TOML dates), every number finite, nesting shallow;
- a key (an entry's last name or a key inside a table) that ends in a unit or count suffix
  (``_cm``, ``_ng_ml``, ``_months``, ``_points``, ``_decimals``...) or is a band bound
  (``min``, ``upto``, ``points``, ``scale``...) holds a number, a list of numbers or a band
  table;
- an entry with a ``unit`` holds numbers, not text or true/false;
- a band table (a list of tables) keeps each column one kind (number, text or true/false),
  its bounds (``min``/``above``/``upto``) strictly increase, and only its last row may be
  open (without a bound);
- ``units.<test>`` is ``{canonical, convert = {unit = [multiply|divide|keep, factor > 0]}}``;
- ``plausibility.<name>`` is ``[low, high]`` with low <= high.
"""

from __future__ import annotations

import math
from typing import Any

from hccwatch.errors import KnowledgeError

__all__ = ["check_value"]

_UNIT_SUFFIXES = (
    "_cm",
    "_mm",
    "_ng_ml",
    "_mg_dl",
    "_g_dl",
    "_g_l",
    "_mmol_l",
    "_umol_l",
    "_mau_ml",
    "_days",
    "_weeks",
    "_months",
    "_month",
    "_years",
    "_hours",
    "_percent",
    # counts
    "_decimals",
    "_points",
)
_BOUND_KEYS = frozenset({"min", "max", "above", "below", "upto", "points", "max_sum", "max_nodules", "scale"})
# Columns whose values order the rows of a band table.
_ORDER_KEYS = ("min", "above", "upto")
_MAX_DEPTH = 8
_CONVERSIONS = frozenset({"multiply", "divide", "keep"})


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _kind(v: Any) -> str:
    if isinstance(v, bool):
        return "true/false"
    if _is_number(v):
        return "number"
    if isinstance(v, str):
        return "text"
    if isinstance(v, list):
        return "list"
    return "table"


def _numeric_name(name: str) -> bool:
    return name in _BOUND_KEYS or name.endswith(_UNIT_SUFFIXES)


def _json_shaped(where: str, v: Any, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise KnowledgeError(f"{where}: nested more than {_MAX_DEPTH} levels")
    if isinstance(v, bool | str):
        return
    if _is_number(v):
        if isinstance(v, float) and not math.isfinite(v):
            raise KnowledgeError(f"{where}: {v} is not a finite number")
        return
    if isinstance(v, list):
        for i, item in enumerate(v):
            _json_shaped(f"{where}[{i}]", item, depth + 1)
        return
    if isinstance(v, dict):
        for name, item in v.items():
            if _numeric_name(str(name)) and not (_is_number(item) or _numbers(item)):
                raise KnowledgeError(f"{where}.{name}: expected a number, got {_kind(item)}")
            _json_shaped(f"{where}.{name}", item, depth + 1)
        return
    raise KnowledgeError(f"{where}: a {type(v).__name__} is not a knowledge value")


def _numbers(v: Any) -> bool:
    return isinstance(v, list) and all(_is_number(x) for x in v)


def _band_table(where: str, rows: list[Any]) -> None:
    if not rows or not all(isinstance(r, dict) for r in rows):
        return
    kinds: dict[str, tuple[str, int]] = {}
    for i, row in enumerate(rows):
        for name, item in row.items():
            first = kinds.setdefault(name, (_kind(item), i))
            if first[0] != _kind(item):
                raise KnowledgeError(
                    f"{where}[{i}].{name}: a {_kind(item)} where row {first[1]} has a {first[0]}"
                )
    if not any(key in kinds for key in _ORDER_KEYS):
        return
    previous: float | None = None
    for i, row in enumerate(rows):
        bound = next((row[key] for key in _ORDER_KEYS if key in row), None)
        if bound is None:
            if i != len(rows) - 1:
                raise KnowledgeError(f"{where}[{i}]: only the last band may be open (without a bound)")
            continue
        if previous is not None and not bound > previous:
            raise KnowledgeError(
                f"{where}[{i}]: bands must be in increasing order ({bound} after {previous})"
            )
        previous = float(bound)


def _units(where: str, v: Any) -> None:
    if (
        not isinstance(v, dict)
        or not isinstance(v.get("canonical"), str)
        or not isinstance(v.get("convert"), dict)
    ):
        raise KnowledgeError(f"{where}: expected {{canonical = unit, convert = {{...}}}}")
    for unit, rule in v["convert"].items():
        ok = (
            isinstance(rule, list)
            and len(rule) == 2  # noqa: PLR2004 (a [how, factor] pair)
            and rule[0] in _CONVERSIONS
            and _is_number(rule[1])
            and rule[1] > 0
        )
        if not ok:
            raise KnowledgeError(f"{where}.convert.{unit}: expected [multiply|divide|keep, factor > 0]")


def _bounds(where: str, v: Any) -> None:
    if not (_numbers(v) and len(v) == 2 and v[0] <= v[1]):  # noqa: PLR2004 (a [low, high] pair)
        raise KnowledgeError(f"{where}: expected [low, high] with low <= high")


def check_value(key: str, value: Any, unit: str | None, source: str) -> None:
    """Raise :class:`KnowledgeError` naming ``source`` and ``key`` if ``value`` is malformed."""
    where = f"{source}: entry {key!r}"
    _json_shaped(where, value)
    name = key.rsplit(".", 1)[-1]
    if _numeric_name(name) and not isinstance(value, dict | list) and not _is_number(value):
        raise KnowledgeError(f"{where}: expected a number, got {_kind(value)}")
    if (
        isinstance(value, list)
        and _numeric_name(name)
        and not all(_is_number(x) or isinstance(x, dict) for x in value)
    ):
        raise KnowledgeError(f"{where}: expected numbers or band tables")
    if unit is not None and isinstance(value, str | bool):
        raise KnowledgeError(f"{where}: has a unit ({unit}) but holds {_kind(value)}, not a number")
    if isinstance(value, list):
        _band_table(where, value)
    if key.startswith("units."):
        _units(where, value)
    elif key.startswith("plausibility."):
        _bounds(where, value)
