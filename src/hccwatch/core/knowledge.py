"""The knowledge base: every clinical number hccwatch uses, with its source.

The data lives in ``hccwatch/knowledge/`` as TOML, shipped inside the package:

- ``citations/*.toml``: the bibliography, one table per citation id (``BODY-YEAR[-TAG]``).
- ``thresholds/*.toml``: entries. Any table that has a ``citation`` (or ``citations``) key is
  an entry; its dotted path is its key (``[meld.creatinine_cap_mg_dl]`` -> ``meld.creatinine_cap_mg_dl``).
  An entry has ``value``, ``citation(s)``, ``locator`` and ``verified``, optionally ``unit``
  and ``note``. Unknown keys are rejected, so a typo cannot silently drop a source.
- ``text/<lang>/*.toml``: patient-facing templates, the same keys in every language.
- ``VERSION``: the knowledge version (guideline-keyed CalVer).

Rules read entries through a :class:`~hccwatch.core.finding.Trace`, which records the
citations and flags unverified entries, so provenance follows the numbers automatically.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeAlias

from hccwatch.core.knowledge_shapes import check_value
from hccwatch.core.memo import once
from hccwatch.errors import KnowledgeError

__all__ = ["Citation", "Entry", "JsonValue", "Knowledge", "default_knowledge", "load_knowledge"]

JsonValue: TypeAlias = "str | int | float | bool | None | list[JsonValue] | dict[str, JsonValue]"

_ENTRY_KEYS = frozenset({"value", "unit", "citation", "citations", "locator", "verified", "status", "note"})
# How far an entry has been checked. "policy" is a project choice (cites HCCWATCH-POLICY);
# "secondary" was read only in a secondary source (its note names the primary).
ENTRY_STATUSES = ("verified", "secondary", "unverified", "policy")
_POLICY = "HCCWATCH-POLICY"
_CITATION_KEYS = frozenset(
    {"kind", "authors", "title", "journal", "year", "doi", "url", "pmid", "note", "verified", "secondary_of"}
)
_CITATION_KINDS = frozenset({"article", "guideline", "web", "code", "dataset", "policy", "project"})


@dataclass(frozen=True)
class Citation:
    """One bibliography item."""

    id: str
    kind: str
    title: str
    authors: str | None = None
    journal: str | None = None
    year: int | None = None
    doi: str | None = None
    url: str | None = None
    pmid: str | None = None
    note: str | None = None
    # A secondary source (a teaching table, a manual, an app) names the citation id of the primary
    # it reports, so a reader can go to the original.
    secondary_of: str | None = None

    @property
    def link(self) -> str | None:
        """The best link for a reader: the DOI resolver if there is a DOI, else the URL."""
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url

    def short(self) -> str:
        """A one-line reference: authors, title, journal, year, DOI or URL."""
        # Authors often end in "et al." and titles in "?": strip the end so joining adds one stop.
        parts = [p.rstrip(". ") for p in (self.authors, self.title, self.journal) if p]
        if self.year is not None:
            parts.append(str(self.year))
        text = ". ".join(parts)
        link = self.link
        return f"{text}. {link}" if link else text

    def to_dict(self) -> dict[str, JsonValue]:
        # Every assessment's bibliography repeats the same citations: build each dict once and
        # hand out copies (callers may change what they receive).
        return dict(self._json)

    @once
    def _json(self) -> dict[str, JsonValue]:
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "authors": self.authors,
            "journal": self.journal,
            "year": self.year,
            "doi": self.doi,
            "url": self.url,
            "pmid": self.pmid,
        }


@dataclass(frozen=True)
class Entry:
    """One clinical number, band table or list, with where it comes from."""

    key: str
    value: JsonValue
    citations: tuple[str, ...]
    locator: str
    verified: bool
    unit: str | None = None
    note: str | None = None
    status: str = "unverified"


@dataclass(frozen=True)
class Knowledge:
    """The loaded, validated knowledge base. Immutable; share one instance freely."""

    version: str
    citations: Mapping[str, Citation]
    entries: Mapping[str, Entry]
    texts: Mapping[str, Mapping[str, str]]

    @once
    def reads(self) -> Mapping[str, tuple[JsonValue, float | None, Mapping[str, None], str | None]]:
        """Per entry, what a :class:`~hccwatch.core.finding.Trace` needs on each read.

        (value, value as a float or None if not a number, citation ids as an ordered dict, how a
        finding flags the entry: "unverified", "policy" or None for verified). Built once per
        knowledge base: rules read about 160 entries per assessment.
        """
        return {
            key: (
                e.value,
                None if isinstance(e.value, bool) or not isinstance(e.value, int | float) else float(e.value),
                dict.fromkeys(e.citations),
                None if e.status == "verified" else "policy" if e.status == "policy" else "unverified",
            )
            for key, e in self.entries.items()
        }

    @once
    def citation_json(self) -> Mapping[str, Mapping[str, JsonValue]]:
        """Per citation id, its JSON form as :meth:`Citation.to_dict` gives it, shared: copy
        before handing one out (every assessment's bibliography lists some sixty)."""
        return {cid: c._json for cid, c in self.citations.items()}

    def entry(self, key: str) -> Entry:
        try:
            return self.entries[key]
        except KeyError:
            raise KnowledgeError(f"knowledge entry {key!r} does not exist") from None

    def number(self, key: str) -> float:
        """The entry's value as a number (bool is refused: it is never a threshold)."""
        value = self.entry(key).value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise KnowledgeError(f"knowledge entry {key!r} is not a number")
        return float(value)

    def citation(self, citation_id: str) -> Citation:
        try:
            return self.citations[citation_id]
        except KeyError:
            raise KnowledgeError(f"citation {citation_id!r} does not exist") from None

    def text(self, lang: str, key: str) -> str:
        try:
            return self.texts[lang][key]
        except KeyError:
            raise KnowledgeError(f"no {lang!r} text for {key!r}") from None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.texts))


