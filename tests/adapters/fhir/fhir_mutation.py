"""Random damage to a FHIR resource, for the property tests of the FHIR reader."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st


def element_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path (keys and indexes) of every element under ``node``, ``node`` itself left out."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += element_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += element_paths(v, (*prefix, i))
    return out


def mutate(
    resource: dict[str, Any],
    data: st.DataObject,
    junk: st.SearchStrategy[Any],
    *,
    least: int,
    most: int,
) -> dict[str, Any]:
    """A copy of ``resource`` with ``least`` to ``most`` elements removed or replaced by ``junk``."""
    mutated: dict[str, Any] = json.loads(json.dumps(resource))
    for _ in range(data.draw(st.integers(least, most))):
        paths = element_paths(mutated)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent: Any = mutated
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            # A copy: the objects of st.just are shared between draws.
            parent[path[-1]] = json.loads(json.dumps(data.draw(junk)))
    return mutated
