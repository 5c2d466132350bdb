"""Record entry forms, described from the record model and validated only by ``parse_record``.

A form is a list of fields generated from the pydantic models of :mod:`hccwatch.record.model`
(names, types, required, choices) and, for lab units, the record's own list of accepted units.
A submitted form becomes a changed record that :func:`parse_record` judges; its problems come
back at the form fields they name, and the values as typed are kept so nothing is lost. This
module decides nothing clinical and holds no clinical number: it only translates between HTML
form text and record JSON.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Union

from pydantic import BaseModel

from hccwatch.core.knowledge import Knowledge
from hccwatch.errors import InvalidRecordError
from hccwatch.record.model import (
    Explant,
    Imaging,
    ImagingLesion,
    Lab,
    Liver,
    MetastaticSite,
    PatientRecord,
    Symptom,
    Treatment,
    Tumor,
    parse_record,
    surveillance_profile_ids,
)
from hccwatch.record.units import LAB_TESTS, accepted_units
from hccwatch.report.labels import labels

__all__ = [
    "CONTACT_FIELDS",
    "KINDS",
    "EntryKind",
    "FieldSpec",
    "FormResult",
    "contact_values",
    "entry_specs",
    "entry_values",
    "kind",
    "read_contact",
    "remove_entry",
    "submitted_lesion_rows",
    "submit_entry",
]

FieldType = Literal["text", "number", "integer", "date", "choice", "boolean", "multichoice", "unit"]
FormData = Mapping[str, str | Sequence[str]]

# Blank lesion rows offered below the lesions already on an imaging study.
BLANK_LESION_ROWS = 2
# The form key of problems that belong to no single field.
FORM = ""


@dataclass(frozen=True)
class FieldSpec:
    """One form field: ``name`` is its path relative to the entry (``lesions[0].size_cm``)."""

    name: str
    label: str
    type: FieldType
    required: bool = False
    choices: tuple[str, ...] = ()
    choice_labels: tuple[str, ...] = ()
    help: str | None = None
    default: str | None = None
    max_length: int | None = None

    @property
    def options(self) -> list[tuple[str, str]]:
        """(value, label) pairs of a choice, unit or multichoice field."""
        return list(zip(self.choices, self.choice_labels, strict=True))


@dataclass(frozen=True)
class EntryKind:
    """A kind of record entry: a list item (``collection``) or a group of record fields."""

    key: str
    title: str
    collection: str | None
    fields: tuple[FieldSpec, ...]
    fixed: Mapping[str, str] = field(default_factory=dict)
    lesion_fields: tuple[FieldSpec, ...] = ()

    @property
    def is_list(self) -> bool:
        return self.collection is not None

    def matches(self, entry: Mapping[str, Any]) -> bool:
        """Whether a stored list item is of this kind (a lab kind is one test of ``labs``)."""
        return all(entry.get(k) == v for k, v in self.fixed.items())

    def lesion_rows(self, count: int) -> list[tuple[FieldSpec, ...]]:
        """The fields of ``count`` lesion rows, named ``lesions[i].<field>``."""
        return [
            tuple(replace(spec, name=f"lesions[{i}].{spec.name}") for spec in self.lesion_fields)
            for i in range(count)
        ]


@dataclass
class FormResult:
    """A submitted form: the validated record, or field problems; ``values`` as typed."""

    values: dict[str, str | list[str]]
    errors: dict[str, list[str]]
    record: PatientRecord | None = None
    data: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.record is not None and not self.errors


# -- fields from the record model ---------------------------------------------------------------


def _label(key: str) -> str:
    return labels().title(key)


def _choice_label(value: str) -> str:
    return labels().key(value)


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
    if origin is typing.Annotated:
        return _strip_optional(typing.get_args(annotation)[0])
    return annotation


def _field_type(annotation: Any) -> tuple[FieldType, tuple[str, ...]]:
    inner = _strip_optional(annotation)
    origin = typing.get_origin(inner)
    if origin is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(inner))
    if origin is tuple:
        item = _strip_optional(typing.get_args(inner)[0])
        if typing.get_origin(item) is Literal:
            return "multichoice", tuple(str(a) for a in typing.get_args(item))
    if inner is bool:
        return "boolean", ("yes", "no")
    if inner is int:
        return "integer", ()
    if inner is float:
        return "number", ()
    if inner is dt.date:
        return "date", ()
    if inner is str:
        return "text", ()
    raise TypeError(f"no form field for {annotation!r}")


def _spec(model: type[BaseModel], path: str, name: str | None = None) -> FieldSpec:
    """The form field of ``model``'s field ``path`` (dotted through nested models)."""
    head, _, rest = path.partition(".")
    info = model.model_fields[head]
    if rest:
        nested = _strip_optional(info.annotation)
        return _spec(nested, rest, name or path)
    kind, choices = _field_type(info.annotation)
    default = None if info.is_required() else info.get_default(call_default_factory=False)
    shown_default = None if default is None or isinstance(default, tuple) else str(default)
    if isinstance(default, bool):
        shown_default = "yes" if default else "no"
    return FieldSpec(
        name=name or path,
        label=_label(head),
        type=kind,
        required=info.is_required(),
        choices=choices,
        choice_labels=tuple(_choice_label(c) for c in choices),
        help=info.description,
        default=shown_default,
    )


