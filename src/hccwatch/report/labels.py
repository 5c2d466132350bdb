"""Display names of an assessment, kept as data in ``labels.toml``: one place for every view.

The reports, and any other reader of an assessment (a web app, an EHR card), name findings,
sections and units through :func:`labels`, so a renamed score or section changes everywhere at
once. Display strings only: clinical numbers stay in the knowledge base.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

__all__ = ["Labels", "SectionLabels", "labels"]


@dataclass(frozen=True)
class SectionLabels:
    title: str
    empty: str = ""
    entry: str = ""
    intro: str | None = None


@dataclass(frozen=True)
class Labels:
    findings: Mapping[str, str]
    sections: Mapping[str, SectionLabels]
    bottom_line: Mapping[str, str]
    words: Mapping[str, str]
    option_status: Mapping[str, str]
    as_of_source: Mapping[str, str]
    unit_suffixes: Mapping[str, str]
    acronyms: Mapping[str, str]

    def word(self, key: str) -> str:
        return self.words[key]

    def section(self, key: str) -> SectionLabels:
        return self.sections[key]

    def _words(self, key: str) -> str:
        return " ".join(self.acronyms.get(w, w) for w in key.split("_"))

    def key(self, key: str) -> str:
        """A key as words: ``meld_3`` -> ``MELD 3.0``, ``bilirubin_mg_dl`` -> ``bilirubin (mg/dL)``,
        ``chest_ct`` -> ``chest CT``."""
        if key in self.findings:
            return self.findings[key]
        for suffix, unit in self.unit_suffixes.items():
            if key.endswith(suffix) and len(key) > len(suffix):
                return f"{self._words(key.removesuffix(suffix))} ({unit})"
        return self._words(key)

    def title(self, key: str) -> str:
        """A key as a title: known names as written, others capitalised."""
        text = self.key(key)
        return text if key in self.findings else text[:1].upper() + text[1:]


def _strings(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"labels.toml [{where}] must map keys to strings")
    return dict(raw)


def _section(key: str, raw: object) -> SectionLabels:
    fields = _strings(raw, f"sections.{key}")
    unknown = set(fields) - {"title", "empty", "entry", "intro"}
    if unknown or "title" not in fields:
        raise ValueError(f"labels.toml [sections.{key}] needs a title; other keys: empty, entry, intro")
    return SectionLabels(**fields)


@functools.cache
def labels() -> Labels:
    """The packaged display names (read once)."""
    text = resources.files("hccwatch.report").joinpath("labels.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    sections = raw.get("sections")
    if not isinstance(sections, dict):
        raise ValueError("labels.toml has no [sections]")
    return Labels(
        findings=_strings(raw.get("findings"), "findings"),
        sections={k: _section(k, v) for k, v in sections.items()},
        bottom_line=_strings(raw.get("bottom_line"), "bottom_line"),
        words=_strings(raw.get("words"), "words"),
        option_status=_strings(raw.get("option_status"), "option_status"),
        as_of_source=_strings(raw.get("as_of_source"), "as_of_source"),
        unit_suffixes=_strings(raw.get("unit_suffixes"), "unit_suffixes"),
        acronyms=_strings(raw.get("acronyms"), "acronyms"),
    )
