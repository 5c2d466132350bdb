"""The patient record: typed, validated, with units converted at the boundary.

Field names are a contract (see the README); fields may be added, never renamed.
Absent or ``null`` means *unknown*, never "no": a rule that needs an unknown answers
"cannot determine" and names it. Unknown keys are refused so a misspelt field cannot
silently become unknown.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from hccwatch.core.knowledge import default_knowledge
from hccwatch.errors import InvalidRecordError, KnowledgeError, UnitError
from hccwatch.record.units import LAB_TESTS, CanonicalValue, to_canonical

__all__ = [
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


def surveillance_profile_ids() -> tuple[str, ...]:
    """The schedule profiles the knowledge base defines."""
    ids = default_knowledge().entry("surveillance.profile_ids").value
    if not isinstance(ids, list):
        raise KnowledgeError("surveillance.profile_ids must be a list")
    return tuple(str(i) for i in ids)


def _normalise_segment(v: Any) -> str | None:
    if v is None:
        return None
    text = str(v).strip().lower().removeprefix("segment").removeprefix("s").strip()
    if text not in _SEGMENTS:
        raise ValueError(f"segment {v!r} is not a Couinaud segment (1-8, 4a, 4b)")
    return text


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _check_range(test_or_key: str, value: float, what: str) -> float:
    bounds = default_knowledge().entry(f"plausibility.{test_or_key}")
    if not isinstance(bounds.value, list) or not all(isinstance(b, int | float) for b in bounds.value):
        raise KnowledgeError(f"plausibility.{test_or_key} must be [low, high]")
    lo, hi = (float(b) for b in bounds.value)  # type: ignore[arg-type]
    if not (float(lo) <= value <= float(hi)):
        unit = f" {bounds.unit}" if bounds.unit else ""
        raise ValueError(
            f"{what} {value:g}{unit} is not physiologically plausible (expected {lo}-{hi}{unit})"
        )
    return value


class Lab(_Model):
    """One laboratory result as reported; ``canonical`` is the same value in the rules' unit."""

    test: LabTest
    value: float = Field(allow_inf_nan=False)
    unit: str | None = None
    date: dt.date
    _canonical: CanonicalValue = PrivateAttr()

    @model_validator(mode="after")
    def _convert(self) -> Lab:
        try:
            canonical = to_canonical(self.test, self.value, self.unit)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        _check_range(self.test, canonical.value, f"{self.test} (after conversion to {canonical.unit})")
        self._canonical = canonical
        return self

    @property
    def canonical(self) -> CanonicalValue:
        return self._canonical


class Liver(_Model):
    cirrhosis: bool | None = None
    etiology: tuple[Etiology, ...] | None = None
    ascites: Literal["none", "mild", "moderate_severe"] | None = None
    encephalopathy: Literal["none", "grade_1_2", "grade_3_4"] | None = None
    dialysis_twice_past_week: bool | None = None
    cvvhd_24h_past_week: bool | None = None
    portal_hypertension: bool | None = Field(
        default=None, description="Clinically significant portal hypertension (BCLC A resection choice)"
    )
    varices: Literal["none", "small", "large", "treated"] | None = Field(
        default=None, description="Oesophageal/gastric varices at the last endoscopy"
    )
    varices_assessed_on: dt.date | None = None


class Tumor(_Model):
    size_cm: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    segment: str | None = Field(default=None, description="Couinaud segment 1-8 (4a/4b allowed)")
    viable: bool | None = Field(default=None, description="Enhancing (viable) after locoregional therapy")
    near_portal_vein: bool | None = None
    near_hepatic_vein: bool | None = None
    near_ivc: bool | None = None
    capsule: Literal["complete", "incomplete", "absent"] | None = None
    margin: Literal["smooth", "irregular"] | None = None
    ruptured: bool | None = None
    satellite_nodules: bool | None = None

    @field_validator("size_cm")
    @classmethod
    def _plausible_size(cls, v: float | None) -> float | None:
        return None if v is None else _check_range("tumor_size_cm", v, "tumour size")

    @field_validator("segment", mode="before")
    @classmethod
    def _segment(cls, v: Any) -> Any:
        return _normalise_segment(v)


class Treatment(_Model):
    type: TreatmentType
    date: dt.date
    margin: Literal["R0", "R1", "R2"] | None = Field(default=None, description="Resection margin")
    agent: str | None = Field(
        default=None, description="Systemic agent or regimen, e.g. atezolizumab_bevacizumab"
    )
    end_date: dt.date | None = Field(
        default=None, description="When a systemic therapy stopped; null = ongoing"
    )
    site: str | None = Field(default=None, description="Target of radiotherapy/SBRT")
    curative: bool | None = Field(default=None, description="Intended as curative (complete treatment)")

    @model_validator(mode="after")
    def _dates(self) -> Treatment:
        if self.end_date is not None and self.end_date < self.date:
            raise ValueError("end_date is before date")
        if self.margin is not None and self.type != "resection":
            raise ValueError("margin applies only to a resection")
        return self


class ImagingLesion(_Model):
    site: LesionSite = "liver"
    size_cm: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    segment: str | None = None
    count: int = Field(default=1, ge=1)
    new: bool | None = Field(default=None, description="Not seen on the previous study")

    @field_validator("segment", mode="before")
    @classmethod
    def _segment(cls, v: Any) -> Any:
        return _normalise_segment(v)

    @field_validator("size_cm")
    @classmethod
    def _plausible_size(cls, v: float | None) -> float | None:
        return None if v is None else _check_range("tumor_size_cm", v, "lesion size")


class Imaging(_Model):
    date: dt.date
    modality: Modality
    region: Region
    result: ImagingResult
    lesions: tuple[ImagingLesion, ...] = ()