def _files(folder: Traversable) -> Iterator[Traversable]:
    if not folder.is_dir():
        return
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if item.name.endswith(".toml"):
            yield item


def _read_toml(item: Traversable) -> dict[str, Any]:
    try:
        return tomllib.loads(item.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"{item.name}: {exc}") from exc


def _is_entry(table: Mapping[str, Any]) -> bool:
    return "citation" in table or "citations" in table


def _flatten(prefix: str, table: Mapping[str, Any], source: str, out: dict[str, Entry]) -> None:
    if _is_entry(table):
        out_key = prefix
        if out_key in out:
            raise KnowledgeError(f"{source}: entry {out_key!r} defined twice")
        out[out_key] = _entry(out_key, table, source)
        return
    for name, value in table.items():
        if not isinstance(value, dict):
            raise KnowledgeError(f"{source}: {prefix + '.' if prefix else ''}{name} is not an entry")
        _flatten(f"{prefix}.{name}" if prefix else name, value, source, out)


def _entry(key: str, table: Mapping[str, Any], source: str) -> Entry:
    unknown = set(table) - _ENTRY_KEYS
    if unknown:
        raise KnowledgeError(f"{source}: entry {key!r} has unknown keys {sorted(unknown)}")
    for required in ("value", "locator", "verified"):
        if required not in table:
            raise KnowledgeError(f"{source}: entry {key!r} lacks {required!r}")
    if "citation" in table and "citations" in table:
        raise KnowledgeError(f"{source}: entry {key!r} has both citation and citations")
    raw = table["citations"] if "citations" in table else [table["citation"]]
    if not raw or not all(isinstance(c, str) and c for c in raw):
        raise KnowledgeError(f"{source}: entry {key!r} has an empty citation")
    if not isinstance(table["verified"], bool):
        raise KnowledgeError(f"{source}: entry {key!r}: verified must be true or false")
    check_value(key, table["value"], table.get("unit"), source)
    status = _status(key, table, tuple(raw), source)
    return Entry(
        key=key,
        value=table["value"],
        citations=tuple(raw),
        locator=str(table["locator"]),
        verified=table["verified"],
        unit=table.get("unit"),
        note=table.get("note"),
        status=status,
    )


