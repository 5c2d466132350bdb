"""Problems are worded for a clinician and bounded whatever the input."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch.record.messages import MAX_ECHO, _locate, describe, human_message, oversized, where


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "null"),
        (True, "true"),
        (3, "3"),
        (2.5, "2.5"),
        (math.inf, "Infinity"),
        (math.nan, "NaN"),
        pytest.param(10**5000, "a number of about 5001 digits", id="huge-int"),
        ("ng/mL", "'ng/mL'"),
        ([1, None, "a"], "[1, null, 'a']"),
        ({"test": "afp", "value": {"x": 1}}, "{'test': 'afp', 'value': ...}"),
    ],
)
def test_values_are_echoed_as_json_words(value: Any, shown: str) -> None:
    assert describe(value) == shown


@pytest.mark.parametrize("value", ["x" * 10_000, list(range(10_000)), {str(i): i for i in range(10_000)}])
def test_echoes_are_at_most_80_characters(value: Any) -> None:
    assert len(describe(value)) <= MAX_ECHO


def test_paths_drop_pydantic_internals_and_shorten_long_names() -> None:
    assert where(("labs", 2, "function-after[_convert()]", "value")) == "labs[2].value"
    assert where(()) == "record"
    assert len(where(("y" * 10_000,))) < MAX_ECHO


def test_an_unknown_error_kind_still_says_what_was_given_without_class_names() -> None:
    message = human_message(
        {"type": "is_instance_of", "msg": "Input should be an instance of Liver", "input": 3}
    )
    assert message == "not accepted, got 3"


# Nested JSON-like data reaching past MAX_DEPTH, with integers beyond 64 bits among the leaves.
_deep_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)


def _chain(depth: int, leaf: Any) -> Any:
    node = leaf
    for i in range(depth):
        node = [node] if i % 2 else {"a": node}
    return node


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _deep_json | st.builds(_chain, st.integers(0, 16), _deep_json)))
def test_the_quick_pass_of_oversized_agrees_with_the_full_walk(data: dict[str, Any]) -> None:
    # The quick pass only decides whether the walk with paths is needed: it must never miss.
    assert oversized(data) == _locate(data)


def test_oversized_names_the_place_and_passes_a_normal_record() -> None:
    lab = {"test": "afp", "value": 7.0, "unit": "ng/mL", "date": "2026-01-01"}
    assert oversized({"id": "x", "labs": [lab] * 100, "liver": {"etiology": ["hbv"]}}) is None
    assert oversized({"id": "x", "labs": [lab, {**lab, "value": 2**65}]}) == (
        "labs[1].value",
        "a number of about 20 digits is not a plausible value",
    )
    assert oversized({"liver": _chain(13, 1)}) == (
        "liver.a[0].a[0].a[0].a[0].a[0].a",
        "nested more than 12 levels deep",
    )
