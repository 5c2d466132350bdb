"""The patient record: typed, validated, with units converted at the boundary.

Field names are a contract (see the README); fields may be added, never renamed.
Absent or ``null`` means *unknown*, never "no": a rule that needs an unknown answers
"cannot determine" and names it. Unknown keys are refused so a misspelt field cannot
silently become unknown.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from hccwatch.core.knowledge import Knowledge
from hccwatch.errors import HccwatchError, InvalidRecordError, UnitError
from hccwatch.record.messages import describe, human_message, oversized, where
from hccwatch.record.units import LAB_TESTS, BoundaryTables, CanonicalValue, boundary_tables

__all__ = [
    "Assumption",
    "Explant",
    "Imaging",
    "ImagingLesion",
    "Lab",
    "Liver",
    "MetastaticSite",
    "PatientRecord",
    "Symptom",
    "Treatment",
    "Tumor",
    "parse_record",
    "surveillance_profile_ids",
]

LabTest = Literal["afp", "bilirubin", "albumin", "inr", "creatinine", "sodium", "platelets", "dcp", "afp_l3"]
Etiology = Literal["hbv", "hcv", "alcohol", "masld", "other"]
Site = Literal["lung", "lymph_node", "bone", "adrenal", "peritoneum", "brain", "other"]
LesionSite = Literal["liver", "lung", "lymph_node", "bone", "adrenal", "peritoneum", "brain", "other"]
TreatmentType = Literal[
    "resection", "ablation", "tace", "tare", "sbrt", "transplant", "systemic", "radiotherapy"
]
Modality = Literal["ultrasound", "ct", "mri", "chest_xray", "bone_scan", "pet_ct", "xray"]
Region = Literal["abdomen", "liver", "chest", "spine", "brain", "bone", "whole_body", "pelvis"]
ImagingResult = Literal["normal", "new_lesion", "indeterminate", "stable", "progression"]
SymptomCode = Literal[
    "cough",
    "wheeze",
    "haemoptysis",
    "dyspnoea",
    "chest_pain",
    "bone_pain",
    "back_pain",
    "neck_pain",
    "night_pain",
    "pain_worse_on_straining",
    "radicular_pain",
    "spinal_tenderness",
    "pathological_fracture",
    "leg_weakness",
    "leg_numbness",
    "gait_difficulty",
    "bladder_bowel_dysfunction",
    "saddle_numbness",
    "headache",
    "confusion",
    "seizure",
    "focal_weakness",
    "cranial_nerve_palsy",
    "abdominal_pain",
    "abdominal_distension",
    "jaundice",
    "gi_bleeding",
    "weight_loss",
]

# US spellings and common variants accepted on input, stored under the contract code.
SYMPTOM_ALIASES: dict[str, str] = {
    "hemoptysis": "haemoptysis",
    "dyspnea": "dyspnoea",
    "shortness_of_breath": "dyspnoea",
    "abdominal_distention": "abdominal_distension",
    "gastrointestinal_bleeding": "gi_bleeding",
    "bowel_bladder_dysfunction": "bladder_bowel_dysfunction",
    "sphincter_dysfunction": "bladder_bowel_dysfunction",
    "leg_paresthesia": "leg_numbness",
    "leg_paraesthesia": "leg_numbness",
    "walking_difficulty": "gait_difficulty",
    "pain_worse_on_coughing": "pain_worse_on_straining",
    "seizures": "seizure",
    "weightloss": "weight_loss",
}

# Histologic grade spellings (Edmondson-Steiner I-IV and WHO G1-G4) mapped to words.
GRADE_ALIASES: dict[str, str] = {
    "g1": "well",
    "i": "well",
    "1": "well",
    "well": "well",
    "g2": "moderate",
    "ii": "moderate",
    "2": "moderate",
    "moderate": "moderate",
    "g3": "poor",
    "iii": "poor",
    "3": "poor",
    "poor": "poor",
    "g4": "undifferentiated",
    "iv": "undifferentiated",
    "4": "undifferentiated",
    "undifferentiated": "undifferentiated",
}

_SEGMENTS = frozenset({"1", "2", "3", "4", "4a", "4b", "5", "6", "7", "8"})


def surveillance_profile_ids(knowledge: Knowledge | None = None) -> tuple[str, ...]:
    """The schedule profiles the knowledge base defines."""
    return boundary_tables(knowledge).profile_ids


# The knowledge base a record is validated with travels in pydantic's validation context, so
# units, plausibility and dates are judged by the same knowledge the rules will read.
_TABLES = "hccwatch.tables"


def _tables(info: ValidationInfo) -> BoundaryTables:
    context = info.context
    if isinstance(context, dict):
        tables = context.get(_TABLES)
        if isinstance(tables, BoundaryTables):
            return tables
    return boundary_tables()


def _normalise_segment(v: Any) -> str | None:
    if v is None:
        return None
    # A number is a fair way to write a segment; true/false or 4.5 is a mistake.
    if isinstance(v, bool) or not isinstance(v, str | int):
        raise ValueError(f"expected a Couinaud segment (1-8, 4a, 4b), got {describe(v)}")
    text = str(v).strip().lower().removeprefix("segment").removeprefix("s").strip()
    if text not in _SEGMENTS:
        raise ValueError(f"{describe(v)} is not a Couinaud segment (1-8, 4a, 4b)")
    return text


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# What _iso_day answers for text in the YYYY-MM-DD form that names no day (2024-02-30).
_NOT_A_DAY = "not a calendar date"


@functools.lru_cache(maxsize=4096)
def _iso_day(text: str) -> dt.date | str | None:
    """The day ``text`` writes as YYYY-MM-DD (surrounding spaces allowed), ``_NOT_A_DAY`` when
    it has that form but names no day, None when it has another form.

    Cached: a record repeats its dates (a lab panel is one date per test), and the answer
    depends on the text alone, never on a knowledge base.
    """
    stripped = text.strip()
    if _ISO_DATE.fullmatch(stripped) is None:
        return None
    try:
        return dt.date.fromisoformat(stripped)
    except ValueError:
        return _NOT_A_DAY


def _date(v: Any, info: ValidationInfo) -> Any:
    """A calendar date written YYYY-MM-DD, within the plausible years of the knowledge base.

    Numbers (Unix times? 20240101?) and date-times are refused rather than guessed at.
    """
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        raise ValueError(f"expected a date without a time (YYYY-MM-DD), got {describe(v.isoformat())}")
    if isinstance(v, str):
        day = _iso_day(v)
        if day is _NOT_A_DAY:
            raise ValueError(f"{describe(v)} is not a calendar date")
        if day is not None:
            v = day
    if not isinstance(v, dt.date):
        raise ValueError(f"expected a date (YYYY-MM-DD), got {describe(v)}")
    tables = _tables(info)
    if not tables.first_date <= v <= tables.last_date:
        raise ValueError(
            f"{v.isoformat()} is outside the plausible dates "
            f"({tables.first_date.isoformat()} to {tables.last_date.isoformat()})"
        )
    return v


# Strict scalars: JSON true is not 1, "3.2" is not a number, 7 is not text. Lax coercion would
# turn a data-entry mistake into a plausible-looking value.
Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]
Num = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Text = Annotated[str, Strict()]
Date = Annotated[dt.date, BeforeValidator(_date)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_range(tables: BoundaryTables, key: str, value: float, what: str) -> float:
    bounds = tables.range(key)
    if not bounds.contains(value):
        unit = f" {bounds.unit}" if bounds.unit and bounds.unit != "1" else ""
        shown = str(value) if isinstance(value, int) else f"{value:g}"
        raise ValueError(
            f"{what} {shown}{unit} is not physiologically plausible (expected {bounds.describe()})"
        )
    return value


class Lab(_Model):
    """One laboratory result as reported; ``canonical`` is the same value in the rules' unit."""

    test: LabTest
    value: Num
    unit: Text | None = None
    date: Date

    # The canonical value lives in pydantic's private store, written here rather than declared
    # as a ``PrivateAttr``: a declared one makes pydantic initialise the store of every Lab
    # (a deep copy of the "no default" marker per instance), the largest single cost of
    # validating a record with a hundred labs. Equality, copies and pickling carry the store.
    @model_validator(mode="after")
    def _convert(self, info: ValidationInfo) -> Lab:
        tables = _tables(info)
        test = self.test
        try:
            canonical = tables.convert(test, self.value, self.unit)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if not tables.range(test).contains(canonical.value):
            _check_range(tables, test, canonical.value, f"{test} (after conversion to {canonical.unit})")
        object.__setattr__(self, "__pydantic_private__", {"_canonical": canonical})
        return self

    @property
    def canonical(self) -> CanonicalValue:
        # Read from pydantic's private store directly: ``self._canonical`` goes through
        # ``BaseModel.__getattr__`` (several lookups and a ``hasattr`` per read), and the rules
        # read this value about a hundred times per assessment.
        private: dict[str, CanonicalValue] = self.__pydantic_private__  # type: ignore[assignment]
        return private["_canonical"]