def _fields(model: type[BaseModel], paths: Sequence[str]) -> tuple[FieldSpec, ...]:
    return tuple(_spec(model, p) for p in paths)


def _all_fields(model: type[BaseModel], *, skip: Sequence[str] = ()) -> tuple[FieldSpec, ...]:
    return _fields(model, [name for name in model.model_fields if name not in skip])


def _lab_kind(test: str, knowledge: Knowledge | None) -> EntryKind:
    units = accepted_units(test, knowledge)
    unit = FieldSpec(
        name="unit",
        label=_label("unit"),
        type="unit",
        # INR is a ratio: its one accepted "unit" is written 1 and shown as no unit.
        required=units != ("1",),
        choices=units,
        choice_labels=tuple("no unit" if u == "1" else u for u in units),
        default=units[0] if units else None,
    )
    value, date = _spec(Lab, "value"), _spec(Lab, "date")
    return EntryKind(
        key=test,
        title=_label(test),
        collection="labs",
        fields=(value, unit, date),
        fixed={"test": test},
    )


def _with_choices(spec: FieldSpec, choices: tuple[str, ...]) -> FieldSpec:
    return FieldSpec(
        name=spec.name,
        label=spec.label,
        type="choice",
        required=spec.required,
        choices=choices,
        choice_labels=choices,
        help=spec.help,
    )


def _build_kinds(knowledge: Knowledge | None) -> dict[str, EntryKind]:
    profiles = surveillance_profile_ids(knowledge)
    details = _fields(PatientRecord, ["id", "sex", "birth_date", "age", "liver.cirrhosis", "liver.etiology"])
    profile = _with_choices(_spec(PatientRecord, "surveillance_profile"), profiles)
    liver = [f"liver.{name}" for name in Liver.model_fields if name not in {"cirrhosis", "etiology"}]
    pathology = [
        "tumors_assessed_on",
        "histologic_grade",
        "macrovascular_invasion",
        "microvascular_invasion",
        "lymph_node_metastasis",
        "extrahepatic_metastasis",
        "infiltrative",
        "adjacent_organ_invasion",
        "visceral_peritoneum_perforation",
        "dcp_mau_ml",
    ]
    kinds = [
        EntryKind("details", "Patient details and aetiology", None, (*details, profile)),
        EntryKind(
            "performance", "Performance status", None, _fields(PatientRecord, ["ecog", "ecog_cancer_related"])
        ),
        EntryKind("liver", "Ascites, encephalopathy and liver status", None, _fields(PatientRecord, liver)),
        EntryKind("pathology", "Tumour extent and pathology", None, _fields(PatientRecord, pathology)),
        EntryKind(
            "explant",
            "Explant pathology",
            None,
            tuple(replace(s, name=f"explant.{s.name}") for s in _all_fields(Explant)),
        ),
        *(_lab_kind(test, knowledge) for test in LAB_TESTS),
        EntryKind(
            "imaging",
            "Imaging study",
            "imaging",
            _all_fields(Imaging, skip=["lesions"]),
            lesion_fields=_all_fields(ImagingLesion),
        ),
        EntryKind("treatment", "Treatment", "treatments", _all_fields(Treatment)),
        EntryKind("symptom", "Symptom", "symptoms", _all_fields(Symptom)),
        EntryKind("tumor", "Tumour", "tumors", _all_fields(Tumor)),
        EntryKind("metastatic_site", "Metastatic site", "metastatic_sites", _all_fields(MetastaticSite)),
    ]
    return {k.key: k for k in kinds}


