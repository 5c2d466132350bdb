"""Terse record builders for the transplant-criteria tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hccwatch.core.finding import Finding
from hccwatch.core.rules.transplant import transplant_criteria
from support import AS_OF, context, labs, record

# Every absolute exclusion known to be absent (UNOS-DS also needs the growth pattern).
NO_SPREAD: dict[str, Any] = {
    "macrovascular_invasion": False,
    "extrahepatic_metastasis": False,
    "lymph_node_metastasis": False,
    "infiltrative": False,
}

# The criteria whose answer is "within" (the UNOS rules answer "eligible").
WITHIN_KEYS = (
    "milan",
    "ucsf",
    "up_to_seven",
    "metroticket_2",
    "afp_model",
    "hangzhou",
    "fudan",
    "kyoto",
    "five_five_500",
    "asan",
)


def tumours(*sizes: float | None, **fields: Any) -> list[dict[str, Any]]:
    return [{"size_cm": s, **fields} for s in sizes]


def criteria(
    sizes: tuple[float | None, ...] | None = None,
    *,
    afp: float | None = None,
    as_of: dt.date = AS_OF,
    **fields: Any,
) -> dict[str, Finding]:
    """All transplant findings for a record with no spread, the given tumour sizes and AFP."""
    data: dict[str, Any] = dict(NO_SPREAD)
    if sizes is not None:
        data["tumors"] = tumours(*sizes)
    if afp is not None:
        data["labs"] = labs(afp=afp)
    data.update(fields)
    return transplant_criteria(context(record(**data), as_of))
