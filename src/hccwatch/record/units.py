"""Lab units: which spellings mean which unit, and conversion to the canonical unit.

The conversion factors and the plausibility bounds are knowledge entries (``units.<test>``,
``plausibility.<test>``), each with its source; this module only knows how to spell units.
Canonical units: AFP ng/mL, bilirubin mg/dL, albumin g/dL, creatinine mg/dL, sodium mmol/L,
platelets 10^9/L, INR unitless, DCP mAU/mL, AFP-L3 %.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hccwatch.core.knowledge import JsonValue, Knowledge, default_knowledge
from hccwatch.errors import KnowledgeError, UnitError

__all__ = ["LAB_TESTS", "CanonicalValue", "canonical_unit", "normalise_unit_spelling", "to_canonical"]

LAB_TESTS = ("afp", "bilirubin", "albumin", "inr", "creatinine", "sodium", "platelets", "dcp", "afp_l3")

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


@dataclass(frozen=True)
class CanonicalValue:
    """A lab value in the unit the rules use."""

    value: float
    unit: str


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
        raise UnitError(f"unit {unit!r} is not accepted for {test} (accepted: {hint})") from None


def canonical_unit(test: str, knowledge: Knowledge | None = None) -> str:
    """The unit every rule sees for ``test``."""
    k = knowledge or default_knowledge()
    table = _table(k, test)
    return str(table["canonical"])


def _table(k: Knowledge, test: str) -> Mapping[str, JsonValue]:
    value = k.entry(f"units.{test}").value
    if not isinstance(value, dict):
        raise KnowledgeError(f"units.{test} must be a table")
    return value


def to_canonical(
    test: str, value: float, unit: str | None, knowledge: Knowledge | None = None
) -> CanonicalValue:
    """Convert ``value`` in ``unit`` to the canonical unit of ``test``.

    Units whose conversion is assay-specific (DCP in ng/mL) keep their own unit, so a
    rule can tell them apart instead of mixing them.
    """
    k = knowledge or default_knowledge()
    spelled = normalise_unit_spelling(test, unit)
    table = _table(k, test)
    convert = table["convert"]
    if not isinstance(convert, dict) or spelled not in convert:
        raise UnitError(f"unit {unit!r} for {test} has no conversion in the knowledge base")
    rule = convert[spelled]
    if not isinstance(rule, list) or len(rule) != 2:  # noqa: PLR2004 (shape of a [how, factor] pair)
        raise KnowledgeError(f"units.{test}.convert.{spelled} must be [how, factor]")
    how, factor = rule
    if not isinstance(factor, int | float):
        raise KnowledgeError(f"units.{test}.convert.{spelled}: factor must be a number")
    if how == "multiply":
        return CanonicalValue(value * float(factor), str(table["canonical"]))
    if how == "divide":
        return CanonicalValue(value / float(factor), str(table["canonical"]))
    if how == "keep":
        return CanonicalValue(value, spelled)
    raise KnowledgeError(f"units.{test}.convert.{spelled}: unknown conversion {how!r}")