_KINDS_CACHE: dict[int, dict[str, EntryKind]] = {}


def _kinds(knowledge: Knowledge | None = None) -> dict[str, EntryKind]:
    key = id(knowledge)
    if key not in _KINDS_CACHE:
        _KINDS_CACHE[key] = _build_kinds(knowledge)
    return _KINDS_CACHE[key]


KINDS: tuple[str, ...] = tuple(_kinds())


def kind(key: str, knowledge: Knowledge | None = None) -> EntryKind | None:
    """The entry kind named ``key`` (None if there is none)."""
    return _kinds(knowledge).get(key)


# -- form text <-> record JSON ------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Longer numbers than this are no clinical value; they go to the record as text, which refuses them.
_MAX_NUMBER_CHARS = 30


def _one(raw: str | Sequence[str] | None) -> str:
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw.strip()
    return str(raw[-1]).strip() if raw else ""


def _many(raw: str | Sequence[str] | None) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw.strip()] if raw.strip() else []
    return [str(r).strip() for r in raw if str(r).strip()]


def _to_json(spec: FieldSpec, text: str | list[str]) -> Any:
    """The JSON value of a field as typed; text the record would refuse is passed on as text, so
    the record's own message names it (never a guess here)."""
    if isinstance(text, list):
        return text or None
    if not text:
        return None
    if spec.type == "integer" and len(text) <= _MAX_NUMBER_CHARS:
        if _INTEGER.fullmatch(text):
            return int(text)
        if _NUMBER.fullmatch(text):
            return float(text)
    if spec.type == "number" and len(text) <= _MAX_NUMBER_CHARS and _NUMBER.fullmatch(text):
        return float(text)
    if spec.type == "boolean" and text in ("yes", "no"):
        return text == "yes"
    return text


def _to_text(spec: FieldSpec, value: Any) -> str | list[str]:
    if spec.type == "multichoice":
        return [str(v) for v in value] if isinstance(value, list | tuple) else []
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer() and spec.type == "number":
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    return str(value)


def _read_values(specs: Sequence[FieldSpec], form: FormData) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for spec in specs:
        raw = form.get(spec.name)
        out[spec.name] = _many(raw) if spec.type == "multichoice" else _one(raw)
    return out


