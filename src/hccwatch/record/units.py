"""Lab units: which spellings mean which unit, and conversion to the canonical unit.

The conversion factors and the plausibility bounds are knowledge entries (``units.<test>``,
``plausibility.<test>``), each with its source; this module only knows how to spell units.
Canonical units: AFP ng/mL, bilirubin mg/dL, albumin g/dL, creatinine mg/dL, sodium mmol/L,
platelets 10^9/L, INR unitless, DCP mAU/mL, AFP-L3 %.

The entries are read once per knowledge base into :class:`BoundaryTables` (a record with
many labs must not walk the knowledge base per lab), and always from the knowledge base the
caller names, so a pinned knowledge version converts with its own factors.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from hccwatch.core.knowledge import Knowledge, default_knowledge
from hccwatch.errors import KnowledgeError, UnitError

__all__ = [
    "LAB_TESTS",
    "accepted_units",
    "BoundaryTables",
    "CanonicalValue",
    "Range",
    "boundary_tables",
    "canonical_unit",
    "normalise_unit_spelling",
    "to_canonical",
]

LAB_TESTS = ("afp", "bilirubin", "albumin", "inr", "creatinine", "sodium", "platelets", "dcp", "afp_l3")

# Plausibility entries that are not lab tests, read by the record model.
RANGE_KEYS = ("tumor_size_cm", "age_years", "lesion_count")
DATE_YEARS_KEY = "plausibility.date_years"

# Spellings seen in EHR exports and FHIR (UCUM) mapped to one display form per unit.
# Lookup is per test, so "g/l" can mean grams (albumin) or giga (platelets) without clashing.
_SPELLINGS: dict[str, dict[str, str]] = {
    "afp": {
        "ng/ml": "ng/mL",
        "µg/l": "µg/L",
        "ug/l": "µg/L",
        "mcg/l": "µg/L",
        "iu/ml": "IU/mL",
        "[iu]/ml": "IU/mL",
        "kiu/l": "kU/L",
        "ku/l": "kU/L",
        "k[iu]/l": "kU/L",
    },
    "bilirubin": {"mg/dl": "mg/dL", "µmol/l": "µmol/L", "umol/l": "µmol/L"},
    "creatinine": {"mg/dl": "mg/dL", "µmol/l": "µmol/L", "umol/l": "µmol/L"},
    "albumin": {"g/dl": "g/dL", "g/l": "g/L"},
    "sodium": {"mmol/l": "mmol/L", "meq/l": "mEq/L"},
    "platelets": {
        "10^9/l": "10^9/L",
        "10*9/l": "10^9/L",
        "x10^9/l": "10^9/L",
        "×10^9/l": "10^9/L",
        "g/l": "10^9/L",
        "10^3/µl": "10^3/µL",
        "10*3/µl": "10^3/µL",
        "10^3/ul": "10^3/µL",
        "10*3/ul": "10^3/µL",
        "x10^3/µl": "10^3/µL",
        "x10^3/ul": "10^3/µL",
        "k/µl": "10^3/µL",
        "k/ul": "10^3/µL",
    },
    "inr": {"": "1", "1": "1", "{inr}": "1", "{ratio}": "1", "ratio": "1", "inr": "1"},
    "dcp": {"mau/ml": "mAU/mL", "ng/ml": "ng/mL"},
    "afp_l3": {"%": "%"},
}

# A unit string longer than this is not a unit; it is echoed shortened.
_MAX_UNIT_ECHO = 40
# Conversion rules remembered per knowledge base, (test, unit as written) each.
_MAX_RULES = 1024


@dataclass(frozen=True)
class CanonicalValue:
    """A lab value in the unit the rules use."""

    value: float
    unit: str


@dataclass(frozen=True)
class Range:
    """Plausible bounds ``[low, high]`` of one quantity, in ``unit`` (may be empty)."""

    key: str
    low: float
    high: float
    unit: str

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit and self.unit != "1" else ""
        return f"{self.low:g}-{self.high:g}{unit}"


@dataclass(frozen=True)
class _Conversion:
    how: str
    factor: float


@dataclass(frozen=True)
class BoundaryTables:
    """Everything the record boundary reads from one knowledge base, resolved once."""

    knowledge: Knowledge
    canonical: Mapping[str, str]
    conversions: Mapping[str, Mapping[str, _Conversion]]
    ranges: Mapping[str, Range]
    first_date: dt.date
    last_date: dt.date
    profile_ids: tuple[str, ...]
    # (test, unit as written) -> (how, factor, unit of the result): a record writes the same
    # few units on all its labs, so the spelling and the conversion rule are looked up once.
    _rules: dict[tuple[str, str | None], tuple[str, float, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def range(self, key: str) -> Range:
        try:
            return self.ranges[key]
        except KeyError:
            raise KnowledgeError(f"knowledge entry 'plausibility.{key}' does not exist") from None

    def convert(self, test: str, value: float, unit: str | None) -> CanonicalValue:
        """``value`` in ``unit`` converted to the canonical unit of ``test`` (see :func:`to_canonical`).

        Raises:
            UnitError: the test is unknown, or the unit is not accepted or has no conversion.
        """
        rule = self._rules.get((test, unit))
        if rule is None:
            rule = self._rule(test, unit)
            # Bounded: every distinct spelling (" ng/mL", "NG/ML"...) of hostile input is a key.
            if len(self._rules) < _MAX_RULES:
                self._rules[(test, unit)] = rule
        how, factor, result_unit = rule
        if how == "multiply":
            return CanonicalValue(value * factor, result_unit)
        if how == "divide":
            return CanonicalValue(value / factor, result_unit)
        return CanonicalValue(value, result_unit)

    def _rule(self, test: str, unit: str | None) -> tuple[str, float, str]:
        spelled = normalise_unit_spelling(test, unit)
        rule = self.conversions[test].get(spelled)
        if rule is None:
            shown = "no unit" if unit is None else f"unit {_echo_unit(unit)}"
            raise UnitError(f"{shown} for {test} has no conversion in the knowledge base")
        if rule.how in ("multiply", "divide"):
            return rule.how, rule.factor, self.canonical[test]
        return rule.how, rule.factor, spelled


def _number(key: str, raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise KnowledgeError(f"knowledge entry {key!r}: {raw!r} is not a number")
    return float(raw)


def _range(k: Knowledge, name: str) -> Range:
    key = f"plausibility.{name}"
    entry = k.entry(key)
    bounds = entry.value
    if not isinstance(bounds, list) or len(bounds) != 2:  # noqa: PLR2004 (a [low, high] pair)
        raise KnowledgeError(f"knowledge entry {key!r} must be [low, high]")
    low, high = _number(key, bounds[0]), _number(key, bounds[1])
    if low > high:
        raise KnowledgeError(f"knowledge entry {key!r}: low {low:g} is above high {high:g}")
    return Range(key=name, low=low, high=high, unit=entry.unit or "")


def _units(k: Knowledge, test: str) -> tuple[str, dict[str, _Conversion]]:
    key = f"units.{test}"
    table = k.entry(key).value
    if not isinstance(table, dict) or not isinstance(table.get("canonical"), str):
        raise KnowledgeError(f"knowledge entry {key!r} must be a table with a canonical unit")
    convert = table.get("convert")
    if not isinstance(convert, dict):
        raise KnowledgeError(f"knowledge entry {key!r} needs a convert table")
    out: dict[str, _Conversion] = {}
    for unit, rule in convert.items():
        if not isinstance(rule, list) or len(rule) != 2 or rule[0] not in {"multiply", "divide", "keep"}:  # noqa: PLR2004
            raise KnowledgeError(f"{key}.convert.{unit} must be [multiply|divide|keep, factor]")
        factor = _number(f"{key}.convert.{unit}", rule[1])
        if not factor > 0:
            raise KnowledgeError(f"{key}.convert.{unit}: factor must be positive")
        out[unit] = _Conversion(str(rule[0]), factor)
    return str(table["canonical"]), out


def _build(k: Knowledge) -> BoundaryTables:
    canonical: dict[str, str] = {}
    conversions: dict[str, dict[str, _Conversion]] = {}
    for test in LAB_TESTS:
        canonical[test], conversions[test] = _units(k, test)
    ranges = {name: _range(k, name) for name in (*LAB_TESTS, *RANGE_KEYS)}
    years = _range(k, DATE_YEARS_KEY.removeprefix("plausibility."))
    if not (dt.MINYEAR <= years.low <= years.high <= dt.MAXYEAR) or not (
        years.low.is_integer() and years.high.is_integer()
    ):
        raise KnowledgeError(f"knowledge entry {DATE_YEARS_KEY!r} must be two whole years")
    ids = k.entry("surveillance.profile_ids").value
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise KnowledgeError("knowledge entry 'surveillance.profile_ids' must be a list of ids")
    return BoundaryTables(
        knowledge=k,
        canonical=canonical,
        conversions=conversions,
        ranges=ranges,
        first_date=dt.date(int(years.low), 1, 1),
        last_date=dt.date(int(years.high), 12, 31),
        profile_ids=tuple(str(i) for i in ids),
    )


# Keyed by id(); the value holds the Knowledge itself, so an id cannot be reused while cached.
# A handful of knowledge bases at most live in one process (the packaged one, pinned versions).
_CACHE: dict[int, BoundaryTables] = {}
_CACHE_SIZE = 8
_LOCK = threading.Lock()


def boundary_tables(knowledge: Knowledge | None = None) -> BoundaryTables:
    """The unit, plausibility and date tables of ``knowledge`` (default: the packaged one)."""
    k = knowledge if knowledge is not None else default_knowledge()
    cached = _CACHE.get(id(k))
    if cached is not None and cached.knowledge is k:
        return cached
    tables = _build(k)
    with _LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[id(k)] = tables
    return tables


def _echo_unit(unit: str) -> str:
    return repr(unit if len(unit) <= _MAX_UNIT_ECHO else unit[:_MAX_UNIT_ECHO] + "...")


def normalise_unit_spelling(test: str, unit: str | None) -> str:
    """The display form of ``unit`` for ``test``; raises :class:`UnitError` if unknown."""
    spellings = _SPELLINGS.get(test)
    if spellings is None:
        raise UnitError(f"unknown lab test {test!r}; known: {', '.join(LAB_TESTS)}")
    key = (unit or "").strip().replace(" ", "").replace("μ", "µ").lower()
    try:
        return spellings[key]
    except KeyError:
        accepted = sorted({v for v in spellings.values() if v != "1"} or {"1"})
        hint = "no unit or '1'" if test == "inr" else ", ".join(accepted)
        if unit is None or not unit.strip():
            raise UnitError(f"no unit given for {test} (accepted: {hint})") from None
        raise UnitError(f"unit {_echo_unit(unit)} is not accepted for {test} (accepted: {hint})") from None


def accepted_units(test: str, knowledge: Knowledge | None = None) -> tuple[str, ...]:
    """The units a record accepts for ``test`` (one display form each, canonical first): those
    spelled here that the knowledge base converts. Forms offer exactly this list."""
    try:
        spelled = set(_SPELLINGS[test].values())
        return tuple(unit for unit in boundary_tables(knowledge).conversions[test] if unit in spelled)
    except KeyError:
        raise UnitError(f"unknown lab test {test!r}; known: {', '.join(LAB_TESTS)}") from None


def canonical_unit(test: str, knowledge: Knowledge | None = None) -> str:
    """The unit every rule sees for ``test``."""
    try:
        return boundary_tables(knowledge).canonical[test]
    except KeyError:
        raise UnitError(f"unknown lab test {test!r}; known: {', '.join(LAB_TESTS)}") from None


def to_canonical(
    test: str, value: float, unit: str | None, knowledge: Knowledge | None = None
) -> CanonicalValue:
    """Convert ``value`` in ``unit`` to the canonical unit of ``test``.

    Units whose conversion is assay-specific (DCP in ng/mL) keep their own unit, so a
    rule can tell them apart instead of mixing them.
    """
    return boundary_tables(knowledge).convert(test, value, unit)
