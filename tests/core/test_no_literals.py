"""No clinical number is written in rule code: it must come from the knowledge base.

0 and 1 are allowed (identities, first/last, empty checks); everything else is a knowledge entry
with a citation. Strings are not checked here: ids and labels are not numbers.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RULES = Path(__file__).resolve().parents[2] / "src" / "hccwatch" / "core" / "rules"
ALLOWED = {0, 1, -1}


def _numbers(tree: ast.AST) -> list[tuple[int, object]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) in (int, float, complex):
            value = node.value
            if value not in ALLOWED:
                found.append((node.lineno, value))
    return found


@pytest.mark.parametrize("path", sorted(RULES.rglob("*.py")), ids=lambda p: str(p.relative_to(RULES)))
def test_rule_module_has_no_numeric_literals(path: Path) -> None:
    found = _numbers(ast.parse(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name}: numeric literals {found} belong in the knowledge base"


def test_the_scan_catches_a_literal() -> None:
    assert _numbers(ast.parse("x = size <= 5.0")) == [(1, 5.0)]
    assert _numbers(ast.parse("x = items[0] + 1")) == []
