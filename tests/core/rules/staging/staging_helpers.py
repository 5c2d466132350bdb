"""Inputs shared by the staging tests (BCLC, CNLC, AJCC), built without the other rules."""

from __future__ import annotations

from typing import Any

from hccwatch.core.finding import Finding

FIT = {
    "ecog": 0,
    "macrovascular_invasion": False,
    "extrahepatic_metastasis": False,
    "tumors_assessed_on": "2026-10-01",
}


def cp(cls: str | None = "A", points: int | None = 5) -> Finding:
    """A Child-Pugh finding built directly, independent of the scores rule."""
    return Finding(
        rule="scores.child_pugh",
        values={"points": points, "class": cls},
        determined=cls is not None,
        explanation="",
    )


def sizes(*cm: float | None) -> list[dict[str, Any]]:
    """Tumours of the given sizes (None: size unknown)."""
    return [{} if s is None else {"size_cm": s} for s in cm]