class Symptom(_Model):
    code: SymptomCode
    onset: dt.date | None = None
    resolved: dt.date | None = None
    sudden: bool | None = Field(default=None, description="Sudden (stroke-like) onset")
    progressive: bool | None = None
    spinal_level: Literal["cervical", "thoracic", "lumbar", "sacral"] | None = None

    @field_validator("code", mode="before")
    @classmethod
    def _alias(cls, v: Any) -> Any:
        if isinstance(v, str):
            key = v.strip().lower().replace(" ", "_").replace("-", "_")
            return SYMPTOM_ALIASES.get(key, key)
        return v


class MetastaticSite(_Model):
    site: Site
    count: int | None = Field(default=None, ge=1)
    date: dt.date | None = None
    resectable: bool | None = None


class Explant(_Model):
    """Explant pathology after transplant (RETREAT inputs)."""

    largest_viable_cm: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    viable_count: int | None = Field(default=None, ge=0)
    microvascular_invasion: bool | None = None


class PatientRecord(_Model):
    """Everything hccwatch knows about one patient."""

    id: str = Field(min_length=1)
    sex: Literal["male", "female"] | None = None
    birth_date: dt.date | None = None
    age: int | None = Field(default=None, ge=0, description="Age in years when birth_date is not given")
    ecog: int | None = Field(default=None, ge=0, le=4)
    ecog_cancer_related: bool | None = Field(
        default=None, description="ECOG 1-2 is due to the cancer (BCLC C) rather than comorbidity"
    )
    as_of: dt.date | None = Field(default=None, description="Default evaluation date for this record")
    liver: Liver = Field(default_factory=Liver)
    labs: tuple[Lab, ...] = ()
    tumors: tuple[Tumor, ...] | None = Field(
        default=None, description="Current (or, after treatment, the treated) tumours; null = unknown"
    )
    tumors_assessed_on: dt.date | None = None
    macrovascular_invasion: bool | None = None
    microvascular_invasion: bool | None = None
    histologic_grade: Literal["well", "moderate", "poor", "undifferentiated"] | None = None
    lymph_node_metastasis: bool | None = None
    extrahepatic_metastasis: bool | None = None
    infiltrative: bool | None = Field(default=None, description="Infiltrative growth pattern")
    adjacent_organ_invasion: bool | None = Field(
        default=None, description="Direct invasion of organs other than the gallbladder (AJCC T4)"
    )
    visceral_peritoneum_perforation: bool | None = None
    dcp_mau_ml: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    treatments: tuple[Treatment, ...] = ()
    imaging: tuple[Imaging, ...] = ()
    symptoms: tuple[Symptom, ...] = ()
    metastatic_sites: tuple[MetastaticSite, ...] = ()
    explant: Explant | None = None
    surveillance_profile: str | None = Field(default=None, description="Schedule profile id (see knowledge)")

    @field_validator("histologic_grade", mode="before")
    @classmethod
    def _grade(cls, v: Any) -> Any:
        if v is None:
            return None
        key = str(v).strip().lower()
        key = key.removesuffix("ly differentiated").removesuffix(" differentiated").removesuffix("ly")
        if key not in GRADE_ALIASES:
            raise ValueError(
                f"histologic_grade {v!r} is not one of well/moderate/poor/undifferentiated, G1-G4, I-IV"
            )
        return GRADE_ALIASES[key]

    @field_validator("surveillance_profile")
    @classmethod
    def _known_profile(cls, v: str | None) -> str | None:
        available = surveillance_profile_ids()
        if v is not None and v not in available:
            raise ValueError(f"unknown surveillance profile {v!r}; available: {', '.join(available)}")
        return v

    @field_validator("age")
    @classmethod
    def _plausible_age(cls, v: int | None) -> int | None:
        return None if v is None else int(_check_range("age_years", v, "age"))

    @model_validator(mode="after")
    def _consistent(self) -> PatientRecord:
        if self.birth_date is not None:
            dated = (
                [lab.date for lab in self.labs]
                + [t.date for t in self.treatments]
                + [i.date for i in self.imaging]
            )
            early = [d for d in dated if d < self.birth_date]
            if early:
                raise ValueError(f"an event is dated {min(early)}, before birth_date {self.birth_date}")
        return self

    def age_on(self, when: dt.date) -> int | None:
        """Age in whole years on ``when`` (from birth_date; else the recorded age as given)."""
        if self.birth_date is not None:
            years = when.year - self.birth_date.year
            if (when.month, when.day) < (self.birth_date.month, self.birth_date.day):
                years -= 1
            return years
        return self.age


_ = LAB_TESTS  # the Literal above must list the same tests as units.LAB_TESTS (checked in tests)


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {
            "function-after[_convert()]",
            "function-after[_consistent()]",
            "function-after[_dates()]",
        }:
            continue
        elif "function-" in part or part.startswith(("literal[", "union[", "tagged-union")):
            continue
        else:
            out += f".{part}" if out else part
    return out or "record"


def parse_record(data: Any) -> PatientRecord:
    """Validate a decoded JSON object into a :class:`PatientRecord`.

    Raises:
        InvalidRecordError: with one problem per offending field, each naming the field.
    """
    if not isinstance(data, dict):
        raise InvalidRecordError(f"a patient record must be a JSON object, not {type(data).__name__}")
    try:
        return PatientRecord.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field (a misspelling? `hccwatch schema` lists the fields)"
            problems.append(f"{_where(tuple(err['loc']))}: {msg}")
        record_id = data.get("id", "?")
        raise InvalidRecordError(
            f"record {record_id!r} is invalid: " + "; ".join(problems), problems=problems
        ) from None
