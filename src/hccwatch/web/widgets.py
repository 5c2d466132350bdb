"""Form fields ready for a template: id, value as typed, options, problems (no HTML here)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hccwatch.web.forms import FORM, FieldSpec

__all__ = ["Option", "Widget", "field_id", "form_errors", "widgets"]


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class Widget:
    """One field as a template shows it; ``options`` also hold a typed value that is no choice,
    marked as such, so a value refused is still shown (nothing typed is lost)."""

    spec: FieldSpec
    id: str
    value: str
    values: tuple[str, ...]
    errors: tuple[str, ...]
    options: tuple[Option, ...]

    @property
    def control(self) -> str:
        """The HTML control: ``input``, ``date``, ``select`` or ``checkboxes``."""
        if self.spec.type == "multichoice":
            return "checkboxes"
        if self.spec.type in ("choice", "unit", "boolean"):
            return "select"
        return "date" if self.spec.type == "date" else "input"

    @property
    def inputmode(self) -> str | None:
        return {"number": "decimal", "integer": "numeric"}.get(self.spec.type)

    @property
    def blank_label(self) -> str:
        if self.spec.type == "boolean":
            return "unknown"
        if self.spec.default is not None:
            return f"(default: {self.spec.default})"
        return "choose..." if self.spec.required else "unknown"


def field_id(name: str) -> str:
    return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _options(spec: FieldSpec, chosen: Sequence[str]) -> tuple[Option, ...]:
    out = [Option(value, label, value in chosen) for value, label in spec.options]
    known = set(spec.choices)
    out += [Option(v, f"{v} (not one of the choices)", True) for v in chosen if v and v not in known]
    return tuple(out)


def widgets(
    specs: Sequence[FieldSpec], values: Mapping[str, Any], errors: Mapping[str, Sequence[str]]
) -> list[Widget]:
    out = []
    for spec in specs:
        raw = values.get(spec.name, [] if spec.type == "multichoice" else "")
        many = tuple(str(v) for v in raw) if isinstance(raw, list | tuple) else (str(raw),) if raw else ()
        one = many[-1] if many else ""
        out.append(
            Widget(
                spec=spec,
                id=field_id(spec.name),
                value=one,
                values=many,
                errors=tuple(errors.get(spec.name, ())),
                options=_options(spec, many) if spec.choices or spec.type == "unit" else (),
            )
        )
    return out


def form_errors(errors: Mapping[str, Sequence[str]]) -> list[str]:
    """The problems that belong to no field of the form."""
    return list(errors.get(FORM, ()))
