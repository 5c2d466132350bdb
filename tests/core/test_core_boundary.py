"""The core stays pure: it imports the standard library, the record and the knowledge, nothing else.

FHIR, web, database and batch adapters live at the edge and call ``assess``; if one of them (or a
third-party library) were imported by a rule, the core would stop being a pure function of its
inputs. The scan reads every import statement, including ones inside functions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "hccwatch" / "core"
# hccwatch modules the core may use: itself, the record boundary, the errors and the version.
ALLOWED_OWN = ("hccwatch.core", "hccwatch.record", "hccwatch.errors", "hccwatch.version")


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _allowed(module: str) -> bool:
    if module == "__future__" or module.split(".")[0] in sys.stdlib_module_names:
        return True
    return any(module == own or module.startswith(own + ".") for own in ALLOWED_OWN)


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_only_stdlib_record_and_knowledge(path: Path) -> None:
    bad = [(line, m) for line, m in _imports(ast.parse(path.read_text(encoding="utf-8"))) if not _allowed(m)]
    assert not bad, f"{path.relative_to(CORE)} imports {bad}: adapters belong outside hccwatch.core"


def test_the_scan_catches_a_third_party_import() -> None:
    tree = ast.parse("import httpx\nfrom fastapi import FastAPI\nfrom hccwatch.app import cli\nimport math")
    assert [m for _, m in _imports(tree) if not _allowed(m)] == ["httpx", "fastapi", "hccwatch.app"]
