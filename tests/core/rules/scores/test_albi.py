"""ALBI: reference vectors, the -0.085 coefficient, grade cut-offs, SI input and gaps."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hccwatch.core.finding import Finding, Trace
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.scores.albi import albi, albi_grade, albi_score, si_factor
from support import context, labs, record


def _trace() -> Trace:
    return Trace("test", default_knowledge())


def _albi(**values: Any) -> Finding:
    return albi(context(record(labs=labs("2026-11-01", **values))))


@pytest.mark.parametrize(
    ("bilirubin", "albumin", "score", "grade"),
    [
        # V9, published: cal57.calculator.city ALBI example (about -2.10) -> grade 2
        pytest.param((20.52, "µmol/L"), (35, "g/L"), -2.1090, 2, id="V9-cal57"),
        # V9b, computed: -2.5947 with -0.085 (grade 2); -0.0852 would give -2.6027 (grade 1)
        pytest.param((16.6, "µmol/L"), (40, "g/L"), -2.5947, 2, id="V9b-coefficient-flip"),
        # V9c, computed: -0.996 (reference, 3 dp; -0.99632 exactly) -> grade 3
        pytest.param((51.3, "µmol/L"), (25, "g/L"), -0.9963, 3, id="V9c"),
    ],
)
def test_reference_vectors(
    bilirubin: tuple[float, str], albumin: tuple[float, str], score: float, grade: int
) -> None:
    f = _albi(bilirubin=bilirubin, albumin=albumin)
    assert f["score"] == pytest.approx(score, abs=1e-4)
    assert (f["grade"], f.determined, f.missing) == (grade, True, ())
    assert "JOHNSON-2015" in f.citations
    assert f"grade {grade}" in f.explanation


def test_v9b_proves_the_published_coefficient() -> None:
    bili, alb = 16.6, 40.0
    wrong = 0.66 * math.log10(bili) - 0.0852 * alb
    assert wrong == pytest.approx(-2.6027, abs=1e-4)
    assert albi_grade(_trace(), wrong) == 1
    assert _albi(bilirubin=(bili, "µmol/L"), albumin=(alb, "g/L"))["grade"] == 2


@pytest.mark.parametrize(
    ("score", "grade"),
    [(-3.5, 1), (-2.60, 1), (-2.5999, 2), (-2.0, 2), (-1.39, 2), (-1.3899, 3), (0.5, 3)],
)
def test_grade_cut_offs(score: float, grade: int) -> None:
    # grade 1 <= -2.60 < grade 2 <= -1.39 < grade 3 (Johnson 2015)
    assert albi_grade(_trace(), score) == grade


def test_si_input_equals_canonical_input() -> None:
    si = _albi(bilirubin=(20.52, "µmol/L"), albumin=(35, "g/L"))
    us = _albi(bilirubin=1.2, albumin=3.5)
    assert (si["score"], si["grade"]) == (us["score"], us["grade"])


def test_conversion_factors_come_from_the_units_knowledge() -> None:
    t = _trace()
    assert si_factor(t, "units.bilirubin", "µmol/L") == 17.1
    assert si_factor(t, "units.albumin", "g/L") == 10
    assert albi_score(t, 1.2, 3.5) == pytest.approx(0.66 * math.log10(20.52) - 0.085 * 35)


def test_score_is_reported_to_four_decimals() -> None:
    score = _albi(bilirubin=1.3, albumin=3.7)["score"]
    assert isinstance(score, float) and round(score, 4) == score


@pytest.mark.parametrize(
    ("values", "missing"),
    [
        ({"albumin": 3.5}, ("labs.bilirubin",)),
        ({"bilirubin": 1.0}, ("labs.albumin",)),
        ({}, ("labs.bilirubin", "labs.albumin")),
    ],
)
def test_missing_inputs_give_null_and_name_them(values: dict[str, float], missing: tuple[str, ...]) -> None:
    f = _albi(**values)
    assert (f["score"], f["grade"], f.determined, f.missing) == (None, None, False, missing)


def test_zero_bilirubin_is_not_scored() -> None:
    f = _albi(bilirubin=0, albumin=3.5)
    assert (f["score"], f["grade"]) == (None, None)
    assert "logarithm" in f.explanation


@given(bilirubin=st.floats(0.05, 40), albumin=st.floats(0.5, 7.0))
def test_grade_matches_reported_score(bilirubin: float, albumin: float) -> None:
    f = _albi(bilirubin=bilirubin, albumin=albumin)
    score = f["score"]
    assert isinstance(score, float) and math.isfinite(score)
    assert f["grade"] == (1 if score <= -2.60 else 2 if score <= -1.39 else 3)
