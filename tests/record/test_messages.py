"""Problems are worded for a clinician and bounded whatever the input."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hccwatch.record.messages import MAX_ECHO, describe, human_message, where


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
