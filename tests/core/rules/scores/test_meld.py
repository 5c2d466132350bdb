"""MELD (OPTN), MELD-Na (OPTN 2016) and MELD 3.0: reference vectors, bounds, rounding, gaps."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hccwatch.core.context import Context
from hccwatch.core.finding import Trace
from hccwatch.core.knowledge import default_knowledge
from hccwatch.core.rules.scores.meld import meld, meld_3, meld_3_value, meld_i, meld_na, meld_na_value, score
from support import context, labs, record

NO_DIALYSIS = {"dialysis_twice_past_week": False, "cvvhd_24h_past_week": False}


def _trace() -> Trace:
    return Trace("test", default_knowledge())


def _ctx(
    liver: dict[str, Any] | None = None, sex: str | None = "male", age: int | None = 60, **values: Any
) -> Context:
    return context(
        record(
            sex=sex, age=age, liver=NO_DIALYSIS if liver is None else liver, labs=labs("2026-11-01", **values)
        )
    )


def _meld_int(bilirubin: float, inr: float, creatinine: float, dialysis: bool = False) -> int:
    t = _trace()
    return score(t, meld_i(t, bilirubin, inr, creatinine, dialysis=dialysis), version="meld")


def _kim_2008(meld_unrounded: float, sodium: float) -> float:
    """The published Kim 2008 NEJM MELD-Na (Na 125-140), which hccwatch must NOT implement."""
    na = min(max(sodium, 125), 140)
    return meld_unrounded - na - 0.025 * meld_unrounded * (140 - na) + 140


# --- MELD (OPTN) ----------------------------------------------------------------------------------


def test_v1_transplantr_unrounded_and_optn_rounded() -> None:
    # V1, published: johnasher/transplantr tests/testthat/test_liver.R gives the unrounded 24.798;
    # OPTN rounding (tenth, x10) gives 25.
    t = _trace()
    unrounded = meld_i(t, 54 / 17.1, 2.0, 170 / 88.4)
    assert unrounded == pytest.approx(24.798, abs=1e-3)
    assert score(t, unrounded, version="meld") == 25


@pytest.mark.parametrize(
    ("bilirubin", "inr", "creatinine", "dialysis", "expected"),
    [
        pytest.param(1.9, 1.2, 1.3, False, 13, id="V2-calculatorlib-13.41"),
        pytest.param(0.8, 0.8, 0.8, False, 6, id="V3-computed-floors-6.43"),
        pytest.param(1.0, 1.0, 0.8, True, 20, id="V4-computed-dialysis-cr-4.0"),
        pytest.param(1.0, 1.0, 4.0, False, 20, id="cap-4.0-reached"),
        pytest.param(1.0, 1.0, 4.5, False, 20, id="cap-4.0-above"),
        pytest.param(1.0, 1.0, 3.9, False, 19, id="cap-4.0-below"),
        pytest.param(30.0, 8.0, 6.0, False, 40, id="maximum-40"),
    ],
)
def test_meld_vectors(bilirubin: float, inr: float, creatinine: float, dialysis: bool, expected: int) -> None:
    assert _meld_int(bilirubin, inr, creatinine, dialysis) == expected


def test_optn_rounding_is_half_up_not_bankers() -> None:
    t = _trace()
    # Python's round(24.5) is 24 and round(6.5) is 6; OPTN rounds half up.
    assert score(t, 24.5, version="meld") == 25
    assert score(t, 6.5, version="meld") == 7
    assert score(t, 24.4999, version="meld") == 24


def test_meld_rule_v1_in_si_units_equals_mg_dl() -> None:
    si = meld(_ctx(inr=2.0, bilirubin=(54, "µmol/L"), creatinine=(170, "µmol/L")))
    us = meld(_ctx(inr=2.0, bilirubin=54 / 17.1, creatinine=170 / 88.4))
    assert si["value"] == us["value"] == 25
    assert si.determined and si.missing == ()
    assert {"OPTN-POLICY-9", "KAMATH-2001"} <= set(si.citations)
    assert "MELD 25" in si.explanation


def test_meld_rule_dialysis_flag_sets_the_cap() -> None:
    f = meld(_ctx({"dialysis_twice_past_week": True}, bilirubin=1.0, inr=1.0, creatinine=0.8))
    assert (f["value"], f["creatinine_capped"], f.missing) == (20, True, ())  # V4
    assert "dialysis" in f.explanation


@pytest.mark.parametrize(
    ("creatinine", "value"),
    [
        # the creatinine already reaches the 4.0 cap: dialysis cannot change the score
        pytest.param(4.5, 20, id="at-cap-determined"),
        # below the cap: dialysis would raise creatinine to 4.0, so the score is unknown
        pytest.param(2.0, None, id="below-cap-null"),
    ],
)
def test_meld_dialysis_unknown(creatinine: float, value: int | None) -> None:
    f = meld(_ctx({}, bilirubin=1.0, inr=1.0, creatinine=creatinine))
    assert f["value"] == value
    assert f.determined is (value is not None)
    assert set(f.missing) == {"liver.dialysis_twice_past_week", "liver.cvvhd_24h_past_week"}


def test_meld_dialysis_known_without_creatinine() -> None:
    # On dialysis creatinine counts as 4.0 whatever it is: the score is certain, the gap still listed.
    f = meld(_ctx({"cvvhd_24h_past_week": True}, bilirubin=1.0, inr=1.0))
    assert (f["value"], f.determined, f.missing) == (20, True, ("labs.creatinine",))


@pytest.mark.parametrize("absent", ["bilirubin", "inr", "creatinine"])
def test_meld_missing_lab_is_named(absent: str) -> None:
    values = {"bilirubin": 2.0, "inr": 1.5, "creatinine": 1.5}
    del values[absent]
    f = meld(_ctx(**values))
    assert (f["value"], f["unrounded"], f.determined) == (None, None, False)
    assert f.missing == (f"labs.{absent}",)
    assert f"labs.{absent}" in f.explanation


def test_children_under_12_get_no_meld() -> None:
    for rule in (meld, meld_na, meld_3):
        f = rule(_ctx(age=8, bilirubin=1.0, inr=1.0, creatinine=1.0, sodium=137, albumin=3.5))
        assert f["value"] is None and "PELD" in f.explanation


# --- MELD-Na (OPTN 2016) --------------------------------------------------------------------------


def test_v5_meld_na_optn_2016_and_not_kim_2008() -> None:
    # V5, computed: MELD(i) 22 -> 25.564 -> 26. V5b, published (transplantr test_liver.R): the Kim 2008
    # NEJM form gives 26.257 for the same patient; our unrounded value must be the OPTN one.
    t = _trace()
    raw = meld_i(t, 2.0, 1.8, 2.0)
    m = score(t, raw, version="meld")
    assert m == 22
    unrounded = meld_na_value(t, m, 131)
    assert unrounded == pytest.approx(25.564, abs=1e-9)
    assert _kim_2008(raw, 131) == pytest.approx(26.257, abs=1e-3)
    assert unrounded != pytest.approx(26.257, abs=0.1)
    f = meld_na(_ctx(bilirubin=2.0, inr=1.8, creatinine=2.0, sodium=131))
    assert (f["value"], f["meld_i"], f["sodium_term_applied"]) == (26, 22, True)
    assert f["unrounded"] == pytest.approx(25.564)


def test_v6_threshold_uses_the_rounded_meld_i() -> None:
    # V6, computed (discriminating): unrounded MELD(i) is 11.48 > 11, but OPTN compares the rounded 11,
    # so no sodium term: 11. An implementation without pre-rounding gives 23.
    t = _trace()
    assert meld_i(t, 1.0, 1.57, 1.0) == pytest.approx(11.48, abs=0.01)
    f = meld_na(_ctx(bilirubin=1.0, inr=1.57, creatinine=1.0, sodium=120))
    assert (f["value"], f["meld_i"], f["sodium_term_applied"]) == (11, 11, False)


@pytest.mark.parametrize(
    ("bilirubin", "inr", "creatinine", "sodium", "meld_i_expected", "unrounded", "value"),
    [
        pytest.param(1.0, 1.60, 1.0, 125, 12, 23.088, 23, id="V6b-computed-threshold-12"),
        pytest.param(4.0, 1.8, 1.9, 128, 24, 28.752, 29, id="V7-computed-gera-inputs"),
        pytest.param(2.0, 1.8, 2.0, 131, 22, 25.564, 26, id="V5-computed"),
    ],
)
def test_meld_na_vectors(
    bilirubin: float,
    inr: float,
    creatinine: float,
    sodium: float,
    meld_i_expected: int,
    unrounded: float,
    value: int,
) -> None:
    f = meld_na(_ctx(bilirubin=bilirubin, inr=inr, creatinine=creatinine, sodium=sodium))
    assert f["meld_i"] == meld_i_expected
    assert f["unrounded"] == pytest.approx(unrounded, abs=1e-9)
    assert f["value"] == value


@pytest.mark.parametrize(
    ("meld_i_score", "value"),
    [
        # threshold MELD(i) > 11: 11 keeps its value whatever the sodium, 12 gets the term
        (11, 11.0),
        (12, 23.088),
    ],
)
def test_meld_na_threshold(meld_i_score: int, value: float) -> None:
    assert meld_na_value(_trace(), meld_i_score, 125) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize(
    ("sodium", "same_as"),
    [(124, 125), (100, 125), (138, 137), (150, 137)],
)
def test_meld_na_sodium_bounds_125_137(sodium: float, same_as: float) -> None:
    t = _trace()
    assert meld_na_value(t, 20, sodium) == meld_na_value(t, 20, same_as)
    assert meld_na_value(t, 20, 137) == 20


def test_meld_na_without_sodium_when_meld_i_is_low() -> None:
    f = meld_na(_ctx(bilirubin=1.0, inr=1.0, creatinine=1.0))
    assert (f["value"], f.determined, f.missing) == (6, True, ("labs.sodium",))
    assert "not above 11" in f.explanation


def test_meld_na_needs_sodium_when_meld_i_is_high() -> None:
    f = meld_na(_ctx(bilirubin=2.0, inr=1.8, creatinine=2.0))
    assert (f["value"], f.determined, f.missing) == (None, False, ("labs.sodium",))
    assert "sodium" in f.explanation


def test_meld_na_si_units_equal_mg_dl() -> None:
    si = meld_na(
        _ctx(bilirubin=(68.4, "µmol/L"), inr=1.8, creatinine=(176.8, "µmol/L"), sodium=(131, "mEq/L"))
    )
    us = meld_na(_ctx(bilirubin=4.0, inr=1.8, creatinine=2.0, sodium=131))
    assert si["value"] == us["value"]
    assert si["unrounded"] == pytest.approx(us["unrounded"])


# --- MELD 3.0 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("female", "bilirubin", "sodium", "inr", "creatinine", "albumin", "unrounded", "value"),
    [
        pytest.param(False, 2.5, 135, 1.5, 1.2, 3.0, 17.853, 18, id="V8-male-computed"),
        pytest.param(True, 2.5, 135, 1.5, 1.2, 3.0, 19.183, 19, id="V8-female-computed"),
        pytest.param(False, 1.0, 137, 1.0, 1.0, 3.5, 6.0, 6, id="V8b-male-normal"),
        pytest.param(True, 1.0, 137, 1.0, 1.0, 3.5, 7.33, 7, id="V8b-female-normal"),
        pytest.param(False, 5.0, 128, 2.0, 2.5, 2.5, 33.924, 34, id="V8c-computed"),
        pytest.param(True, 3.0, 130, 1.8, 1.5, 2.8, 26.869, 27, id="V8d-computed"),
        # V8e: creatinine 3.5 is capped at 3.0 (a 4.0 cap would give 31.16)
        pytest.param(False, 2.0, 130, 1.5, 3.5, 3.0, 29.58, 30, id="V8e-cr-cap-3.0"),
        pytest.param(False, 2.0, 130, 1.5, 3.0, 3.0, 29.58, 30, id="cap-3.0-reached"),
    ],
)
def test_meld_3_vectors(
    female: bool,
    bilirubin: float,
    sodium: float,
    inr: float,
    creatinine: float,
    albumin: float,
    unrounded: float,
    value: int,
) -> None:
    t = _trace()
    got = meld_3_value(
        t,
        bilirubin=bilirubin,
        sodium=sodium,
        inr=inr,
        creatinine=creatinine,
        albumin=albumin,
        sex_term=female,
    )
    assert got == pytest.approx(unrounded, abs=5e-3)
    assert score(t, got, version="meld_3") == value
    f = meld_3(
        _ctx(
            sex="female" if female else "male",
            bilirubin=bilirubin,
            sodium=sodium,
            inr=inr,
            creatinine=creatinine,
            albumin=albumin,
        )
    )
    assert (f["value"], f["sex_term"], f.determined) == (value, female, True)


def test_v8e_differs_from_a_4_0_cap() -> None:
    t = _trace()
    args = {"bilirubin": 2.0, "sodium": 130, "inr": 1.5, "albumin": 3.0, "sex_term": False}
    capped = meld_3_value(t, creatinine=3.5, **args)
    # what a MELD 3.0 with the old 4.0 cap would compute (creatinine 3.5 left as is): 31.16
    assert capped != pytest.approx(31.16, abs=0.05)
    assert meld_3_value(t, creatinine=3.0, **args) == capped


def test_v8f_dialysis_sets_creatinine_to_3() -> None:
    f = meld_3(
        _ctx(
            {"dialysis_twice_past_week": True},
            bilirubin=1.0,
            sodium=137,
            inr=1.0,
            creatinine=0.8,
            albumin=3.5,
        )
    )
    assert (f["value"], f["creatinine_capped"]) == (18, True)  # V8f, computed: 18.24 -> 18
    assert f["unrounded"] == pytest.approx(18.24, abs=5e-3)


@pytest.mark.parametrize(
    ("low", "bounded"),
    [
        ({"albumin": 1.4}, {"albumin": 1.5}),
        ({"albumin": 3.6}, {"albumin": 3.5}),
        ({"sodium": 120}, {"sodium": 125}),
        ({"sodium": 140}, {"sodium": 137}),
        (
            {"bilirubin": 0.5, "inr": 0.9, "creatinine": 0.7},
            {"bilirubin": 1.0, "inr": 1.0, "creatinine": 1.0},
        ),
    ],
)
def test_meld_3_bounds(low: dict[str, float], bounded: dict[str, float]) -> None:
    t = _trace()
    base = {"bilirubin": 2.0, "sodium": 130.0, "inr": 1.5, "creatinine": 1.5, "albumin": 2.5}
    assert meld_3_value(t, sex_term=False, **{**base, **low}) == meld_3_value(
        t, sex_term=False, **{**base, **bounded}
    )


def test_meld_3_creatinine_between_caps_needs_dialysis_only_for_meld() -> None:
    # Creatinine 3.2 with dialysis unknown: at/above MELD 3.0's cap (3.0) but below MELD's (4.0).
    ctx = _ctx({}, bilirubin=2.0, sodium=130, inr=1.5, creatinine=3.2, albumin=3.0)
    assert meld_3(ctx)["value"] == 30
    assert meld_3(ctx).determined
    assert meld(ctx)["value"] is None


LAB_SET = {"bilirubin": 2.5, "sodium": 135, "inr": 1.5, "creatinine": 1.2, "albumin": 3.0}


@pytest.mark.parametrize(
    ("sex", "age", "value", "missing"),
    [
        # Candidates aged 12-17 get the 1.33 term whatever their sex (meld_3.adolescent_age_years, unverified)
        pytest.param("male", 15, 19, (), id="male-15-gets-the-term"),
        pytest.param("male", 12, 19, (), id="male-12-edge"),
        pytest.param("male", 17, 19, (), id="male-17-edge"),
        pytest.param("male", 18, 18, (), id="male-18-adult"),
        pytest.param(None, 15, 19, (), id="sex-unknown-aged-15"),
        pytest.param(None, 40, None, ("sex",), id="sex-unknown-adult"),
        pytest.param("male", None, None, ("age",), id="male-age-unknown"),
        # Unknown age: scored as adult care, but the assumption is listed, never silent.
        pytest.param("female", None, 19, ("age",), id="female-age-unknown"),
    ],
)
def test_meld_3_sex_and_age(
    sex: str | None, age: int | None, value: int | None, missing: tuple[str, ...]
) -> None:
    f = meld_3(_ctx(sex=sex, age=age, **LAB_SET))
    assert f["value"] == value
    assert f.missing == missing


def test_meld_3_missing_labs_and_unverified_cap() -> None:
    f = meld_3(_ctx(bilirubin=2.5, inr=1.5, creatinine=1.2))
    assert f["value"] is None
    assert set(f.missing) == {"labs.sodium", "labs.albumin"}
    capped = meld_3(_ctx(bilirubin=30, sodium=120, inr=6, creatinine=5, albumin=1.5))
    assert capped["value"] == 40
    assert "meld_3.max_score" in capped.unverified


def test_meld_3_si_units_equal_mg_dl() -> None:
    si = meld_3(
        _ctx(
            bilirubin=(42.75, "µmol/L"),
            sodium=135,
            inr=1.5,
            creatinine=(106.08, "µmol/L"),
            albumin=(30, "g/L"),
        )
    )
    assert si["value"] == 18
    assert si["unrounded"] == pytest.approx(17.853, abs=5e-3)


# --- properties -------------------------------------------------------------------------------------


@given(
    bilirubin=st.floats(0.1, 40),
    inr=st.floats(0.5, 10),
    creatinine=st.floats(0.1, 15),
    sodium=st.floats(100, 160),
    albumin=st.floats(0.5, 6),
    female=st.booleans(),
)
def test_scores_stay_in_range_and_sodium_only_adds(
    bilirubin: float, inr: float, creatinine: float, sodium: float, albumin: float, female: bool
) -> None:
    t = _trace()
    m = _meld_int(bilirubin, inr, creatinine)
    na = score(t, meld_na_value(t, m, sodium), version="meld")
    m3 = score(
        t,
        meld_3_value(
            t,
            bilirubin=bilirubin,
            sodium=sodium,
            inr=inr,
            creatinine=creatinine,
            albumin=albumin,
            sex_term=female,
        ),
        version="meld_3",
    )
    assert 6 <= m <= 40 and 6 <= na <= 40 and 6 <= m3 <= 40
    # Below 137 mmol/L the OPTN sodium term is never negative while MELD(i) <= 40.
    assert na >= m
    assert not math.isnan(meld_i(t, bilirubin, inr, creatinine))


@pytest.mark.parametrize("rule", [meld, meld_na, meld_3])
def test_unknown_age_is_named_and_the_assumption_stated(rule: Any) -> None:
    f = rule(_ctx(sex="female", age=None, **LAB_SET))
    assert f["value"] is not None and f.determined
    assert "age" in f.missing
    assert any("Age unknown" in n for n in f.notes)
