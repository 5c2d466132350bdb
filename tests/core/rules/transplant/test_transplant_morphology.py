"""Milan, UCSF, Shanghai Fudan, Asan and up-to-seven at their boundaries.

Bounds are inclusive (clinical-scores.md 1.2); each case sits on or just past one edge.
"""

from __future__ import annotations

import pytest
from transplant_support import criteria

# (criterion, sizes in cm, within)
BOUNDARIES = [
    # Milan (MAZZAFERRO-1996): single <= 5; 2-3 nodules each <= 3
    ("milan", (5.0,), True),
    ("milan", (5.1,), False),
    ("milan", (3.0, 3.0, 3.0), True),
    ("milan", (3.1, 2.0), False),
    ("milan", (2.0, 2.0), True),
    ("milan", (1.0, 1.0, 1.0, 1.0), False),
    # UCSF (YAO-2001): single <= 6.5; 2-3 nodules <= 4.5 with total <= 8
    ("ucsf", (6.5,), True),
    ("ucsf", (6.6,), False),
    ("ucsf", (4.5, 2.0, 1.5), True),
    ("ucsf", (4.5, 2.0, 1.6), False),
    ("ucsf", (4.6, 1.0), False),
    ("ucsf", (2.0, 2.0, 2.0, 2.0), False),
    # Shanghai Fudan (FAN-2009): single <= 9; <= 3 nodules <= 5 with total <= 9
    ("fudan", (9.0,), True),
    ("fudan", (9.1,), False),
    ("fudan", (5.0, 3.0, 1.0), True),
    ("fudan", (5.0, 3.0, 1.1), False),
    ("fudan", (5.1, 1.0), False),
    ("fudan", (1.0, 1.0, 1.0, 1.0), False),
    # Asan (Lee 2008, read in PAVEL-2018 Table 1): <= 6 nodules, each <= 5
    ("asan", (5.0,) * 6, True),
    ("asan", (1.0,) * 7, False),
    ("asan", (5.1,), False),
    # Up-to-seven (MAZZAFERRO-2009): largest + number <= 7
    ("up_to_seven", (6.0,), True),
    ("up_to_seven", (6.1,), False),
    ("up_to_seven", (4.0, 2.0, 2.0), True),
    ("up_to_seven", (4.5, 1.0, 1.0), False),
    ("up_to_seven", (2.0, 1.0, 1.0, 1.0, 1.0), True),
]


@pytest.mark.parametrize(
    ("key", "sizes", "within"),
    BOUNDARIES,
    ids=[f"{k}-{'+'.join(f'{s:g}' for s in sizes)}cm" for k, sizes, _ in BOUNDARIES],
)
def test_boundaries(key: str, sizes: tuple[float, ...], within: bool) -> None:
    finding = criteria(sizes)[key]
    assert finding["within"] is within
    assert finding.determined
    assert finding["nodules"] == len(sizes)
    assert ("Within" if within else "Beyond") in finding.explanation


def test_explanation_gives_the_numbers_and_the_rule() -> None:
    text = criteria((3.0, 3.0, 3.0))["ucsf"].explanation
    assert text.startswith("Beyond UCSF")
    assert "total 9 cm" in text and "≤ 8 cm" in text


def test_up_to_seven_reports_its_sum() -> None:
    finding = criteria((4.0, 2.0, 1.0))["up_to_seven"]
    assert finding["sum"] == 7.0
    assert "= 7 (must be ≤ 7)" in finding.explanation


def test_no_viable_tumour_is_within() -> None:
    # After complete necrosis nothing is counted (AASLD-2023): every size criterion is met.
    found = criteria(
        tumors=[{"size_cm": 4.0, "viable": False}], treatments=[{"type": "ablation", "date": "2026-09-01"}]
    )
    assert found["milan"]["within"] is True
    assert found["milan"]["nodules"] == 0
    assert "no viable nodule" in found["milan"].explanation
