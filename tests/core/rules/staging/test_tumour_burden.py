"""Tumour burden: counting, largest and total diameter, and naming every gap."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hccwatch.core.finding import Trace
from hccwatch.core.rules.staging.tumour_burden import TumourBurden, tumour_burden
from strategies import tumor
from support import context, record


def _burden(
    tumors: list[dict[str, Any]] | None, *, viable_only: bool = False, **fields: Any
) -> tuple[TumourBurden, Trace]:
    ctx = context(record(tumors=tumors, **fields))
    t = ctx.trace("test.burden")
    return tumour_burden(ctx, t, viable_only=viable_only), t


@pytest.mark.parametrize(
    ("sizes", "n", "largest", "total"),
    [
        ([], 0, 0, 0),
        ([6.0], 1, 6.0, 6.0),
        ([3.0, 3.0, 3.0], 3, 3.0, 9.0),  # clinical-scores.md T2: TTD 9 (UCSF out)
        ([4.0, 2.0, 1.0], 3, 4.0, 7.0),  # clinical-scores.md T5: TTD 7
        ([2.7, 2.7, 2.6], 3, 2.7, 8.0),  # summed exactly: 8.0, not 8.000000000000002
    ],
)
def test_counts_largest_and_total(sizes: list[float], n: int, largest: float, total: float) -> None:
    burden, t = _burden([{"size_cm": s} for s in sizes])
    assert (burden.n, burden.largest_cm, burden.total_cm) == (n, largest, total)
    assert t.missing == ()


def test_unknown_list_is_not_no_tumour() -> None:
    burden, t = _burden(None)
    assert not burden.recorded
    assert (burden.n, burden.largest_cm, burden.total_cm) == (None, None, None)
    assert t.missing == ("tumors",)


def test_a_list_assessed_after_the_evaluation_date_is_invisible() -> None:
    burden, t = _burden([{"size_cm": 2.0}], tumors_assessed_on="2027-01-01")
    assert not burden.recorded
    assert t.missing == ("tumors (assessed on 2027-01-01, after the evaluation date)",)


def test_a_missing_size_keeps_the_count_and_names_the_nodule() -> None:
    burden, t = _burden([{"size_cm": 2.0}, {}])
    assert burden.n == 2
    assert burden.largest_cm is None and burden.total_cm is None
    assert t.missing == ("tumors[1].size_cm",)


def test_inputs_are_recorded_with_the_assessment_date() -> None:
    _, t = _burden([{"size_cm": 2.5}, {"size_cm": 1.0}], tumors_assessed_on="2026-10-01")
    used = {i.name: (i.value, i.unit, i.date) for i in t.inputs}
    when = dt.date(2026, 10, 1)
    assert used["tumors.count"] == (2, "nodules", when)
    assert used["tumors.largest_cm"] == (2.5, "cm", when)
    assert used["tumors.total_cm"] == (3.5, "cm", when)


@pytest.mark.parametrize(
    ("tumors", "n", "largest", "missing"),
    [
        ([{"size_cm": 3.0, "viable": True}, {"size_cm": 5.0, "viable": False}], 1, 3.0, ()),
        ([{"size_cm": 3.0, "viable": False}], 0, 0, ()),
        ([{"size_cm": 3.0, "viable": True}, {"size_cm": 5.0}], None, None, ("tumors[1].viable",)),
    ],
)
def test_viable_only_counts_enhancing_tumour(
    tumors: list[dict[str, Any]], n: int | None, largest: float | None, missing: tuple[str, ...]
) -> None:
    burden, t = _burden(tumors, viable_only=True)
    assert (burden.n, burden.largest_cm) == (n, largest)
    assert t.missing == missing
    assert "AASLD-2023" in t.citations


def test_uncertain_viability_bounds_the_count() -> None:
    burden, _ = _burden([{"size_cm": 3.0, "viable": True}, {"size_cm": 5.0}], viable_only=True)
    assert (burden.n_min, burden.n_max) == (1, 2)
    assert burden.count_candidates([3]) == (1, 2)
    assert burden.largest_candidates([2, 3]) == (3.0, 5.0)


@pytest.mark.parametrize(
    ("tumors", "cutoffs", "expected"),
    [
        ([{"size_cm": 4.0}], [2, 3], (4.0,)),
        ([{}], [2, 3], (2, 3, 4)),  # one representative per category: <=2, (2,3], >3
        ([{"size_cm": 2.5}, {}], [2, 3], (2.5, 3, 4)),  # the largest is at least 2.5
        ([{"size_cm": 6.0}, {}], [2, 3], (6.0, 7.0)),  # already beyond every cut-off
        (None, [5], (5, 6)),
    ],
)
def test_largest_candidates(
    tumors: list[dict[str, Any]] | None, cutoffs: list[float], expected: tuple[float, ...]
) -> None:
    burden, _ = _burden(tumors)
    assert burden.largest_candidates(cutoffs) == expected


def test_count_candidates_of_an_unknown_list_cover_every_category() -> None:
    burden, _ = _burden(None)
    assert burden.count_candidates([3]) == (0, 1, 3, 4)
    assert burden.count_candidates([]) == (0, 1, 2)


@given(st.lists(tumor, max_size=6), st.booleans())
def test_never_crashes_and_bounds_are_consistent(tumors: list[dict[str, Any]], viable_only: bool) -> None:
    burden, _ = _burden(tumors, viable_only=viable_only)
    assert burden.n_min is not None and burden.n_max is not None
    assert 0 <= burden.n_min <= burden.n_max <= len(tumors)
    if burden.largest_cm is not None and burden.total_cm is not None:
        assert burden.largest_cm <= burden.total_cm + 1e-9
    assert burden == _burden(tumors, viable_only=viable_only)[0]


@pytest.mark.parametrize("viable_only", [False, True])
def test_a_second_reader_records_what_the_first_recorded(viable_only: bool) -> None:
    # BCLC, CNLC and AJCC share one reading per assessment; each trace still records it all.
    tumors = [{"size_cm": 3.0, "viable": True}, {"size_cm": None, "viable": None}, {"size_cm": 2.0}]
    ctx = context(record(tumors=tumors))
    first, second = ctx.trace("first"), ctx.trace("second")
    second.need("earlier gap")
    one = tumour_burden(ctx, first, viable_only=viable_only)
    two = tumour_burden(ctx, second, viable_only=viable_only)
    alone, fresh = _burden(tumors, viable_only=viable_only)
    assert one == two == alone
    assert first.inputs == fresh.inputs and first.missing == fresh.missing
    assert first.citations == fresh.citations
    assert second.inputs == fresh.inputs and second.missing == ("earlier gap", *fresh.missing)
