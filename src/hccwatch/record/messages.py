"""Problems with a record, said in the clinician's words and bounded in size and time.

Pydantic's own messages name Python types ("instance of Liver", "valid tuple"); a clinician
reading a refused record needs the field path, what was expected and, shortened, what was
given. Every function here is iterative or depth-limited: a hostile input (deep nesting,
a 5,000-digit integer, a megabyte string) must produce a short message, never a crash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_ECHO", "describe", "human_message", "oversized", "where"]

# Values are echoed at most this many characters.
MAX_ECHO = 80
# The deepest real path is imaging[i].lesions[j].size_cm (5 levels); anything far deeper is not
# a patient record, and refusing it early keeps validation and messages away from recursion.
MAX_DEPTH = 12
# Integers beyond 64 bits are no clinical value; refusing them early avoids int->float
# overflow and Python's limit on converting long integers to text.
_MAX_INT_BITS = 64
_ELLIPSIS = "..."
# A field name longer than this is shown shortened (it cannot be a real field anyway).
_MAX_NAME = 40


def _short(text: str) -> str:
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - len(_ELLIPSIS)] + _ELLIPSIS


def _scalar(value: Any) -> str | None:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if value.bit_length() > _MAX_INT_BITS:
            digits = int(value.bit_length() * math.log10(2)) + 1
            return f"a number of about {digits} digits"
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("NaN" if math.isnan(value) else "Infinity")
    if isinstance(value, str):
        return _short(repr(value[: MAX_ECHO + 2]))
    return None


def describe(value: Any) -> str:
    """``value`` as JSON-like text of at most ~80 characters (never recursing)."""
    scalar = _scalar(value)
    if scalar is not None:
        return scalar
    if isinstance(value, Mapping):
        parts: list[str] = []
        for key in list(value)[:4]:
            inner = value[key]
            shown = _scalar(inner)
            parts.append(f"{_short(repr(str(key)))}: {shown if shown is not None else '...'}")
        more = ", ..." if len(value) > len(parts) else ""
        return _short("{" + ", ".join(parts) + more + "}")
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        items = [_scalar(v) or "..." for v in list(value[:6])]
        more = ", ..." if len(value) > len(items) else ""
        return _short("[" + ", ".join(items) + more + "]")
    return "a value that JSON cannot hold"


def _suspect(node: Any, depth: int) -> bool:
    """Whether ``node`` (a dict, list or tuple at ``depth``) holds a container deeper than
    MAX_DEPTH or an integer beyond 64 bits: the question :func:`oversized` asks, answered
    without building a path for every container. Recursion stops at MAX_DEPTH + 1 levels."""
    for value in node.values() if isinstance(node, dict) else node:
        kind = type(value)
        if kind is str or kind is float or value is None or kind is bool:
            continue  # by far the most common: settled by one type look-up
        if isinstance(value, dict | list | tuple):
            if depth >= MAX_DEPTH or _suspect(value, depth + 1):
                return True
        elif isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
            return True
    return False


def oversized(data: Any) -> tuple[str, str] | None:
    """The first place where ``data`` nests too deep or holds a huge integer, with why.

    A quick pass answers "nothing" for a normal record; only a suspect one is walked again
    with paths, to name the place. Neither pass goes deeper than MAX_DEPTH + 1 levels, and the
    quick one costs little next to validation itself.
    """
    return None if not _suspect(data, 0) else _locate(data)


def _locate(data: Any) -> tuple[str, str] | None:
    """:func:`oversized` walking every container with its path (slower: only for a suspect)."""
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list | tuple):
                inner = (*path, key if isinstance(key, int) else str(key))
                if len(inner) > MAX_DEPTH:
                    return where(inner[:MAX_DEPTH]), f"nested more than {MAX_DEPTH} levels deep"
                stack.append((value, inner))
            elif isinstance(value, int) and value.bit_length() > _MAX_INT_BITS:
                at = (*path, key if isinstance(key, int) else str(key))
                return where(at), f"{describe(value)} is not a plausible value"
    return None


def where(loc: Sequence[int | str]) -> str:
    """A field path as a clinician reads it: ``labs[2].value``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-", "literal[", "union[", "tagged-union", "json-or-python")):
            continue  # pydantic's internal validator names, not fields
        else:
            name = _short(part) if len(part) <= MAX_ECHO else repr(part[:_MAX_NAME]) + _ELLIPSIS
            out += f".{name}" if out else name
    return out or "record"


_EXPECTED: dict[str, str] = {
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "string_type": "expected text",
    "date_type": "expected a date (YYYY-MM-DD)",
    "date_parsing": "expected a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "expected a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "expected a date without a time (YYYY-MM-DD)",
    "model_type": "expected an object ({...})",
    "model_attributes_type": "expected an object ({...})",
    "dict_type": "expected an object ({...})",
    "tuple_type": "expected a list ([...])",
    "list_type": "expected a list ([...])",
    "iterable_type": "expected a list ([...])",
}


_BOUNDS: dict[str, tuple[str, str]] = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def _bound(kind: str, ctx: Mapping[str, Any]) -> str | None:
    if kind not in _BOUNDS:
        return None
    key, words = _BOUNDS[kind]
    return f"must be {words} {describe(ctx.get(key))}"


def human_message(error: Mapping[str, Any]) -> str:
    """One pydantic error (from ``ValidationError.errors()``) in the clinician's words."""
    kind = str(error.get("type", ""))
    given = describe(error.get("input"))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required, but missing"
    if kind == "invalid_key":
        return f"a field name must be text, got {given}"
    if kind == "extra_forbidden":
        return "unknown field (a misspelling? `hccwatch schema` lists the fields)"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {given}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '?')}, got {given}"
    if kind == "string_too_short":
        return "must not be empty"
    bound = _bound(kind, ctx)
    if bound is not None:
        return f"{bound}, got {given}"
    if kind in {"value_error", "assertion_error"}:
        return str(error.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    # An error type this table does not know yet: say what was given, never a class name.
    return f"not accepted, got {given}"
