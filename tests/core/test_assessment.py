"""An assessment's JSON form: each part is its caller's own to change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from corpus import build as corpus
from hccwatch import assess
from support import AS_OF

_BASE: dict[str, Any] = {
    "id": "shared-inputs",
    "ecog": 0,
    "tumors": [{"size_cm": 2.5}, {"size_cm": 1.5}],
    "tumors_assessed_on": "2026-10-01",
    "metastatic_sites": [{"site": "lung"}],
}


def _containers(value: object, path: str) -> Iterator[tuple[str, object]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from _containers(item, f"{path}.{key}")
    elif isinstance(value, list):
        yield path, value
        for i, item in enumerate(value):
            yield from _containers(item, f"{path}[{i}]")


def test_changing_one_staging_finding_leaves_the_others_alone() -> None:
    data = assess(_BASE, as_of=AS_OF).to_dict()
    staging = data["staging"]
    sizes = {
        key: next(i["value"] for i in staging[key]["inputs"] if i["name"] == "tumors.sizes_cm")
        for key in ("bclc", "cnlc", "ajcc")
    }
    assert sizes["bclc"] == sizes["cnlc"] == sizes["ajcc"] == [2.5, 1.5]
    sizes["bclc"].append(99.0)
    assert sizes["cnlc"] == sizes["ajcc"] == [2.5, 1.5]
    again = assess(_BASE, as_of=AS_OF).to_dict()["staging"]
    assert next(i["value"] for i in again["bclc"]["inputs"] if i["name"] == "tumors.sizes_cm") == [2.5, 1.5]


@pytest.mark.parametrize("raw", [_BASE, *corpus.examples()], ids=lambda raw: str(raw["id"]))
def test_no_two_parts_of_the_json_are_one_object(raw: dict[str, Any]) -> None:
    """Every list and table in the JSON form is a distinct object (not only the tumour sizes)."""
    seen: dict[int, str] = {}
    for path, container in _containers(assess(raw, as_of=AS_OF).to_dict(), "$"):
        assert id(container) not in seen, f"{path} is the same object as {seen[id(container)]}"
        seen[id(container)] = path


def _spoil(value: object) -> None:
    """Change every list and table in ``value``, as a careless caller might."""
    if isinstance(value, dict):
        for item in list(value.values()):
            _spoil(item)
        value["spoiled"] = True
    elif isinstance(value, list):
        for item in value:
            _spoil(item)
        value.append("spoiled")


@pytest.mark.parametrize("raw", [_BASE, *corpus.examples()], ids=lambda raw: str(raw["id"]))
def test_changing_an_answer_never_changes_the_next_one(raw: dict[str, Any]) -> None:
    """Memoised findings (staging, transplant) are handed to many records: a caller that changes
    its JSON must not change what the next record, or the same one again, is told."""
    first = assess(raw, as_of=AS_OF).to_dict()
    expected = json.loads(json.dumps(first))
    _spoil(first)
    assert assess(raw, as_of=AS_OF).to_dict() == expected
