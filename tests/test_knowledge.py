"""The knowledge base is consistent: sources resolve, nothing is unused, languages match."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hccwatch.core.knowledge import default_knowledge, load_knowledge
from hccwatch.errors import KnowledgeError

SRC = Path(__file__).resolve().parents[1] / "src" / "hccwatch"


def _code_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in SRC.rglob("*.py"))


def _is_read_by_code(key: str, code: str) -> bool:
    if f'"{key}"' in code:
        return True
    # Keys built in f-strings: some proper prefix appears as the literal start of an f-string.
    parts = key.split(".")
    return any(f'f"{".".join(parts[:i])}.' in code for i in range(1, len(parts)))


def test_packaged_knowledge_loads() -> None:
    k = load_knowledge()
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", k.version)
    assert k.entries and k.citations


def test_every_entry_cites_resolvable_sources_with_a_locator() -> None:
    k = default_knowledge()
    for entry in k.entries.values():
        assert entry.citations, entry.key
        assert entry.locator.strip(), entry.key
        for cid in entry.citations:
            assert cid in k.citations, (entry.key, cid)


def test_every_entry_is_read_by_some_rule() -> None:
    code = _code_text()
    unused = [key for key in default_knowledge().entries if not _is_read_by_code(key, code)]
    assert not unused, f"knowledge entries no code reads: {unused}"


def test_every_citation_is_used() -> None:
    k = default_knowledge()
    code = _code_text()
    by_entries = {cid for e in k.entries.values() for cid in e.citations}
    unused = [cid for cid in k.citations if cid not in by_entries and f'"{cid}"' not in code]
    assert not unused, f"citations nothing uses: {unused}"


def test_citations_name_a_way_to_find_them() -> None:
    for c in default_knowledge().citations.values():
        if c.kind == "project":
            continue
        assert c.doi or c.url or c.pmid or c.journal, f"{c.id} cannot be looked up"


def test_every_language_has_the_same_texts() -> None:
    texts = default_knowledge().texts
    assert {"en", "zh"} <= set(texts)
    keys = {lang: set(t) for lang, t in texts.items()}
    for lang, ks in keys.items():
        assert ks == keys["en"], f"{lang}: missing {sorted(keys['en'] - ks)}, extra {sorted(ks - keys['en'])}"


def test_chinese_texts_are_chinese() -> None:
    zh = default_knowledge().texts["zh"]
    for key, text in zh.items():
        assert re.search(r"[\u4e00-\u9fff]", text), f"zh text {key!r} has no Chinese"


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"thresholds/a.toml": '[x]\nvalue = 1\ncitation = "NOPE"\nlocator = "p"\nverified = true\n'},
            "unknown",
        ),
        (
            {
                "thresholds/a.toml": '[x]\nvalue = 1\ncitation = "C"\nlocator = "p"\n'
                "verified = true\nsauce = 1\n"
            },
            "sauce",
        ),
        ({"thresholds/a.toml": '[x]\nvalue = 1\ncitation = "C"\nverified = true\n'}, "locator"),
        (
            {"thresholds/a.toml": '[x]\nvalue = 1\ncitation = "C"\nlocator = "p"\nverified = "yes"\n'},
            "verified",
        ),
        ({"citations/b.toml": '[C]\nkind = "article"\ntitle = "again"\n'}, "twice"),
        ({"citations/b.toml": '[D]\nkind = "rumour"\ntitle = "t"\n'}, "kind"),
        ({"thresholds/a.toml": "[x\n"}, "a.toml"),
    ],
)
def test_malformed_knowledge_is_refused(tmp_path: Path, files: dict[str, str], message: str) -> None:
    base = {
        "VERSION": "2026.1.0\n",
        "citations/a.toml": '[C]\nkind = "article"\ntitle = "t"\n',
        "thresholds/a.toml": '[x]\nvalue = 1\ncitation = "C"\nlocator = "p"\nverified = true\n',
    }
    base.update(files)
    for name, text in base.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError, match=message):
        load_knowledge(tmp_path)


def test_unverified_flags_survive_loading() -> None:
    k = default_knowledge()
    assert any(not e.verified for e in k.entries.values()), "the reference marks many items unverified"