def _get(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = {}
            node[part] = child
        node = child
    if value is None:
        node.pop(last, None)
    else:
        node[last] = value


def _lesion_count(data: Mapping[str, Any] | None) -> int:
    lesions = data.get("lesions") if data else None
    return len(lesions) if isinstance(lesions, list) else 0


def entry_specs(k: EntryKind, lesion_rows: int) -> list[FieldSpec]:
    """Every field of a form of kind ``k`` (with ``lesion_rows`` lesion rows for imaging)."""
    specs = list(k.fields)
    for row in k.lesion_rows(lesion_rows):
        specs.extend(row)
    return specs


def entry_values(
    k: EntryKind, record: Mapping[str, Any] | None, index: int | None = None
) -> tuple[dict[str, str | list[str]], int]:
    """The form values showing the stored entry (blank for a new one), and its lesion row count."""
    source: Mapping[str, Any] = {}
    if record is not None:
        if k.is_list and index is not None:
            items = record.get(k.collection or "") or []
            source = items[index] if 0 <= index < len(items) else {}
        elif not k.is_list:
            source = record
    rows = _lesion_count(source) + BLANK_LESION_ROWS if k.lesion_fields else 0
    values = {spec.name: _to_text(spec, _stored(source, spec.name)) for spec in entry_specs(k, rows)}
    if not source:
        # A new lab starts in the unit the rules use; any accepted unit can be chosen instead.
        values.update({s.name: s.default for s in k.fields if s.type == "unit" and s.default})
    return values, rows


def _stored(source: Mapping[str, Any], name: str) -> Any:
    match = _LESION_FIELD.fullmatch(name)
    if match:
        lesions = source.get("lesions") or []
        i = int(match["index"])
        return lesions[i].get(match["field"]) if i < len(lesions) else None
    return _get(source, name)


_LESION_FIELD = re.compile(r"lesions\[(?P<index>[0-9]+)\]\.(?P<field>[a-z_]+)")
_MAX_LESION_ROWS = 100


def submitted_lesion_rows(form: FormData) -> int:
    found = [int(m["index"]) for key in form if (m := _LESION_FIELD.fullmatch(key))]
    return min(max(found, default=-1) + 1, _MAX_LESION_ROWS)


# -- problems back to fields --------------------------------------------------------------------

_PATH = re.compile(
    r"(?P<path>[A-Za-z_][A-Za-z0-9_]*(?:\[[0-9]+\]|\.[A-Za-z_][A-Za-z0-9_]*)*): (?P<msg>.*)", re.S
)
# A lab's unit and plausibility are judged on the whole lab (one conversion), so its problem
# names the lab; the words of the message say which field it is about.
_LAB_UNIT_WORDS = ("unit ", "no unit ")


def _field_of(k: EntryKind, relative: str, message: str, names: set[str]) -> str | None:
    if relative in names:
        return relative
    item = re.sub(r"\[[0-9]+\]$", "", relative)  # one value of a multiple choice
    if item in names:
        return item
    if not relative and k.fixed.get("test") is not None:
        return "unit" if message.startswith(_LAB_UNIT_WORDS) else "value"
    return None


def _map_problems(
    k: EntryKind,
    problems: Sequence[str],
    prefix: str,
    specs: Sequence[FieldSpec],
    lesion_rows: Sequence[int],
) -> dict[str, list[str]]:
    """Each record problem at the form field it names; the rest under :data:`FORM`."""
    names = {s.name for s in specs}
    out: dict[str, list[str]] = {}
    for problem in problems:
        match = _PATH.fullmatch(problem)
        target: str | None = None
        message = problem
        if match:
            path, msg = match["path"], match["msg"]
            relative = _relative(path, prefix)
            if relative is not None:
                relative = _form_lesion(relative, lesion_rows)
                target = _field_of(k, relative, msg, names)
                if target is not None:
                    message = msg
        if target is None:
            # A record-wide problem that names one of this entry's fields (a date before birth).
            for spec in specs:
                full = f"{prefix}.{spec.name}" if prefix else spec.name
                if re.search(rf"(?<![\w.\]]){re.escape(full)}(?![\w\[])", problem):
                    target = spec.name
                    message = problem.replace(full, spec.label.lower())
                    break
        out.setdefault(target if target is not None else FORM, []).append(message)
    return out


def _relative(path: str, prefix: str) -> str | None:
    if not prefix:
        return path
    if path == prefix:
        return ""
    if path.startswith(prefix + "."):
        return path[len(prefix) + 1 :]
    return None


def _form_lesion(relative: str, lesion_rows: Sequence[int]) -> str:
    """``lesions[i]...`` of the record as the form row it came from (blank rows were dropped)."""
    match = re.match(r"lesions\[([0-9]+)\]", relative)
    if match and int(match[1]) < len(lesion_rows):
        return f"lesions[{lesion_rows[int(match[1])]}]" + relative[match.end() :]
    return relative


# -- submit -------------------------------------------------------------------------------------


def _entry_json(
    k: EntryKind, values: Mapping[str, str | list[str]], base: Mapping[str, Any], rows: int
) -> tuple[dict[str, Any], list[int]]:
    """The entry as record JSON on top of ``base`` (the stored entry), and which form row each
    kept lesion came from."""
    entry: dict[str, Any] = copy.deepcopy(dict(base))
    for spec in k.fields:
        _set(entry, spec.name, _to_json(spec, values[spec.name]))
    entry.update(k.fixed)
    rows_used: list[int] = []
    if k.lesion_fields:
        lesions: list[dict[str, Any]] = []
        stored = base.get("lesions") or []
        for i, row in enumerate(k.lesion_rows(rows)):
            typed = {s.name.rsplit(".", 1)[1]: _to_json(s, values.get(s.name, "")) for s in row}
            if all(v is None for v in typed.values()):
                continue  # a blank row: no lesion
            lesion = copy.deepcopy(stored[i]) if i < len(stored) and isinstance(stored[i], dict) else {}
            for name, value in typed.items():
                _set(lesion, name, value)
            lesions.append(lesion)
            rows_used.append(i)
        _set(entry, "lesions", lesions or None)
    return entry, rows_used


def submit_entry(
    k: EntryKind,
    record: Mapping[str, Any] | None,
    form: FormData,
    *,
    index: int | None = None,
    knowledge: Knowledge | None = None,
) -> FormResult:
    """The record with this form's entry added (``index`` None) or replacing entry ``index``.

    ``record`` is the stored record JSON (None for a new patient, with kind ``details``). The
    result holds the record ``parse_record`` accepted, or its problems at the form's fields.
    """
    rows = submitted_lesion_rows(form) if k.lesion_fields else 0
    specs = entry_specs(k, rows)
    values = _read_values(specs, form)
    data: dict[str, Any] = copy.deepcopy(dict(record)) if record is not None else {}
    if k.is_list:
        items = list(data.get(k.collection or "") or [])
        if index is not None and not (0 <= index < len(items) and k.matches(items[index])):
            return FormResult(values, {FORM: ["this entry no longer exists; it may have been deleted"]})
        base = items[index] if index is not None else {}
        entry, rows_used = _entry_json(k, values, base, rows)
        position = index if index is not None else len(items)
        if index is None:
            items.append(entry)
        else:
            items[index] = entry
        data[k.collection or ""] = items
        prefix = f"{k.collection}[{position}]"
    else:
        for spec in k.fields:
            _set(data, spec.name, _to_json(spec, values[spec.name]))
        rows_used, prefix = [], ""
    try:
        parsed = parse_record(data, knowledge=knowledge)
    except InvalidRecordError as exc:
        return FormResult(values, _map_problems(k, exc.problems, prefix, specs, rows_used), data=data)
    return FormResult(values, {}, record=parsed, data=data)


def remove_entry(
    k: EntryKind, record: Mapping[str, Any], index: int, *, knowledge: Knowledge | None = None
) -> FormResult:
    """The record without list entry ``index`` (validated like any change)."""
    data = copy.deepcopy(dict(record))
    items = list(data.get(k.collection or "") or [])
    if not k.is_list or not (0 <= index < len(items) and k.matches(items[index])):
        return FormResult({}, {FORM: ["this entry no longer exists; it may have been deleted"]})
    del items[index]
    if items:
        data[k.collection or ""] = items
    else:
        # The last one gone leaves the list unknown, not "none": an empty tumour list would
        # say the patient has no tumour, which deleting an entry does not assert.
        data.pop(k.collection or "", None)
    try:
        parsed = parse_record(data, knowledge=knowledge)
    except InvalidRecordError as exc:
        return FormResult({}, {FORM: list(exc.problems)}, data=data)
    return FormResult({}, {}, record=parsed, data=data)


# -- contact details (registry columns, not record fields) ---------------------------------------


def _contact_fields() -> tuple[FieldSpec, ...]:
    # Imported here: the record forms need no database layer.
    from hccwatch.registry.models import Patient

    def spec(name: str, label: str) -> FieldSpec:
        length = getattr(Patient.__table__.c[name].type, "length", None)
        return FieldSpec(name=name, label=label, type="text", max_length=length)

    return (spec("name", "Name"), spec("phone", "Phone"), spec("family_doctor", "Family doctor"))


CONTACT_FIELDS: tuple[FieldSpec, ...] = _contact_fields()


def contact_values(name: str | None, phone: str | None, family_doctor: str | None) -> dict[str, Any]:
    return {"name": name or "", "phone": phone or "", "family_doctor": family_doctor or ""}


def read_contact(form: FormData) -> tuple[dict[str, str | None], dict[str, list[str]], dict[str, Any]]:
    """The contact details typed (None for blank), problems per field, and the values as typed."""
    values = _read_values(CONTACT_FIELDS, form)
    out: dict[str, str | None] = {}
    errors: dict[str, list[str]] = {}
    for spec in CONTACT_FIELDS:
        text = str(values[spec.name])
        if spec.max_length is not None and len(text) > spec.max_length:
            errors[spec.name] = [f"at most {spec.max_length} characters, got {len(text)}"]
        elif any(ord(c) < 32 for c in text):
            errors[spec.name] = ["must not hold control characters"]
        out[spec.name] = text or None
    return out, errors, dict(values)
