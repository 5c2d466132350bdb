"""JSON in and out of the server: orjson, strict (no NaN, no numbers beyond 64 bits)."""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["JsonError", "dumps", "loads"]


class JsonError(ValueError):
    """A request body that is not JSON hccwatch accepts."""


def loads(body: bytes) -> Any:
    if not body.strip():
        raise JsonError("the request body is empty; expected one JSON object")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # orjson refuses NaN, Infinity, invalid UTF-8 and integers beyond 64 bits, and names where.
        raise JsonError(f"the request body is not valid JSON ({exc})") from None
    except RecursionError:
        raise JsonError("the request body is nested too deeply") from None


def dumps(data: Any) -> bytes:
    return orjson.dumps(data)