class Liver(_Model):
    cirrhosis: Bool | None = None
    etiology: tuple[Etiology, ...] | None = None
    ascites: Literal["none", "mild", "moderate_severe"] | None = None
    encephalopathy: Literal["none", "grade_1_2", "grade_3_4"] | None = None
    dialysis_twice_past_week: Bool | None = None
    cvvhd_24h_past_week: Bool | None = None
    portal_hypertension: Bool | None = Field(
        default=None, description="Clinically significant portal hypertension (BCLC A resection choice)"
    )
    varices: Literal["none", "small", "large", "treated"] | None = Field(
        default=None, description="Oesophageal/gastric varices at the last endoscopy"
    )
    varices_assessed_on: Date | None = None


class Tumor(_Model):
    size_cm: Num | None = Field(default=None, gt=0)
    segment: Text | None = Field(default=None, description="Couinaud segment 1-8 (4a/4b allowed)")
    viable: Bool | None = Field(default=None, description="Enhancing (viable) after locoregional therapy")
    near_portal_vein: Bool | None = None
    near_hepatic_vein: Bool | None = None
    near_ivc: Bool | None = None
    capsule: Literal["complete", "incomplete", "absent"] | None = None
    margin: Literal["smooth", "irregular"] | None = None
    ruptured: Bool | None = None
    satellite_nodules: Bool | None = None

    @field_validator("size_cm")
    @classmethod
    def _plausible_size(cls, v: float | None, info: ValidationInfo) -> float | None:
        return None if v is None else _check_range(_tables(info), "tumor_size_cm", v, "tumour size")

    @field_validator("segment", mode="before")
    @classmethod
    def _segment(cls, v: Any) -> Any:
        return _normalise_segment(v)


