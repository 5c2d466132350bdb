"""Bad input never crashes and never loses a record (issue 6 §2).

Generated records and mutations of the example records (values replaced by hostile ones,
types swapped, dates pushed to the calendar's edges, nesting deepened, keys added or
removed) are thrown at ``parse_record``, ``assess`` and the CLI in-process. Whatever the
input: only hccwatch's own errors escape, JSON output parses with a strict parser (no NaN or
Infinity), and a rerun gives identical output.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch import HccwatchError, InvalidRecordError, assess, parse_record
from hccwatch.app.cli import main
from strategies import records

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES_DIR.glob("*.json"))}
GOOD = EXAMPLES_DIR / "article-man-after-resection.json"
AS_OF = "2026-11-24"


def _deep(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


# Built afresh on every draw: a mutation must never change a value shared with another example.
HOSTILE_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    1e308,
    -1e308,
    math.inf,
    math.nan,
    2**70,
    10**5000,
    "",
    " ",
    "x" * 300,
    "2024-02-30",
    "9999-12-31",
    "0001-01-01",
    "1900-01-01",
    "2100-12-31",
    "1899-12-31",
    "2024-01-01T10:00:00",
    20240101,
    "ng/mL",
    "IU/mL",
    "µmol/L",
    "NaN",
]
HOSTILE = st.sampled_from(HOSTILE_SCALARS) | st.sampled_from(
    [list, dict, lambda: [None], lambda: {"": None}, lambda: _deep(30), lambda: _deep(3000)]
).map(lambda make: make())
# The edges of the plausibility bounds (knowledge plausibility.*) and values next to zero: a
# record that passes the boundary must still give finite, strict JSON.
EDGE_NUMBERS = [
    0,
    0.0,
    5e-324,
    1e-300,
    0.05,
    0.1,
    0.5,
    1,
    4,
    7,
    20,
    30,
    40,
    80,
    90,
    100,
    120,
    200,
    3000,
    5e6,
    1e7,
]
EDGE_DATES = ["1900-01-01", "1900-01-02", "1999-12-31", "2000-02-29", "2099-12-31", "2100-12-31"]


def _paths(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in ``data``, found iteratively."""
    out: list[tuple[Any, Any]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        keys: Any = (
            node.keys() if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else ()
        )
        for key in list(keys):
            out.append((node, key))
            stack.append(node[key])
    return out


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))])
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        node, key = draw(st.sampled_from(paths))
        action = draw(
            st.sampled_from(["edge_number", "hostile", "edge_date", "delete", "add", "wrap", "duplicate"])
        )
        if action == "edge_number" and isinstance(node[key], int | float) and not isinstance(node[key], bool):
            node[key] = draw(st.sampled_from(EDGE_NUMBERS))
        elif action == "hostile":
            node[key] = draw(HOSTILE)
        elif action == "edge_date":
            node[key] = draw(st.sampled_from(EDGE_DATES))
        elif action == "delete":
            del node[key]
        elif action == "add" and isinstance(node, dict):
            node[draw(st.sampled_from(["extra", "labs", "as_of", "unit", "value", "date"]))] = draw(HOSTILE)
        elif action == "wrap":
            node[key] = [node[key]] if draw(st.booleans()) else {"value": node[key]}
        elif action == "duplicate" and isinstance(node[key], list) and node[key]:
            node[key] = node[key] * draw(st.integers(2, 50))
    # Now and then the whole record is replaced (hypothesis favours small integers: 20 is rare).
    return draw(HOSTILE) if draw(st.integers(0, 20)) == 20 else data


def _assessed(data: Any, as_of: str | None = AS_OF) -> str | None:
    """The JSON of the assessment (strict: no NaN/Infinity), or None for a refused record."""
    try:
        assessment = assess(data, as_of=as_of)
    except HccwatchError as exc:
        assert str(exc) and len(str(exc)) < 10_000
        return None
    return json.dumps(assessment.to_dict(), allow_nan=False, sort_keys=True)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_parse_record_refuses_with_its_own_error_naming_the_field(data: Any) -> None:
    try:
        parse_record(data)
    except InvalidRecordError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        assert all(
            "NoneType" not in p and "instance of" not in p and "valid tuple" not in p for p in exc.problems
        )
        # Echoes are bounded: no problem grows with the size of a value (the longest message
        # lists the 28 accepted symptom codes).
        assert all(len(p) < 800 for p in exc.problems), exc.problems


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated() | records, st.sampled_from([AS_OF, None, "2100-12-31", "1900-01-01"]))
def test_assess_gives_strict_json_or_its_own_error_and_the_same_twice(data: Any, as_of: str | None) -> None:
    if as_of is None and not (isinstance(data, dict) and "as_of" in data):
        as_of = AS_OF  # never read the clock in a test
    first = _assessed(data, as_of)
    assert _assessed(data, as_of) == first


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def _run_cli(payload: bytes) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["assess", "-", str(GOOD), "--as-of", AS_OF, "--format", "json"], input=payload
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_cli_names_a_bad_record_and_still_prints_the_good_one(data: Any) -> None:
    try:
        payload = json.dumps(data).encode("utf-8")  # NaN and Infinity literals included on purpose
    except (ValueError, RecursionError):
        payload = b"[" * 5000
    code, out, err = _run_cli(payload)
    assert code in {0, 2}, err
    assert "Traceback" not in err
    lines = [_strict_json(line) for line in out.splitlines()]
    assert lines and lines[-1]["record_id"] == "article-man-after-resection"
    if code == 2:
        assert err.startswith("<stdin>: "), err
    assert _run_cli(payload) == (code, out, err)