def _status(key: str, table: Mapping[str, Any], citations: tuple[str, ...], source: str) -> str:
    """The entry's review status: given explicitly, or derived from ``verified`` and its sources."""
    verified = table["verified"]
    if "status" not in table:
        if not verified:
            return "unverified"
        return "policy" if citations == (_POLICY,) else "verified"
    status = table["status"]
    if status not in ENTRY_STATUSES:
        raise KnowledgeError(f"{source}: entry {key!r}: status must be one of {', '.join(ENTRY_STATUSES)}")
    # A finding flags every entry that is not checked against its primary source as unverified.
    if verified != (status in ("verified", "policy")):
        raise KnowledgeError(
            f"{source}: entry {key!r}: status {status!r} disagrees with verified = {str(verified).lower()}"
        )
    return str(status)


def _citation(cid: str, table: Mapping[str, Any], source: str) -> Citation:
    if not isinstance(table, dict):
        raise KnowledgeError(f"{source}: citation {cid!r} is not a table")
    unknown = set(table) - _CITATION_KEYS
    if unknown:
        raise KnowledgeError(f"{source}: citation {cid!r} has unknown keys {sorted(unknown)}")
    if "title" not in table or "kind" not in table:
        raise KnowledgeError(f"{source}: citation {cid!r} needs a title and a kind")
    if table["kind"] not in _CITATION_KINDS:
        raise KnowledgeError(f"{source}: citation {cid!r} has unknown kind {table['kind']!r}")
    return Citation(
        id=cid,
        kind=table["kind"],
        title=table["title"],
        authors=table.get("authors"),
        journal=table.get("journal"),
        year=table.get("year"),
        doi=table.get("doi"),
        url=table.get("url"),
        pmid=None if table.get("pmid") is None else str(table["pmid"]),
        note=table.get("note"),
        secondary_of=table.get("secondary_of"),
    )


def load_knowledge(root: Traversable | None = None) -> Knowledge:
    """Load and validate a knowledge base (the packaged one unless ``root`` is given).

    Raises:
        KnowledgeError: a file is malformed, an entry lacks its source, or a citation id
            does not resolve.
    """
    base = root if root is not None else resources.files("hccwatch") / "knowledge"
    citations: dict[str, Citation] = {}
    for item in _files(base / "citations"):
        for cid, table in _read_toml(item).items():
            if cid in citations:
                raise KnowledgeError(f"{item.name}: citation {cid!r} defined twice")
            citations[cid] = _citation(cid, table, item.name)
    for c in citations.values():
        if c.secondary_of is not None and c.secondary_of not in citations:
            raise KnowledgeError(f"citation {c.id!r} is secondary_of unknown {c.secondary_of!r}")
    entries: dict[str, Entry] = {}
    for item in _files(base / "thresholds"):
        _flatten("", _read_toml(item), item.name, entries)
    for entry in entries.values():
        for cid in entry.citations:
            if cid not in citations:
                raise KnowledgeError(f"entry {entry.key!r} cites unknown {cid!r}")
    texts: dict[str, dict[str, str]] = {}
    text_root = base / "text"
    for lang_dir in sorted(text_root.iterdir(), key=lambda t: t.name) if text_root.is_dir() else []:
        if not lang_dir.is_dir():
            continue
        flat: dict[str, str] = {}
        for item in _files(lang_dir):
            _flatten_text("", _read_toml(item), f"{lang_dir.name}/{item.name}", flat)
        texts[lang_dir.name] = flat
    version = (base / "VERSION").read_text(encoding="utf-8").strip()
    return Knowledge(version=version, citations=citations, entries=entries, texts=texts)


def _flatten_text(prefix: str, table: Mapping[str, Any], source: str, out: dict[str, str]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if key in out:
            raise KnowledgeError(f"{source}: text {key!r} defined twice")
        if isinstance(value, dict):
            _flatten_text(key, value, source, out)
        elif isinstance(value, str):
            out[key] = value
        else:
            raise KnowledgeError(f"{source}: text {key!r} is not a string")


@functools.cache
def default_knowledge() -> Knowledge:
    """The packaged knowledge base, loaded once per process."""
    return load_knowledge()
