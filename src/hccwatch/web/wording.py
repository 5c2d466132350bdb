"""The web pages' words in each language, read from ``wording.toml`` (data, not code)."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

__all__ = ["LANGUAGES", "Wording", "wording"]

LANGUAGES = ("en", "zh")
_GROUPS = ("chart", "treatments", "timeline", "tests", "letter")


@dataclass(frozen=True)
class Wording:
    lang: str
    chart: Mapping[str, str]
    treatments: Mapping[str, str]
    timeline: Mapping[str, str]
    tests: Mapping[str, str]
    letter: Mapping[str, str]


def _strings(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ValueError(f"wording.toml [{where}] must map keys to strings")
    return dict(raw)


@functools.cache
def _all() -> dict[str, Wording]:
    text = resources.files("hccwatch.web").joinpath("wording.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    out: dict[str, Wording] = {}
    for lang in LANGUAGES:
        table = raw.get(lang)
        if not isinstance(table, dict):
            raise ValueError(f"wording.toml has no [{lang}] tables")
        groups = {g: _strings(table.get(g), f"{lang}.{g}") for g in _GROUPS}
        out[lang] = Wording(lang, **groups)
    return out


def wording(lang: str) -> Wording:
    """The words of ``lang``; an unknown language gets English (pages validate ``lang`` first)."""
    table = _all()
    return table.get(lang, table["en"])
