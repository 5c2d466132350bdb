"""Helpers of the liver scores: half-up rounding, typed knowledge readers, conversion-noise removal."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.scores.liver_common import clamp, half_up, latest_value, number_pair, number_table
from hccwatch.errors import KnowledgeError
from support import context, labs, record


def _trace() -> Trace:
    return Trace("test", default_knowledge())


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (24.5, 0, Decimal(25)),  # Python's round() gives 24 (banker's rounding)
        (6.5, 0, Decimal(7)),
        (2.45, 1, Decimal("2.5")),  # the float 2.45 is 2.4500000000000001776; repr keeps it "2.45"
        (0.15, 1, Decimal("0.2")),  # the float 0.15 is 0.1499999999999999944
        (-2.60005, 4, Decimal("-2.6001")),
    ],
)
def test_half_up(value: float, places: int, expected: Decimal) -> None:
    assert half_up(value, places) == expected


def test_number_readers() -> None:
    t = _trace()
    assert number_pair(t, "meld_na.sodium_bounds_mmol_l") == (125.0, 137.0)
    assert number_table(t, "meld.coefficients")["constant"] == 0.643
    with pytest.raises(KnowledgeError, match="low, high"):
        number_pair(t, "child_pugh.band_points")
    with pytest.raises(KnowledgeError, match="not a number"):
        number_table(t, "units.bilirubin")


def test_clamp() -> None:
    assert [clamp(x, (125, 137)) for x in (120, 130, 140)] == [125, 130, 137]


def test_latest_value_strips_conversion_noise() -> None:
    # 265.2 µmol/L / 88.4 is 2.9999999999999996 in floating point; the rules must see 3.0.
    ctx = context(record(labs=labs(creatinine=(265.2, "µmol/L"))))
    t = ctx.trace("test")
    assert latest_value(ctx, t, "creatinine") == 3.0
    assert latest_value(ctx, t, "sodium") is None
    assert t.missing == ("labs.sodium",)