class Treatment(_Model):
    type: TreatmentType
    date: Date
    margin: Literal["R0", "R1", "R2"] | None = Field(default=None, description="Resection margin")
    agent: Text | None = Field(
        default=None, description="Systemic agent or regimen, e.g. atezolizumab_bevacizumab"
    )
    end_date: Date | None = Field(default=None, description="When a systemic therapy stopped; null = ongoing")
    site: Text | None = Field(default=None, description="Target of radiotherapy/SBRT")
    curative: Bool | None = Field(default=None, description="Intended as curative (complete treatment)")

    # Field validators (not one model validator) so each problem is reported at its own field.
    @field_validator("margin")
    @classmethod
    def _margin_after_resection(cls, v: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("type")
        if v is not None and kind is not None and kind != "resection":
            raise ValueError(f"a margin applies only to a resection, not to {kind}")
        return v

    @field_validator("end_date")
    @classmethod
    def _ends_after_start(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("date")
        if v is not None and isinstance(start, dt.date) and v < start:
            raise ValueError(f"{v.isoformat()} is before the treatment date {start.isoformat()}")
        return v


class ImagingLesion(_Model):
    site: LesionSite = "liver"
    size_cm: Num | None = Field(default=None, gt=0)
    segment: Text | None = None
    count: Int = Field(default=1, ge=1)
    new: Bool | None = Field(default=None, description="Not seen on the previous study")

    @field_validator("segment", mode="before")
    @classmethod
    def _segment(cls, v: Any) -> Any:
        return _normalise_segment(v)

    @field_validator("size_cm")
    @classmethod
    def _plausible_size(cls, v: float | None, info: ValidationInfo) -> float | None:
        return None if v is None else _check_range(_tables(info), "tumor_size_cm", v, "lesion size")

    @field_validator("count")
    @classmethod
    def _plausible_count(cls, v: int, info: ValidationInfo) -> int:
        return int(_check_range(_tables(info), "lesion_count", v, "lesion count"))


class Imaging(_Model):
    date: Date
    modality: Modality
    region: Region
    result: ImagingResult
    lesions: tuple[ImagingLesion, ...] = ()


class Symptom(_Model):
    code: SymptomCode
    onset: Date | None = None
    resolved: Date | None = None
    sudden: Bool | None = Field(default=None, description="Sudden (stroke-like) onset")
    progressive: Bool | None = None
    spinal_level: Literal["cervical", "thoracic", "lumbar", "sacral"] | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _alias(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip().lower().replace(" ", "_").replace("-", "_")
            return SYMPTOM_ALIASES.get(key, key)
        return v

    @field_validator("resolved")
    @classmethod
    def _resolves_after_onset(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        onset = info.data.get("onset")
        if v is not None and isinstance(onset, dt.date) and v < onset:
            raise ValueError(f"{v.isoformat()} is before the onset {onset.isoformat()}")
        return v


class MetastaticSite(_Model):
    site: Site
    count: Int | None = Field(default=None, ge=1)
    date: Date | None = None
    resectable: Bool | None = None

    @field_validator("count")
    @classmethod
    def _plausible_count(cls, v: int | None, info: ValidationInfo) -> int | None:
        return None if v is None else int(_check_range(_tables(info), "lesion_count", v, "metastasis count"))


class Explant(_Model):
    """Explant pathology after transplant (RETREAT inputs)."""

    largest_viable_cm: Num | None = Field(default=None, ge=0)
    viable_count: Int | None = Field(default=None, ge=0)
    microvascular_invasion: Bool | None = None

    @field_validator("largest_viable_cm")
    @classmethod
    def _plausible_size(cls, v: float | None, info: ValidationInfo) -> float | None:
        # 0 means no viable tumour, so only the upper bound of a tumour size applies.
        bounds = _tables(info).range("tumor_size_cm")
        if v is not None and v > bounds.high:
            raise ValueError(f"largest viable tumour {v:g} cm is not plausible (at most {bounds.high:g} cm)")
        return v

    @field_validator("viable_count")
    @classmethod
    def _plausible_count(cls, v: int | None, info: ValidationInfo) -> int | None:
        return (
            None if v is None else int(_check_range(_tables(info), "lesion_count", v, "viable nodule count"))
        )


class Assumption(_Model):
    """A value concluded from the absence of data where the source is the record of truth.

    Written by adapters (an EHR with no dialysis procedure in the past week: no dialysis), so
    that every finding which uses ``field`` can show that it was assumed, and why.
    """

    field: Text = Field(min_length=1, description="Dotted record path, e.g. liver.dialysis_twice_past_week")
    value: Bool | Int | Num | Text | None = None
    reason: Text = Field(min_length=1)


class PatientRecord(_Model):
    """Everything hccwatch knows about one patient."""

    id: Text = Field(min_length=1)
    sex: Literal["male", "female"] | None = None
    birth_date: Date | None = None
    age: Int | None = Field(default=None, ge=0, description="Age in years when birth_date is not given")
    ecog: Int | None = Field(default=None, ge=0, le=4)
    ecog_cancer_related: Bool | None = Field(
        default=None, description="ECOG 1-2 is due to the cancer (BCLC C) rather than comorbidity"
    )
    as_of: Date | None = Field(default=None, description="Default evaluation date for this record")
    deceased: Bool | None = Field(
        default=None, description="The record says the patient has died; null = not stated"
    )
    deceased_on: Date | None = Field(
        default=None, description="Date of death as the record gives it (implies deceased)"
    )
    liver: Liver = Field(default_factory=Liver)
    labs: tuple[Lab, ...] = ()
    tumors: tuple[Tumor, ...] | None = Field(
        default=None, description="Current (or, after treatment, the treated) tumours; null = unknown"
    )
    tumors_assessed_on: Date | None = None
    macrovascular_invasion: Bool | None = None
    microvascular_invasion: Bool | None = None
    histologic_grade: Literal["well", "moderate", "poor", "undifferentiated"] | None = None
    lymph_node_metastasis: Bool | None = None
    extrahepatic_metastasis: Bool | None = None
    infiltrative: Bool | None = Field(default=None, description="Infiltrative growth pattern")
    adjacent_organ_invasion: Bool | None = Field(
        default=None, description="Direct invasion of organs other than the gallbladder (AJCC T4)"
    )
    visceral_peritoneum_perforation: Bool | None = None
    dcp_mau_ml: Num | None = Field(default=None, ge=0)
    treatments: tuple[Treatment, ...] = ()
    imaging: tuple[Imaging, ...] = ()
    symptoms: tuple[Symptom, ...] = ()
    metastatic_sites: tuple[MetastaticSite, ...] = ()
    explant: Explant | None = None
    surveillance_profile: Text | None = Field(default=None, description="Schedule profile id (see knowledge)")
    assumptions: tuple[Assumption, ...] = Field(
        default=(), description="Values an adapter assumed from the absence of data, with the reason"
    )

    _knowledge: Knowledge | None = PrivateAttr(default=None)

    @field_validator("histologic_grade", mode="before")
    @classmethod
    def _grade(cls, v: Any) -> Any:
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, str | int):
            raise ValueError(
                f"expected a grade (well/moderate/poor/undifferentiated, G1-G4, I-IV), got {describe(v)}"
            )
        key = str(v).strip().lower()
        key = key.removesuffix("ly differentiated").removesuffix(" differentiated").removesuffix("ly")
        if key not in GRADE_ALIASES:
            raise ValueError(f"{describe(v)} is not one of well/moderate/poor/undifferentiated, G1-G4, I-IV")
        return GRADE_ALIASES[key]

    @field_validator("surveillance_profile")
    @classmethod
    def _known_profile(cls, v: str | None, info: ValidationInfo) -> str | None:
        available = _tables(info).profile_ids
        if v is not None and v not in available:
            raise ValueError(f"unknown surveillance profile {describe(v)}; available: {', '.join(available)}")
        return v

    @field_validator("deceased_on")
    @classmethod
    def _death_agrees(cls, v: dt.date | None, info: ValidationInfo) -> dt.date | None:
        # Checked on the field (not the whole record) so the refusal is named by the field, and
        # a reader can drop the date alone. Events dated after the death are not refused: EHR
        # data is messy, and the core assesses no one who has died whatever the record holds.
        if v is None:
            return None
        if info.data.get("deceased") is False:
            raise ValueError(f"{v.isoformat()} given, but deceased is false: the record cannot say both")
        born = info.data.get("birth_date")
        if born is not None and v < born:
            raise ValueError(f"{v.isoformat()} is before birth_date {born.isoformat()}")
        return v

    @field_validator("dcp_mau_ml")
    @classmethod
    def _plausible_dcp(cls, v: float | None, info: ValidationInfo) -> float | None:
        return None if v is None else _check_range(_tables(info), "dcp", v, "DCP")

    @field_validator("age")
    @classmethod
    def _plausible_age(cls, v: int | None, info: ValidationInfo) -> int | None:
        return None if v is None else int(_check_range(_tables(info), "age_years", v, "age"))

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> PatientRecord:
        if self.birth_date is not None and self._dated_before(self.birth_date):
            dated = self.dated_events()
            if self.as_of is not None:
                dated.append(("as_of", self.as_of))
            early = [(path, when) for path, when in dated if when < self.birth_date]
            if early:
                shown = ", ".join(f"{path} {when.isoformat()}" for path, when in early[:3])
                more = f" and {len(early) - 3} more" if len(early) > 3 else ""  # noqa: PLR2004
                raise ValueError(f"{shown}{more}: dated before birth_date {self.birth_date.isoformat()}")
        self._check_assumptions()
        self._knowledge = _tables(info).knowledge
        return self

    def _dated_before(self, day: dt.date) -> bool:
        """Whether ``as_of`` or any date :meth:`dated_events` lists is before ``day``: asked
        without building a field path per lab (a record holds about a hundred), which only a
        refused record needs."""
        if self.as_of is not None and self.as_of < day:
            return True
        dates = [lab.date for lab in self.labs]
        dates += [tr.date for tr in self.treatments]
        dates += [tr.end_date for tr in self.treatments if tr.end_date is not None]
        dates += [im.date for im in self.imaging]
        dates += [s.onset for s in self.symptoms if s.onset]
        dates += [m.date for m in self.metastatic_sites if m.date]
        if self.tumors_assessed_on is not None:
            dates.append(self.tumors_assessed_on)
        if self.liver.varices_assessed_on is not None:
            dates.append(self.liver.varices_assessed_on)
        return bool(dates) and min(dates) < day

    def _check_assumptions(self) -> None:
        # An assumption must name a record field and agree with it, or a finding would show a
        # reason for a value the record does not hold.
        for i, a in enumerate(self.assumptions):
            node: Any = self
            for part in a.field.split("."):
                if not isinstance(node, BaseModel) or part not in type(node).model_fields:
                    raise ValueError(f"assumptions[{i}].field: {describe(a.field)} is not a record field")
                node = getattr(node, part)
            if node != a.value or isinstance(node, bool) != isinstance(a.value, bool):
                raise ValueError(
                    f"assumptions[{i}]: assumes {a.field} = {describe(a.value)}, "
                    f"the record says {describe(node)}"
                )

    @property
    def knowledge(self) -> Knowledge | None:
        """The knowledge base this record's units were converted with (None if built by hand)."""
        return self._knowledge

    def dated_events(self) -> list[tuple[str, dt.date]]:
        """Every event date on the record with its field path (birth_date and as_of excluded)."""
        out: list[tuple[str, dt.date]] = []
        out += [(f"labs[{i}].date", lab.date) for i, lab in enumerate(self.labs)]
        for i, tr in enumerate(self.treatments):
            out.append((f"treatments[{i}].date", tr.date))
            if tr.end_date is not None:
                out.append((f"treatments[{i}].end_date", tr.end_date))
        out += [(f"imaging[{i}].date", im.date) for i, im in enumerate(self.imaging)]
        out += [(f"symptoms[{i}].onset", s.onset) for i, s in enumerate(self.symptoms) if s.onset]
        out += [
            (f"metastatic_sites[{i}].date", m.date) for i, m in enumerate(self.metastatic_sites) if m.date
        ]
        if self.tumors_assessed_on is not None:
            out.append(("tumors_assessed_on", self.tumors_assessed_on))
        if self.liver.varices_assessed_on is not None:
            out.append(("liver.varices_assessed_on", self.liver.varices_assessed_on))
        return out

    @property
    def has_died(self) -> bool:
        """Whether the record says the patient has died (a date of death alone says so)."""
        return self.deceased is True or self.deceased_on is not None

    def age_on(self, when: dt.date) -> int | None:
        """Age in whole years on ``when`` (from birth_date; else the recorded age as given)."""
        if self.birth_date is not None:
            years = when.year - self.birth_date.year
            if (when.month, when.day) < (self.birth_date.month, self.birth_date.day):
                years -= 1
            return years
        return self.age


_ = LAB_TESTS  # the Literal above must list the same tests as units.LAB_TESTS (checked in tests)


# Problems listed in full in ``problems``; the one-line message shows the first few.
_SHOWN_PROBLEMS = 10

_LAB_TEST_NAMES = frozenset(get_args(LabTest))
_new = object.__new__
_set = object.__setattr__


def mapped_lab(test: str, value: float, unit: str | None, day: dt.date, tables: BoundaryTables) -> Lab | None:
    """The :class:`Lab` that validating ``{"test": test, "value": value, "unit": unit, "date":
    day.isoformat()}`` (``unit`` left out when None) with ``tables`` gives, built without
    pydantic; or None when any check might go another way (the caller then validates the record
    as usual, so refusals are judged and worded by the model alone).

    Why: a mapped record holds about a hundred labs, each just converted and found plausible
    by the adapter, and validating each again (two Python validators per lab) was most of the
    cost of validating it. The property tests compare this with the model's validation on
    generated labs, refusals included.
    """
    if type(test) is not str or test not in _LAB_TEST_NAMES:
        return None
    if type(value) is not float or not math.isfinite(value):
        return None
    if unit is not None and (type(unit) is not str or unit != unit.strip()):
        return None
    if type(day) is not dt.date or not tables.first_date <= day <= tables.last_date:
        return None
    try:
        canonical = tables.convert(test, value, unit)
        plausible = tables.range(test).contains(canonical.value)
    except HccwatchError:
        return None
    if not plausible:
        return None
    # What validation leaves in a Lab's four slots (fields in their order, for repr and
    # dumps), written directly: ``model_construct`` costs as much again.
    lab: Lab = _new(Lab)
    if unit is None:
        _set(lab, "__dict__", {"test": test, "value": value, "unit": None, "date": day})
        _set(lab, "__pydantic_fields_set__", {"test", "value", "date"})
    else:
        _set(lab, "__dict__", {"test": test, "value": value, "unit": unit, "date": day})
        _set(lab, "__pydantic_fields_set__", {"test", "value", "unit", "date"})
    _set(lab, "__pydantic_extra__", None)
    _set(lab, "__pydantic_private__", {"_canonical": canonical})
    return lab


def parse_mapped_record(
    data: Mapping[str, Any], labs: tuple[Lab, ...], *, knowledge: Knowledge | None = None
) -> PatientRecord | None:
    """``parse_record`` of ``data`` with ``labs`` as its labs, the labs already validated (by
    :func:`mapped_lab`, from ``data["labs"]``), or None when the record is refused (then
    ``parse_record(data)`` says why). The record must not be oversized (checked here).

    Why: see :func:`mapped_lab`; the rest of the record is validated as usual.
    """
    rest = {key: value for key, value in data.items() if key != "labs"}
    if oversized(rest) is not None:
        return None
    tables = boundary_tables(knowledge)
    try:
        record = PatientRecord.model_validate(rest, context={_TABLES: tables})
    except ValidationError:
        return None
    # The one check of the whole record that reads labs (an assumption about ``labs`` is
    # refused with or without them, as no assumed value can equal a list).
    born = record.birth_date
    if born is not None and any(lab.date < born for lab in labs):
        return None
    if "labs" in data:
        record.__dict__["labs"] = labs
        record.__pydantic_fields_set__.add("labs")
    return record


def parse_record(data: Any, *, knowledge: Knowledge | None = None) -> PatientRecord:
    """Validate a decoded JSON object (or a :class:`PatientRecord`) into a :class:`PatientRecord`.

    Units are converted, and values and dates judged plausible, with ``knowledge`` (default:
    the packaged knowledge base), the same knowledge the rules should then read.

    Raises:
        InvalidRecordError: with one problem per offending field, each naming the field.
    """
    if isinstance(data, PatientRecord):
        # Already validated: kept if converted with this knowledge base, else converted again
        # from the values as given (the record keeps them), never mixing two knowledge versions.
        if data.knowledge is boundary_tables(knowledge).knowledge:
            return data
        data = data.model_dump(mode="json")
    if not isinstance(data, Mapping):
        raise InvalidRecordError(f"a patient record must be a JSON object ({{...}}), got {describe(data)}")
    resource = data.get("resourceType")
    if isinstance(resource, str):
        # One clear line instead of one "unknown field" per FHIR element.
        problem = (
            f"a FHIR {describe(resource)} resource, not an hccwatch patient record "
            "(`hccwatch schema` describes the record; FHIR must be mapped to it first)"
        )
        raise InvalidRecordError(problem, problems=[problem])
    data = dict(data)
    found = oversized(data)
    if found is not None:
        path, why = found
        problem = f"{path}: {why}"
        raise InvalidRecordError(f"record is invalid: {problem}", problems=[problem])
    tables = boundary_tables(knowledge)
    try:
        return PatientRecord.model_validate(data, context={_TABLES: tables})
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            path = where(tuple(err["loc"]))
            message = human_message(err)
            problems.append(message if path == "record" else f"{path}: {message}")
        shown = "; ".join(problems[:_SHOWN_PROBLEMS])
        if len(problems) > _SHOWN_PROBLEMS:
            shown += f"; and {len(problems) - _SHOWN_PROBLEMS} more"
        raise InvalidRecordError(
            f"record {describe(data.get('id'))} is invalid: {shown}", problems=problems
        ) from None
