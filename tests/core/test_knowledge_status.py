"""An entry's review status: explicit, or derived from ``verified`` and its sources, never contradictory."""

from __future__ import annotations

from typing import Any

import pytest

from hccwatch import KnowledgeError, default_knowledge
from hccwatch.core.knowledge import ENTRY_STATUSES, _status


def _table(**fields: Any) -> dict[str, Any]:
    return {"value": 1, "locator": "x", "verified": True, **fields}


@pytest.mark.parametrize(
    ("table", "citations", "expected"),
    [
        (_table(), ("AASLD-2023",), "verified"),
        (_table(), ("HCCWATCH-POLICY",), "policy"),
        (_table(verified=False), ("HCCWATCH-POLICY",), "unverified"),
        (_table(verified=False, status="secondary"), ("BMJ-BP",), "secondary"),
        (_table(status="policy"), ("HCCWATCH-POLICY", "GIARD-2018"), "policy"),
    ],
)
def test_status_is_explicit_or_derived(
    table: dict[str, Any], citations: tuple[str, ...], expected: str
) -> None:
    assert _status("k", table, citations, "f.toml") == expected


@pytest.mark.parametrize(
    "table",
    [_table(status="secondary"), _table(verified=False, status="verified"), _table(status="checked")],
)
def test_a_status_that_disagrees_or_is_unknown_is_refused(table: dict[str, Any]) -> None:
    with pytest.raises(KnowledgeError, match="entry 'k'"):
        _status("k", table, ("X",), "f.toml")


def test_every_packaged_entry_has_a_known_status() -> None:
    entries = default_knowledge().entries.values()
    assert {e.status for e in entries} <= set(ENTRY_STATUSES)
    assert all(e.verified == (e.status in ("verified", "policy")) for e in entries)
