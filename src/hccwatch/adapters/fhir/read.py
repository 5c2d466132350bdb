"""FHIR R4 in: resources -> an hccwatch patient record, with warnings and stated assumptions.

The reader maps and never decides: it writes facts the resources state (a lab value, a
procedure, a coded diagnosis) into the record's fields and leaves every clinical judgement to
the core. It is tolerant: unknown resource types and elements are ignored, and a resource it
cannot map becomes a :class:`MappingWarning` naming it, never an exception. Only finding no
patient at all (or several, for :func:`read_fhir`) raises :class:`InvalidRecordError`.

Where the EHR is the record of truth for a fact that is rarely coded as present (dialysis in
the past week), "none recorded" is read as "no", and each such conclusion is written into the
record as an :class:`Assumption` so every finding that uses it can show it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec
import orjson

from hccwatch.adapters.fhir import _decode as fhir
from hccwatch.adapters.fhir.codes import CodeTables, code_tables
from hccwatch.core.knowledge import Knowledge
from hccwatch.errors import InvalidRecordError, UnitError
from hccwatch.record.model import Lab, PatientRecord, mapped_lab, parse_mapped_record, parse_record
from hccwatch.record.units import BoundaryTables, boundary_tables

__all__ = [
    "Assumption",
    "FhirReading",
    "MappingWarning",
    "diagnosis_code_family",
    "read_fhir",
    "read_fhir_by_patient",
    "read_lines",
    "read_resources",
]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
_ICD10_SYSTEMS = frozenset(
    {
        "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "http://hl7.org/fhir/sid/icd-10-de",
        "http://hl7.org/fhir/sid/icd-10-nl",
        "http://hl7.org/fhir/sid/icd-10-ca",
        "urn:oid:2.16.840.1.113883.6.3",
        "urn:oid:2.16.840.1.113883.6.90",
    }
)
_SECONDARY_PROFILE = "mcode-secondary-cancer-condition"
_MORPHOLOGY = "mcode-histology-morphology-behavior"
# Statuses that say the resource is void or did not happen.
_VOID = frozenset({"entered-in-error", "cancelled", "not-done", "refuted", "unknown"})
_MED_VOID = frozenset({"entered-in-error", "cancelled", "draft", "not-taken", "not-done", "unknown"})
_MED_NOT_GIVEN_INTENTS = frozenset({"proposal", "plan"})
_INACTIVE = frozenset({"inactive", "resolved", "remission"})
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TNM = re.compile(r"(?<![A-Za-z])(?:y|r|a)?(?:c|p)?([TNM])(X|[0-4])", re.IGNORECASE)
# A resource id echoed in a warning is cut to this many characters.
_MAX_ID = 64
# More warnings than this for one patient are summarised (a big export can hold thousands).
_MAX_WARNINGS = 200
# Entries of nested Bundles are followed this deep at most.
_MAX_BUNDLE_DEPTH = 4


@dataclass(frozen=True)
class MappingWarning:
    """A resource (``Observation/abc``) or element that was not read, and why."""

    resource: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"resource": self.resource, "message": self.message}


@dataclass(frozen=True)
class Assumption:
    """A record field the reader set from the absence of data, with the reason."""

    field: str
    value: bool | str | float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "reason": self.reason}


@dataclass(frozen=True)
class FhirReading:
    """A patient record read from FHIR (ready for :func:`hccwatch.assess`), and how.

    ``record`` is the record as JSON data, the contract form (what ``hccwatch record`` prints and
    a registry stores); :attr:`patient_record` is the same record validated.
    """

    record: dict[str, Any]
    warnings: tuple[MappingWarning, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    # Set by the readers, which validate the record anyway: kept so it is not validated twice.
    _validated: PatientRecord | None = field(default=None, compare=False, repr=False)
    _knowledge: Knowledge | None = field(default=None, compare=False, repr=False)

    @property
    def patient_record(self) -> PatientRecord:
        """``record`` validated by the record model, with the knowledge base it was read with
        (its assumptions included).

        Pass it to :func:`hccwatch.assess` with that same knowledge base (the packaged one
        unless the reader was given another) and the record is not validated a second time.
        It is the record as read: a change made to ``record`` afterwards is not in it (assess
        ``record`` itself then). A reading built by hand is validated now.

        Raises:
            InvalidRecordError: a reading built by hand whose record the model refuses.
        """
        if self._validated is not None:
            return self._validated
        return parse_record(self.record, knowledge=self._knowledge)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "warnings": [w.to_dict() for w in self.warnings],
            "assumptions": [a.to_dict() for a in self.assumptions],
        }


# --- collecting resources ----------------------------------------------------------------------


class _Item:
    """A resource and the Bundle fullUrl it came with (a plain slotted class: one per resource)."""

    __slots__ = ("full_url", "resource")

    def __init__(self, resource: Mapping[str, Any], full_url: str | None) -> None:
        self.resource = resource
        self.full_url = full_url


def _items(data: object, depth: int = 0) -> Iterator[_Item]:
    if isinstance(data, bytes | bytearray | memoryview | str):
        try:
            data = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise InvalidRecordError(f"not JSON: {exc}", problems=[f"not JSON: {exc}"]) from None
    if isinstance(data, list | tuple):
        for element in data:
            if isinstance(element, Mapping):
                yield from _items(element, depth)
        return
    if not isinstance(data, Mapping):
        return
    kind = data.get("resourceType")
    if kind == "Bundle":
        if depth >= _MAX_BUNDLE_DEPTH:
            return
        entries = data.get("entry")
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, Mapping):
                continue
            resource = entry.get("resource")
            if isinstance(resource, Mapping):
                url = entry.get("fullUrl")
                if resource.get("resourceType") == "Bundle":
                    yield from _items(resource, depth + 1)
                else:
                    yield _Item(resource, url if isinstance(url, str) else None)
        return
    if isinstance(kind, str):
        yield _Item(data, None)


def _text(v: object) -> str | None:
    return v if isinstance(v, str) and v else None


def _patient_id(ref: str, aliases: Mapping[str, str]) -> str | None:
    """The Patient id a reference points at (``Patient/1``, an absolute URL, a Bundle fullUrl)."""
    if ref in aliases:
        return aliases[ref]
    head, sep, tail = ref.rpartition("Patient/")
    if not sep:
        return None
    pid = tail.split("/", 1)[0]
    return pid or None


def _subject(resource: Mapping[str, Any]) -> str | None:
    for key in ("subject", "patient"):
        ref = resource.get(key)
        if type(ref) is dict or isinstance(ref, Mapping):
            text = _text(ref.get("reference"))
            if text is not None:
                return text
    return None


@dataclass
class _Pool:
    """Resources grouped by patient, with the resources every patient may refer to."""

    patients: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    by_patient: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    unattached: list[Mapping[str, Any]] = field(default_factory=list)
    shared: dict[str, Mapping[str, Any]] = field(default_factory=dict)


_SHARED_TYPES = frozenset({"Medication", "ImagingStudy"})


def _pool(items: Iterable[_Item]) -> _Pool:
    pool = _Pool()
    aliases: dict[str, str] = {}
    rest: list[_Item] = []
    for item in items:
        r = item.resource
        kind = r.get("resourceType")
        if kind == "Patient":
            rid = _text(r.get("id"))
            if rid is not None:
                pool.patients.setdefault(rid, r)
                aliases[f"Patient/{rid}"] = rid
                if item.full_url:
                    aliases[item.full_url] = rid
                continue
        elif kind in _SHARED_TYPES:
            rid = _text(r.get("id"))
            for key in (f"{kind}/{rid}" if rid else None, item.full_url):
                if key:
                    pool.shared[key] = r
        rest.append(item)
    for item in rest:
        ref = _subject(item.resource)
        pid = None if ref is None else _patient_id(ref, aliases)
        if pid is None:
            pool.unattached.append(item.resource)
        else:
            pool.by_patient.setdefault(pid, []).append(item.resource)
    return pool


# --- small readers ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _day(text: str | None) -> dt.date | None:
    """The calendar day of a FHIR date or dateTime (as written, local to the source).

    Cached: a patient's lab panel repeats one dateTime per test, and the answer depends on
    the text alone.
    """
    if text is None:
        return None
    m = _DATE.match(text)
    if m is None:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _instant(text: str | None) -> dt.datetime | None:
    if text is None or "T" not in text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _codings(cc: fhir.CodeableConcept | None) -> list[fhir.Coding]:
    return [] if cc is None or cc.coding is None else cc.coding


def _codes(cc: fhir.CodeableConcept | None, *systems: str) -> list[str]:
    return [c.code for c in _codings(cc) if c.code and (not systems or c.system in systems)]


def _is_icd10(system: str | None) -> bool:
    return system is not None and (system in _ICD10_SYSTEMS or "icd-10" in system.lower())


def _icd10(code: str) -> str:
    """ICD-10 with its dot (some exports write C220 for C22.0)."""
    code = code.strip().upper()
    return code[:3] + "." + code[3:] if len(code) > 3 and "." not in code else code  # noqa: PLR2004


def _is_icdo3(system: str | None) -> bool:
    return system is not None and ("icd-o" in system.lower() or system == "urn:oid:2.16.840.1.113883.6.43.1")


def diagnosis_code_family(system: str | None) -> str | None:
    """The code-table family a diagnosis coding's system belongs to (``snomed``, ``icd10``,
    ``icdo3``), or None: the same test the mapper applies, for callers that look for HCC codes
    without mapping a whole record (the batch cohort scan)."""
    if system == SNOMED:
        return "snomed"
    if _is_icd10(system):
        return "icd10"
    if _is_icdo3(system):
        return "icdo3"
    return None


def _prefix_match(code: str, table: Mapping[str, str]) -> str | None:
    """The value of the longest key that ``code`` starts with (ICD-10 hierarchies)."""
    best: str | None = None
    for key in table:
        if code.upper().startswith(key.upper()) and (best is None or len(key) > len(best)):
            best = key
    return None if best is None else table[best]


# At most this many codes of one Condition are echoed in a warning.
_MAX_CODES_SHOWN = 4


def _shown_codes(codings: list[fhir.Coding]) -> str:
    """The codes of ``codings`` as a warning names them (``SNOMED CT 38341003, ICD-10 I10``)."""
    shown: list[str] = []
    for coding in codings:
        if not coding.code:
            continue
        family = diagnosis_code_family(coding.system)
        label = {"snomed": "SNOMED CT", "icd10": "ICD-10", "icdo3": "ICD-O-3"}.get(family or "")
        if label is None:
            label = (coding.system or "no system")[:_MAX_ID]
        shown.append(f"{label} {coding.code[:_MAX_ID]}")
    more = len(shown) - _MAX_CODES_SHOWN
    return ", ".join(shown[:_MAX_CODES_SHOWN]) + (f" and {more} more" if more > 0 else "")


def _contained(contained: list[Any] | None, rid: str) -> Mapping[str, Any] | None:
    """A Medication contained in the resource (``#id`` references, as Epic writes them)."""
    for r in contained or []:
        if isinstance(r, Mapping) and r.get("resourceType") == "Medication" and r.get("id") == rid:
            return r
    return None


def _status(cc: fhir.CodeableConcept | None) -> str | None:
    codes = _codes(cc)
    return codes[0] if codes else None


def _ref(kind: str, rid: str | None) -> str:
    return f"{kind}/{(rid or '?')[:_MAX_ID]}"


_TYPES: dict[str, type[msgspec.Struct]] = {
    "Patient": fhir.Patient,
    "Condition": fhir.Condition,
    "Observation": fhir.Observation,
    "DiagnosticReport": fhir.DiagnosticReport,
    "ImagingStudy": fhir.ImagingStudy,
    "Procedure": fhir.Procedure,
    "Medication": fhir.Medication,
    "MedicationRequest": fhir.MedicationUse,
    "MedicationAdministration": fhir.MedicationUse,
    "MedicationStatement": fhir.MedicationUse,
}


# --- the mapping ------------------------------------------------------------------------------


@dataclass
class _Dated:
    origin: str
    item: dict[str, Any]


class _Reader:
    """Maps one patient's resources into record fields."""

    def __init__(
        self,
        pid: str,
        shared: Mapping[str, Mapping[str, Any]],
        as_of: dt.date,
        knowledge: Knowledge | None,
    ) -> None:
        self.pid = pid
        self.shared = shared
        self.as_of = as_of
        self.knowledge = knowledge
        self.codes: CodeTables = code_tables(knowledge)
        self.tables: BoundaryTables = boundary_tables(knowledge)
        self.warnings: list[MappingWarning] = []
        self.dropped_warnings = 0
        self.assumptions: list[Assumption] = []
        self.fields: dict[str, Any] = {}
        self.liver: dict[str, Any] = {}
        self.etiology: set[str] = set()
        self.lists: dict[str, list[_Dated]] = {
            k: [] for k in ("labs", "treatments", "imaging", "symptoms", "metastatic_sites")
        }
        # The record model's view of each entry of lists["labs"] (None: to be validated).
        self.lab_models: list[Lab | None] = []
        self.ecog: list[tuple[dt.date, int, str]] = []
        self.tumour_sizes: list[tuple[dt.date, float, str, str | None]] = []
        self.tnm: list[tuple[dt.date, str, str, str]] = []
        self.dialysis: list[tuple[str, dt.date | None, float | None]] = []
        self.medications: list[tuple[str, str, dt.date, dt.date | None]] = []
        self.procedures_read = 0
        self.medications_read = 0
        self.hcc_found = False
        self.reported_images: set[str] = set()
        self.studies: list[tuple[str, fhir.ImagingStudy]] = []

    def warn(self, resource: str, message: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(MappingWarning(resource, message))
        else:
            self.dropped_warnings += 1

    # --- dispatch --------------------------------------------------------------------------

    def read(self, resource: Mapping[str, Any]) -> None:
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or kind not in _TYPES:
            return  # Encounter, Claim, Organization...: nothing the record holds
        rid = resource.get("id")
        origin = _ref(kind, rid if isinstance(rid, str) else None)
        struct, handler = _HANDLERS[kind]
        if type(resource) is _Typed:
            typed = resource.view  # decoded from its line into this very view (read_lines)
        else:
            try:
                typed = fhir.convert(resource, struct)
            except msgspec.ValidationError as exc:
                self.warn(origin, f"not read: an element has the wrong form ({exc})")
                return
        try:
            handler(self, origin, typed)
        except (ValueError, TypeError, KeyError, OverflowError) as exc:  # a last guard, never a crash
            self.warn(origin, f"not read: {type(exc).__name__}")

    def _Patient(self, origin: str, p: fhir.Patient) -> None:
        if p.gender in ("male", "female"):
            self.fields["sex"] = p.gender
        elif p.gender is not None:
            self.warn(origin, "gender other than male/female: sex left unknown (MELD 3.0 needs it)")
        if p.birthDate is not None:
            born = _day(p.birthDate)
            if born is None:
                self.warn(origin, "birth date not given to the day: left unknown")
            else:
                self.fields["birth_date"] = born.isoformat()
        self._deceased(origin, p)

    def _deceased(self, origin: str, p: fhir.Patient) -> None:
        # FHIR's deceased[x] is a choice: a boolean, or the dateTime of death (which says "died").
        if p.deceasedBoolean is False and p.deceasedDateTime is not None:
            self.warn(
                origin,
                "deceasedBoolean false and a deceasedDateTime both given: "
                "whether the patient has died is left unknown",
            )
            return
        if p.deceasedBoolean is not None:
            self.fields["deceased"] = p.deceasedBoolean
        if p.deceasedDateTime is None:
            return
        died = _day(p.deceasedDateTime)
        if died is None:
            if p.deceasedBoolean is None:
                self.fields["deceased"] = True
            self.warn(origin, "date of death not given to the day: recorded as died, date left unknown")
        else:
            self.fields["deceased_on"] = died.isoformat()

    # --- Condition -------------------------------------------------------------------------

    def _Condition(self, origin: str, c: fhir.Condition) -> None:
        verification = _status(c.verificationStatus)
        if verification in _VOID:
            return
        clinical = _status(c.clinicalStatus)
        onset = _day(c.onsetDateTime) or _day(c.onsetPeriod.start if c.onsetPeriod else None)
        abated = _day(c.abatementDateTime)
        codings = _codings(c.code)
        if not any(coding.code for coding in codings):
            self.warn(origin, "Condition without a coded diagnosis: not read")
            return
        k = self.codes
        secondary_profile = c.meta is not None and any(
            _SECONDARY_PROFILE in p for p in (c.meta.profile or [])
        )
        understood = False
        if self._hcc_morphology(c.extension):
            self.hcc_found = True
            understood = True
        for coding in codings:
            code, system = coding.code, coding.system
            if code is None:
                continue
            if _is_icd10(system):
                code = _icd10(code)
            if code in k.not_hcc or (_is_icd10(system) and code.upper().startswith("C78.7")):
                why = k.not_hcc.get(code) or k.not_hcc.get("C78.7", "")
                self.warn(origin, f"{code}: {why}; not read as HCC nor as an extrahepatic site")
                return
            if system == SNOMED:
                if code in k.hcc_snomed:
                    self.hcc_found = True
                    understood = True
                elif code in k.metastasis_snomed or secondary_profile:
                    site = k.metastasis_snomed.get(code) or self._body_site(c.bodySite)
                    understood = self._metastasis(origin, site, onset, clinical) or understood
                    break
                elif code in k.cirrhosis_snomed:
                    understood = self._cirrhosis(clinical) or understood
                if code in k.etiology_snomed:
                    self._etiology(k.etiology_snomed[code])
                    understood = True
                if code in k.symptoms:
                    self._symptom(origin, k.symptoms[code], onset, abated, clinical)
                    understood = True
            elif _is_icd10(system):
                if code.upper() in k.hcc_icd10:
                    self.hcc_found = True
                    understood = True
                elif code.upper()[:3] in ("C77", "C78", "C79"):
                    site = _prefix_match(code, k.metastasis_icd10)
                    understood = self._metastasis(origin, site, onset, clinical) or understood
                    break
                if any(code.upper().startswith(p) for p in k.cirrhosis_icd10):
                    understood = self._cirrhosis(clinical) or understood
                etiology = _prefix_match(code, k.etiology_icd10)
                if etiology is not None:
                    self._etiology(etiology)
                    understood = True
            elif _is_icdo3(system) and code in k.hcc_icdo3:
                self.hcc_found = True
                understood = True
        if not understood:
            # Named, never dropped in silence: hccwatch cannot tell a comorbidity it does not need
            # (hypertension) from a relevant diagnosis coded in a way its tables do not know.
            self.warn(origin, f"diagnosis {_shown_codes(codings)} is not in hccwatch's code tables: not read")

    def _hcc_morphology(self, extensions: list[Any] | None) -> bool:
        """mCODE's histology-morphology-behavior extension naming HCC (SNOMED or ICD-O-3)."""
        for ext in extensions or []:
            if not isinstance(ext, Mapping) or not str(ext.get("url", "")).endswith(_MORPHOLOGY):
                continue
            try:
                concept = fhir.convert(ext.get("valueCodeableConcept"), fhir.CodeableConcept)
            except msgspec.ValidationError:
                continue
            for coding in _codings(concept):
                if coding.code in self.codes.hcc_snomed or coding.code in self.codes.hcc_icdo3:
                    return True
        return False

    def _body_site(self, sites: list[fhir.CodeableConcept] | None) -> str | None:
        for cc in sites or []:
            for code in _codes(cc, SNOMED):
                if code in self.codes.body_sites:
                    return self.codes.body_sites[code]
        return None

    def _metastasis(self, origin: str, site: str | None, when: dt.date | None, clinical: str | None) -> bool:
        if clinical in _INACTIVE:
            self.warn(origin, "metastasis recorded as inactive/resolved: not read as a current site")
            return True
        if site == "liver":
            self.warn(origin, "secondary neoplasm of the liver: not an extrahepatic site, not read")
            return True
        if not site:
            site = "other"
            self.warn(origin, "metastasis without a coded site: read as site 'other'")
        entry: dict[str, Any] = {"site": site}
        if when is not None:
            entry["date"] = when.isoformat()
        self.lists["metastatic_sites"].append(_Dated(origin, entry))
        return True

    def _cirrhosis(self, clinical: str | None) -> bool:
        # Cirrhosis does not resolve; an "inactive" status is a coding habit, not a cure.
        self.liver["cirrhosis"] = True
        return True

    def _etiology(self, name: str) -> None:
        self.etiology.add(name)

    def _symptom(
        self, origin: str, code: str, onset: dt.date | None, resolved: dt.date | None, clinical: str | None
    ) -> None:
        if clinical in _INACTIVE and resolved is None:
            self.warn(origin, f"symptom {code} recorded as resolved without a date: not read as current")
            return
        entry: dict[str, Any] = {"code": code}
        if onset is not None:
            entry["onset"] = onset.isoformat()
        if resolved is not None:
            if onset is not None and resolved < onset:
                self.warn(origin, f"symptom {code}: abatement before onset, abatement ignored")
            else:
                entry["resolved"] = resolved.isoformat()
        self.lists["symptoms"].append(_Dated(origin, entry))

    # --- Observation -----------------------------------------------------------------------

    def _Observation(self, origin: str, o: fhir.Observation) -> None:
        if o.status in _VOID:
            return
        k = self.codes
        when = (
            _day(o.effectiveDateTime)
            or _day(o.effectivePeriod.start if o.effectivePeriod else None)
            or _day(o.issued)
        )
        loinc = _codes(o.code, LOINC)
        for code in loinc:
            if code in k.labs:
                self._lab(origin, k.labs[code], o, when)
                return
            if code in k.ecog:
                self._ecog(origin, o, when)
                return
            if code == k.tumor_size:
                self._tumour_size(origin, o, when)
                return
            if code in k.disease_status:
                self._disease_status(origin, o)
                return
        snomed = _codes(o.code, SNOMED)
        for code in loinc + snomed:
            if code in k.tnm:
                self._tnm(origin, k.tnm[code], o, when)
                return
        for code in snomed:
            if code in k.symptoms:
                self._symptom_observation(origin, k.symptoms[code], o, when)
                return
        for code in _codes(o.valueCodeableConcept, SNOMED):
            if code in k.symptoms:
                self._symptom_observation(origin, k.symptoms[code], o, when)
                return

    def _lab(self, origin: str, test: str, o: fhir.Observation, when: dt.date | None) -> None:
        q = o.valueQuantity
        if when is None:
            self.warn(origin, f"{test} without a date to the day: not read")
            return
        if q is None or q.value is None:
            shown = "a text value" if o.valueString is not None else "no numeric value"
            self.warn(origin, f"{test} has {shown}: not read")
            return
        if q.comparator is not None:
            self.warn(origin, f"{test} reported as a bound ({q.comparator}), not a value: not read")
            return
        unit = q.code if q.system == UCUM and q.code else (q.unit or q.code)
        # A lab mapped_lab builds has converted to a plausible value: the checks below would pass.
        lab = mapped_lab(test, q.value, unit, when, self.tables)
        if lab is None:
            try:
                canonical = self.tables.convert(test, q.value, unit)
            except UnitError as exc:
                self.warn(origin, f"{exc}: not read")
                return
            bounds = self.tables.range(test)
            if not bounds.contains(canonical.value):
                self.warn(origin, f"{test} value outside the plausible range ({bounds.describe()}): not read")
                return
        entry: dict[str, Any] = {"test": test, "value": q.value, "date": when.isoformat()}
        if unit is not None:
            entry["unit"] = unit
        self.lists["labs"].append(_Dated(origin, entry))
        self.lab_models.append(lab)

    def _ecog(self, origin: str, o: fhir.Observation, when: dt.date | None) -> None:
        grade: int | None = o.valueInteger
        if grade is None and o.valueQuantity is not None and o.valueQuantity.value is not None:
            v = o.valueQuantity.value
            grade = int(v) if float(v).is_integer() else None
        if grade is None:
            for code in _codes(o.valueCodeableConcept):
                if code in self.codes.ecog_answers:
                    grade = self.codes.ecog_answers[code]
                    break
        if grade is None or when is None:
            self.warn(origin, "ECOG without a grade or a date: not read")
            return
        if not 0 <= grade <= 4:  # noqa: PLR2004 (the scale's own range)
            self.warn(origin, "ECOG grade outside 0-4: not read")
            return
        self.ecog.append((when, grade, origin))

    def _tumour_size(self, origin: str, o: fhir.Observation, when: dt.date | None) -> None:
        k = self.codes
        size: fhir.Quantity | None = None
        for comp in o.component or []:
            if k.tumor_longest in _codes(comp.code, LOINC) and comp.valueQuantity is not None:
                size = comp.valueQuantity
        if size is None:
            size = o.valueQuantity
        if size is None or size.value is None or when is None:
            self.warn(origin, "tumour size without a longest dimension or a date: not read")
            return
        unit = (size.code or size.unit or "").strip().lower()
        factor = {"cm": 1.0, "mm": 0.1, "centimeters": 1.0, "millimeters": 0.1}.get(unit)
        if factor is None:
            self.warn(origin, "tumour size in a unit other than cm or mm: not read")
            return
        cm = size.value * factor
        bounds = self.tables.range("tumor_size_cm")
        if not bounds.contains(cm):
            self.warn(origin, f"tumour size outside the plausible range ({bounds.describe()}): not read")
            return
        focus = None
        for ref in o.focus or []:
            focus = ref.reference or focus
        self.tumour_sizes.append((when, round(cm, 2), origin, focus))

    def _tnm(self, origin: str, axis: str, o: fhir.Observation, when: dt.date | None) -> None:
        if axis == "stage" or axis == "t":
            self.warn(
                origin,
                f"TNM {'stage group' if axis == 'stage' else 'T category'} noted, not used: "
                "hccwatch stages from the facts themselves",
            )
            return
        texts = [c.code or "" for c in _codings(o.valueCodeableConcept)]
        texts += [c.display or "" for c in _codings(o.valueCodeableConcept)]
        if o.valueCodeableConcept is not None and o.valueCodeableConcept.text:
            texts.append(o.valueCodeableConcept.text)
        found: str | None = None
        for text in texts:
            for m in _TNM.finditer(text):
                if m[1].upper() == axis.upper():
                    found = m[2].upper()
                    break
            if found:
                break
        if found is None or found == "X" or when is None:
            self.warn(origin, f"TNM {axis.upper()} category not readable (or NX/MX, or undated): not read")
            return
        self.tnm.append((when, axis, found, origin))

    def _disease_status(self, origin: str, o: fhir.Observation) -> None:
        if set(_codes(o.valueCodeableConcept, SNOMED)) & self.codes.disease_worse:
            self.warn(
                origin,
                "cancer disease status 'worse' is recorded; hccwatch reads progression only from "
                "imaging reports (DiagnosticReport): check that the imaging is in the record",
            )

    def _symptom_observation(self, origin: str, code: str, o: fhir.Observation, when: dt.date | None) -> None:
        if o.valueBoolean is False:
            return
        if set(_codes(o.valueCodeableConcept, SNOMED)) & self.codes.absent:
            return
        # The date observed: the onset was no later.
        self._symptom(origin, code, when, None, None)

    # --- Imaging ---------------------------------------------------------------------------

    def _ImagingStudy(self, origin: str, s: fhir.ImagingStudy) -> None:
        if s.status in _VOID:
            return
        self.studies.append((origin, s))

    def _study_facts(self, ref: str) -> tuple[str | None, str | None, dt.date | None]:
        raw = self.shared.get(ref)
        if raw is None:
            return None, None, None
        try:
            s = fhir.convert(raw, fhir.ImagingStudy)
        except msgspec.ValidationError:
            return None, None, None
        modality = region = None
        codings = list(s.modality or []) + [se.modality for se in s.series or [] if se.modality]
        for c in codings:
            if c.code in self.codes.dicom_modality:
                modality = self.codes.dicom_modality[c.code]
                break
        for se in s.series or []:
            if se.bodySite is not None and se.bodySite.code in self.codes.body_sites:
                region = self.codes.body_sites[se.bodySite.code]
                break
        return modality, region, _day(s.started)

    def _DiagnosticReport(self, origin: str, r: fhir.DiagnosticReport) -> None:
        if r.status in _VOID or r.status in ("registered", "partial", "preliminary"):
            return
        k = self.codes
        modality = region = None
        for code in _codes(r.code, LOINC):
            if code in k.imaging:
                modality, region = k.imaging[code]
                break
        when = _day(r.effectiveDateTime) or _day(r.effectivePeriod.start if r.effectivePeriod else None)
        for ref in r.imagingStudy or []:
            if ref.reference is None:
                continue
            self.reported_images.add(ref.reference)
            s_mod, s_region, s_when = self._study_facts(ref.reference)
            modality, region, when = modality or s_mod, region or s_region, when or s_when
        if modality is None:
            return  # a lab panel or a report of a kind the record does not hold
        if region is None:
            self.warn(origin, f"{modality} report without a coded region: not read")
            return
        if region not in ("abdomen", "liver", "chest", "spine", "brain", "bone", "whole_body", "pelvis"):
            self.warn(origin, f"{modality} of a region the record does not hold: not read")
            return
        if when is None:
            when = _day(r.issued)
        if when is None:
            self.warn(origin, "imaging report without a date: not read")
            return
        result, lesions = self._conclusion(r.conclusionCode)
        if result is None:
            self.warn(origin, "imaging report without a coded conclusion: not read (a result is needed)")
            return
        entry: dict[str, Any] = {
            "date": when.isoformat(),
            "modality": modality,
            "region": region,
            "result": result,
        }
        if lesions:
            entry["lesions"] = lesions
        self.lists["imaging"].append(_Dated(origin, entry))

    def _conclusion(self, concepts: list[fhir.CodeableConcept] | None) -> tuple[str | None, list[Any]]:
        k = self.codes
        result: str | None = None
        lesions: list[dict[str, Any]] = []
        for cc in concepts or []:
            for code in _codes(cc, SNOMED):
                site = k.metastasis_snomed.get(code)
                if site:
                    lesions.append({"site": site, "new": True})
                    result = "new_lesion"
                elif code in k.imaging_results and result is None:
                    result = k.imaging_results[code]
        return result, lesions

    # --- Procedures ------------------------------------------------------------------------

    def _Procedure(self, origin: str, p: fhir.Procedure) -> None:
        self.procedures_read += 1
        if p.status in _VOID or p.status in ("preparation", "stopped", "on-hold"):
            return
        kind = None
        for code in _codes(p.code, SNOMED):
            if code in self.codes.procedures:
                kind = self.codes.procedures[code]
                break
        if kind is None:
            return
        start = p.performedPeriod.start if p.performedPeriod else None
        when = _day(p.performedDateTime) or _day(start)
        if kind in ("dialysis", "cvvhd"):
            hours = None
            if p.performedPeriod is not None:
                a, b = _instant(p.performedPeriod.start), _instant(p.performedPeriod.end)
                if a is not None and b is not None and b >= a:
                    hours = (b - a).total_seconds() / 3600
            self.dialysis.append((kind, when, hours))
            return
        if when is None:
            self.warn(origin, f"{kind} without a date: not read")
            return
        entry: dict[str, Any] = {"type": kind, "date": when.isoformat()}
        if kind in ("radiotherapy", "sbrt"):
            site = self._body_site(p.bodySite)
            if site:
                entry["site"] = site
        self.lists["treatments"].append(_Dated(origin, entry))

    # --- Medications -----------------------------------------------------------------------

    def _medication_names(self, m: fhir.MedicationUse) -> list[str]:
        concept = m.medicationCodeableConcept
        if concept is None and m.medicationReference is not None and m.medicationReference.reference:
            ref = m.medicationReference.reference
            raw = self.shared.get(ref) if not ref.startswith("#") else _contained(m.contained, ref[1:])
            if raw is not None:
                try:
                    concept = fhir.convert(raw, fhir.Medication).code
                except msgspec.ValidationError:
                    concept = None
        texts = [c.display or "" for c in _codings(concept)]
        if concept is not None and concept.text:
            texts.append(concept.text)
        if m.medicationReference is not None and m.medicationReference.display:
            texts.append(m.medicationReference.display)
        words = set(re.findall(r"[a-z]+", " ".join(texts).lower()))
        return [agent for agent in self.codes.systemic_agents if agent in words]

    def _medication(self, origin: str, m: fhir.MedicationUse) -> None:
        self.medications_read += 1
        if m.status in _MED_VOID or m.intent in _MED_NOT_GIVEN_INTENTS:
            return
        agents = self._medication_names(m)
        if not agents:
            return
        start = (
            _day(m.effectivePeriod.start if m.effectivePeriod else None)
            or _day(m.effectiveDateTime)
            or _day(m.authoredOn)
            or _day(m.dateAsserted)
        )
        if start is None:
            self.warn(origin, f"{'+'.join(agents)} without a start date: not read")
            return
        end = _day(m.effectivePeriod.end if m.effectivePeriod else None)
        if m.effectiveDateTime is not None and m.effectivePeriod is None and end is None:
            end = start if m.status == "completed" else None
        for agent in agents:
            self.medications.append((agent, origin, start, end))

    _MedicationRequest = _medication
    _MedicationAdministration = _medication
    _MedicationStatement = _medication

    def _Medication(self, origin: str, m: fhir.Medication) -> None:
        return  # read through the references that point at it

    # --- assembling ------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        for origin, study in self.studies:
            if origin not in self.reported_images and study.id is not None:
                if f"ImagingStudy/{study.id}" not in self.reported_images:
                    self.warn(origin, "imaging study without a report: not read (a result is needed)")
        record: dict[str, Any] = {"id": self.pid, **self.fields}
        if self.ecog:
            when, grade, _origin = max(self.ecog, key=lambda e: e[0])
            record["ecog"] = grade
        self._tumours(record)
        self._tnm_facts(record)
        self._metastasis_facts(record)
        self._treatments_from_medications()
        self._dialysis_flags()
        if self.etiology:
            self.liver["etiology"] = sorted(self.etiology)
        if self.liver:
            record["liver"] = dict(self.liver)
        for name, items in self.lists.items():
            if items:
                record[name] = [d.item for d in items]
        if not self.hcc_found:
            self.warn(
                f"Patient/{self.pid[:_MAX_ID]}",
                "no hepatocellular carcinoma Condition found (SNOMED CT 109841003, ICD-10 C22.0, "
                "ICD-O-3 8170/3-8175/3): hccwatch is meant for people treated for HCC",
            )
        if self.dropped_warnings:
            self.warnings.append(
                MappingWarning(f"Patient/{self.pid[:_MAX_ID]}", f"{self.dropped_warnings} more warnings")
            )
        record["assumptions"] = [a.to_dict() for a in self.assumptions]
        return record

    def _tumours(self, record: dict[str, Any]) -> None:
        if not self.tumour_sizes:
            return
        latest = max(t[0] for t in self.tumour_sizes)
        by_focus: dict[str, float] = {}
        for when, cm, origin, focus in self.tumour_sizes:
            if when == latest:
                key = focus or origin
                by_focus[key] = max(cm, by_focus.get(key, 0.0))
        record["tumors"] = [{"size_cm": cm} for cm in sorted(by_focus.values(), reverse=True)]
        record["tumors_assessed_on"] = latest.isoformat()

    def _tnm_facts(self, record: dict[str, Any]) -> None:
        for axis, field_name in (("n", "lymph_node_metastasis"), ("m", "extrahepatic_metastasis")):
            rows = [r for r in self.tnm if r[1] == axis]
            if rows:
                _when, _axis, category, _origin = max(rows, key=lambda r: r[0])
                record[field_name] = category != "0"

    def _metastasis_facts(self, record: dict[str, Any]) -> None:
        sites = {d.item["site"] for d in self.lists["metastatic_sites"]}
        if sites:
            record["extrahepatic_metastasis"] = True
        if "lymph_node" in sites:
            record["lymph_node_metastasis"] = True

    def _treatments_from_medications(self) -> None:
        # Agents started on the same day are one regimen (atezolizumab + bevacizumab).
        by_start: dict[dt.date, list[tuple[str, str, dt.date | None]]] = {}
        for agent, origin, start, end in self.medications:
            by_start.setdefault(start, []).append((agent, origin, end))
        for start in sorted(by_start):
            rows = by_start[start]
            agents = sorted({a for a, _o, _e in rows})
            ends = [e for _a, _o, e in rows]
            entry: dict[str, Any] = {"type": "systemic", "date": start.isoformat(), "agent": "_".join(agents)}
            if ends and all(e is not None for e in ends):
                end = max(e for e in ends if e is not None)
                if end >= start:
                    entry["end_date"] = end.isoformat()
            self.lists["treatments"].append(_Dated(rows[0][1], entry))

    def _dialysis_flags(self) -> None:
        k = self.codes
        window_start = self.as_of - dt.timedelta(days=k.dialysis_window_days)
        window = f"{window_start.isoformat()} to {self.as_of.isoformat()}"
        recent = [
            (kind, when, hours)
            for kind, when, hours in self.dialysis
            if when and window_start <= when <= self.as_of
        ]
        sessions = sum(1 for kind, _w, _h in recent if kind == "dialysis")
        if sessions >= k.dialysis_min_sessions:
            self.liver["dialysis_twice_past_week"] = True
        else:
            self.liver["dialysis_twice_past_week"] = False
            self.assumptions.append(
                Assumption(
                    "liver.dialysis_twice_past_week",
                    False,
                    f"{sessions} dialysis procedure(s) recorded from {window} among the "
                    f"{self.procedures_read} Procedure resources read; the EHR is taken as complete "
                    "for dialysis",
                )
            )
        cvvhd = [hours for kind, _w, hours in recent if kind == "cvvhd"]
        if any(h is not None and h >= k.cvvhd_min_hours for h in cvvhd):
            self.liver["cvvhd_24h_past_week"] = True
        elif any(h is None for h in cvvhd):
            self.warn(
                f"Patient/{self.pid[:_MAX_ID]}",
                "CVVHD recorded in the past week without a measurable duration: left unknown",
            )
        else:
            self.liver["cvvhd_24h_past_week"] = False
            self.assumptions.append(
                Assumption(
                    "liver.cvvhd_24h_past_week",
                    False,
                    f"no continuous veno-venous haemodialysis of {k.cvvhd_min_hours:g} hours recorded "
                    f"from {window} among the {self.procedures_read} Procedure resources read; the EHR "
                    "is taken as complete for dialysis",
                )
            )


# Each resource type the reader maps: the typed view it is decoded into and its reader method.
_HANDLERS: dict[str, tuple[type[msgspec.Struct], Callable[[_Reader, str, Any], None]]] = {
    kind: (struct, getattr(_Reader, f"_{kind}")) for kind, struct in _TYPES.items()
}


# --- validation against the record model ------------------------------------------------------

_LISTS = ("labs", "treatments", "imaging", "symptoms", "metastatic_sites", "tumors")
_INDEXED = re.compile(r"\b(" + "|".join(_LISTS) + r")\[(\d+)\]")
_FIELD = re.compile(r"^([a-z_]+)(?:\.([a-z_]+))?:")
_MAX_PASSES = 8


def _validated(
    record: dict[str, Any], reader: _Reader, knowledge: Knowledge | None
) -> tuple[dict[str, Any], PatientRecord | None]:
    """The record with whatever the record model refuses removed, each removal warned about,
    and the record model's view of it (None when none was refused but the patient id)."""
    labs = tuple(lab for lab in reader.lab_models if lab is not None)
    if len(labs) == len(reader.lab_models) == len(record.get("labs", ())):
        # Every lab is already the model's: only the rest is validated (see mapped_lab).
        parsed = parse_mapped_record(record, labs, knowledge=knowledge)
        if parsed is not None:
            return record, parsed
    origins: dict[str, list[str]] = {name: [d.origin for d in reader.lists.get(name, [])] for name in _LISTS}
    patient = f"Patient/{reader.pid[:_MAX_ID]}"
    for _ in range(_MAX_PASSES):
        try:
            return record, parse_record(record, knowledge=knowledge)
        except InvalidRecordError as exc:
            problems = list(exc.problems) or [str(exc)]
        removed = False
        for problem in problems:
            hits = {(name, int(i)) for name, i in _INDEXED.findall(problem)}
            for name, index in sorted(hits, key=lambda h: -h[1]):
                items = record.get(name)
                if isinstance(items, list) and index < len(items):
                    origin_list = origins.get(name, [])
                    origin = origin_list[index] if index < len(origin_list) else patient
                    self_warn(reader, origin, f"not read: refused by the record model ({problem})")
                    del items[index]
                    if index < len(origin_list):
                        del origin_list[index]
                    if not items:
                        record.pop(name)
                    removed = True
            if hits:
                continue
            m = _FIELD.match(problem)
            if m is not None and m[1] in record and m[1] != "id":
                if m[2] and isinstance(record[m[1]], dict) and m[2] in record[m[1]]:
                    del record[m[1]][m[2]]
                else:
                    record.pop(m[1])
                self_warn(reader, patient, f"not read: refused by the record model ({problem})")
                removed = True
        if not removed:
            break
    self_warn(reader, patient, "the mapped record could not be validated; only the patient id is kept")
    return {"id": record["id"], "assumptions": []}, None


def self_warn(reader: _Reader, resource: str, message: str) -> None:
    reader.warn(resource, message)


# --- public API ---------------------------------------------------------------------------------


def _reading(
    pid: str,
    resources: Iterable[Mapping[str, Any]],
    pool: _Pool,
    as_of: dt.date | None,
    knowledge: Knowledge | None,
) -> FhirReading:
    # The only clock read: "the past week" for the dialysis flags, when no date is given.
    reader = _Reader(pid, pool.shared, as_of or dt.date.today(), knowledge)
    patient = pool.patients.get(pid)
    if patient is not None:
        reader.read(patient)
    for resource in resources:
        reader.read(resource)
    record, parsed = _validated(reader.finish(), reader, knowledge)
    assumed = {a.field for a in reader.assumptions}
    kept = tuple(a for a in reader.assumptions if _has(record, a.field) and a.field in assumed)
    stated = [a.to_dict() for a in kept]
    if record.get("assumptions") != stated:
        # A refused field took its assumption with it: the record validated is not this one.
        parsed = None
    record["assumptions"] = stated
    return FhirReading(record, tuple(reader.warnings), kept, _validated=parsed, _knowledge=knowledge)


def _has(record: Mapping[str, Any], path: str) -> bool:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _one(
    pool: _Pool, patient_id: str | None, as_of: dt.date | None, knowledge: Knowledge | None
) -> FhirReading:
    ids = sorted(set(pool.patients) | set(pool.by_patient))
    if patient_id is not None:
        # The caller knows the patient (a CDS Hooks context): resources of others are left out.
        others = sum(len(pool.by_patient[pid]) for pid in ids if pid != patient_id)
        extra = pool.unattached if set(ids) <= {patient_id} else []
        reading = _reading(patient_id, pool.by_patient.get(patient_id, []) + extra, pool, as_of, knowledge)
        if others:
            warning = MappingWarning(
                f"Patient/{patient_id[:_MAX_ID]}", f"{others} resource(s) of other patients left out"
            )
            return replace(reading, warnings=(*reading.warnings, warning))
        return reading
    if not ids:
        problem = "no patient found (no Patient resource and no resource whose subject is a Patient)"
        raise InvalidRecordError(problem, problems=[problem])
    if len(ids) > 1:
        problem = f"{len(ids)} patients found; read them with read_fhir_by_patient"
        raise InvalidRecordError(problem, problems=[problem])
    pid = ids[0]
    return _reading(pid, pool.by_patient.get(pid, []) + pool.unattached, pool, as_of, knowledge)


def read_resources(
    resources: Iterable[Mapping[str, Any]],
    *,
    as_of: dt.date | None = None,
    knowledge: Knowledge | None = None,
    patient_id: str | None = None,
) -> FhirReading:
    """The patient record of one patient's resources (Bundles among them are opened; ``None``
    and anything that is not a resource, such as an absent prefetch, are skipped).

    ``as_of`` is the day "the past week" ends on for the dialysis assumptions (default today).
    ``patient_id`` names the patient when the caller knows it (a CDS Hooks ``context.patientId``):
    then even no resource at all gives a (nearly empty) record, and other patients' are left out.

    Raises:
        InvalidRecordError: without ``patient_id``, no patient or more than one can be found.
    """
    return _one(_pool(_each_item(resources)), patient_id, as_of, knowledge)


def _each_item(resources: Iterable[Mapping[str, Any]]) -> Iterator[_Item]:
    for r in resources:
        # A plain resource (nearly all of an export) is an item as it is; the rest, as _items says.
        if type(r) is dict:
            kind = r.get("resourceType")
            if kind != "Bundle" and isinstance(kind, str):
                yield _Item(r, None)
                continue
        yield from _items(r)


class _Typed(dict[str, Any]):
    """A resource decoded from its NDJSON line straight into its typed view (``view``). As a
    mapping it holds only what the grouping reads: its type, its id, and as ``subject`` the
    patient reference ``_subject`` would find in the line (subject's, else patient's), so
    ``_pool`` and ``_Reader.read`` treat it as they treat the whole JSON object. Built by
    ``_line_items`` (dict's own constructor, then ``view`` set: one per line, kept cheap)."""

    __slots__ = ("view",)
    view: Any


_LINE_HEAD = b'{"resourceType":"'
_KIND_AT = len(_LINE_HEAD)
# The integers orjson reads as integers; beyond them it reads a float, msgspec an exact integer.
_ORJSON_INTEGERS = range(-(2**63), 2**64)


def _as_orjson_reads(value: Any) -> bool:
    """False when ``value`` (raw JSON kept by a view) holds an integer orjson would have read as
    a float: the view is then not the one ``fhir.convert`` makes of orjson's object."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is int:
            if item not in _ORJSON_INTEGERS:
                return False
        elif kind is list:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.values())
    return True


def _line_items(raws: Iterable[bytes]) -> Iterator[_Item]:
    """Each NDJSON line decoded once, as the reader needs it.

    A line of a type the reader maps becomes its typed view (``_Typed``); of a type it does not
    map, the little the grouping reads. A line is read as :func:`read_resources` reads it
    (orjson, then ``fhir.convert``) whenever the two could differ at all: it does not start with
    its resourceType; an element has the wrong form (so every warning, msgspec's path text
    included, is the one ``fhir.convert`` writes); it is a Bundle (its entries are resources), a
    Medication or an ImagingStudy (read through references, as objects); or an element that
    keeps raw JSON holds an integer beyond 64 bits (orjson reads it as a float; the typed views
    refuse one in an int element, see ``fhir.LINE_VIEWS``).

    msgspec's decoder is more lenient than orjson on a few inputs (invalid UTF-8 or a number
    beyond a double's range in an element it skips, nesting deeper than orjson's limit) and
    otherwise reads the same values; the same number in an element a view reads fails msgspec
    too, and the line is then refused below. Every line the batch gives here was decoded by
    orjson first (its scan keeps only those), so those inputs never reach this from the batch;
    from another caller, such a line is read (the elements it reads are sound) where
    read_resources of orjson's decode would have refused it as not JSON.
    """
    decoders = fhir.LINE_DECODERS
    elsewhere = fhir.ELSEWHERE.decode
    for raw in raws:
        if raw.startswith(_LINE_HEAD):
            line = decoders.get(raw[_KIND_AT : raw.find(b'"', _KIND_AT)])
            try:
                if line is not None:
                    decoder, kind, raw_json = line
                    # The tag is checked wherever it appears (a second resourceType of another
                    # type fails), and it is present: the line starts with it.
                    view = decoder.decode(raw)
                    if raw_json is None or _as_orjson_reads(getattr(view, raw_json)):
                        ref = view.subject
                        ref = None if ref is None else ref.reference
                        if not ref:
                            ref = view.patient
                            ref = None if ref is None else ref.reference
                        subject = {"reference": ref} if ref else None
                        typed = _Typed(resourceType=kind, id=view.id, subject=subject)
                        typed.view = view
                        yield _Item(typed, None)
                        continue
                else:
                    head = elsewhere(raw)
                    kind = head.resourceType
                    # subject and patient as decoded: only a text "reference" in them is read,
                    # which msgspec and orjson read alike.
                    if type(kind) is str and kind not in _TYPES and kind != "Bundle":
                        resource = {"resourceType": kind, "subject": head.subject, "patient": head.patient}
                        yield _Item(resource, None)
                        continue
            except msgspec.DecodeError:  # ValidationError included: read as read_resources does
                pass
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise InvalidRecordError(f"not JSON: {exc}", problems=[f"not JSON: {exc}"]) from None
        yield from _each_item((data,))


def read_lines(
    raws: Sequence[bytes],
    *,
    as_of: dt.date | None = None,
    knowledge: Knowledge | None = None,
    patient_id: str | None = None,
) -> FhirReading:
    """:func:`read_resources` of one patient's NDJSON lines (a Bulk Data export's), each line
    decoded once, straight into the typed view the mapping reads, not into a JSON object first:
    the same reading, warnings included, at a fraction of the decoding.

    Raises:
        InvalidRecordError: as :func:`read_resources`; or a line is not JSON.
    """
    return _one(_pool(_line_items(raws)), patient_id, as_of, knowledge)


def read_fhir(
    data: object,
    *,
    as_of: dt.date | None = None,
    knowledge: Knowledge | None = None,
    patient_id: str | None = None,
) -> FhirReading:
    """The patient record in a Bundle, a single resource, or a list of resources (or their JSON).

    ``as_of`` and ``patient_id`` as for :func:`read_resources`.

    Raises:
        InvalidRecordError: without ``patient_id``, no patient or more than one can be found; or
            the text is not JSON.
    """
    return _one(_pool(_items(data)), patient_id, as_of, knowledge)


def read_fhir_by_patient(
    data: object, *, as_of: dt.date | None = None, knowledge: Knowledge | None = None
) -> dict[str, FhirReading]:
    """One reading per patient found in ``data`` (empty when there is none).

    Resources that name no patient are given to the patient only when there is exactly one.
    """
    pool = _pool(_items(data))
    ids = sorted(set(pool.patients) | set(pool.by_patient))
    extra = pool.unattached if len(ids) == 1 else []
    return {pid: _reading(pid, pool.by_patient.get(pid, []) + extra, pool, as_of, knowledge) for pid in ids}
