"""``json_bytes``'s guarantee (no NaN or infinity written as null) with the MessagePack screen in
front of the walk: the same lines and the same refusals as the walk alone, whatever the value."""

from __future__ import annotations

import math
import struct
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hccwatch.population.batch import _finite, _surely_finite, json_bytes


class _Count(int):
    pass


class _Mapping(dict[str, Any]):
    pass


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
    | st.text(max_size=8)
    # Values whose MessagePack bytes look like a non-finite float without being one.
    | st.sampled_from(
        [203, 127, -1, -16, "\x7f", "ˀ", struct.unpack(">d", b"\x00\xcb\x7f\xf0\x00\x00\x00\x01")[0]]
    )
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=5), inner, max_size=5)
        | st.tuples(inner, inner)
        # Subclasses orjson writes as their base; the walk does not look inside them.
        | st.dictionaries(st.text(max_size=5), inner, max_size=3).map(_Mapping)
        | st.integers(min_value=0, max_value=300).map(_Count)
    ),
    max_leaves=40,
)


def _reference(data: Any) -> bytes | None:
    """The guarantee as the walk alone gave it: the line, or None when it is refused."""
    out = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    if b"null" in out and not _finite(data):
        return None
    return out


def _line(data: Any) -> bytes | None:
    try:
        return json_bytes(data)
    except ValueError:
        return None


@settings(max_examples=2000, deadline=None)
@given(_VALUES)
def test_json_bytes_writes_and_refuses_exactly_as_the_walk_alone(data: Any) -> None:
    assert _line(data) == _reference(data)
    if _surely_finite(data):  # the screen never clears a value the walk would refuse
        assert _finite(data)


@given(st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True))
def test_messagepack_writes_every_float_as_a_float64(value: float) -> None:
    # The screen's premise: the marker 0xcb, then the double's own 8 bytes, big-endian.
    assert msgspec.msgpack.encode(value) == b"\xcb" + struct.pack(">d", value)


@pytest.mark.parametrize(
    "value", [math.nan, -math.nan, math.inf, -math.inf, {"a": [1, {"b": math.nan}]}, [None, -math.inf]]
)
def test_a_non_finite_float_is_refused(value: Any) -> None:
    assert not _surely_finite(value)
    with pytest.raises(ValueError, match="not finite"):
        json_bytes(value)


def test_look_alike_bytes_fall_back_to_the_walk_and_are_written() -> None:
    data = {"a": [203, 127, -1], "b": None}  # MessagePack: ... cc cb 7f ff ...
    assert not _surely_finite(data)
    assert json_bytes(data) == b'{"a":[203,127,-1],"b":null}'


def test_what_messagepack_cannot_encode_falls_back_to_the_walk() -> None:
    assert not _surely_finite({"x": _Count(3)})
    assert json_bytes({"x": _Count(3), "y": None}) == b'{"x":3,"y":null}'
