"""Reading a FHIR Bulk Data export: its files, its lines, the patient each resource belongs to.

Both batch engines use these functions, so a line is judged the same way whichever engine reads
it. Nothing here aborts on bad data: a line that is not a JSON object, a resource type FHIR R4
does not define, or a resource pointing at a patient the export does not hold is a ``Problem``
with its file and line, counted and reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import orjson

from hccwatch.adapters.fhir import diagnosis_code_family
from hccwatch.adapters.fhir.codes import code_tables
from hccwatch.population.source import (
    ExportError,
    Identity,
    Store,
    check_unchanged,
    is_url,
    join,
    local_identity,
    store_for,
    store_identity,
    url_name,
)

__all__ = [
    "BulkExport",
    "ExportError",
    "Line",
    "Problem",
    "classify",
    "judge",
    "hcc_codes",
    "iter_lines",
    "open_export",
]


# Every resource type of FHIR R4 (4.0.1); any other name is an unknown type.
R4_TYPES = frozenset(
    """Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement
    CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse
    ClinicalImpression CodeSystem Communication CommunicationRequest CompartmentDefinition
    Composition ConceptMap Condition Consent Contract Coverage CoverageEligibilityRequest
    CoverageEligibilityResponse DetectedIssue Device DeviceDefinition DeviceMetric DeviceRequest
    DeviceUseStatement DiagnosticReport DocumentManifest DocumentReference EffectEvidenceSynthesis
    Encounter Endpoint EnrollmentRequest EnrollmentResponse EpisodeOfCare EventDefinition Evidence
    EvidenceVariable ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal
    GraphDefinition Group GuidanceResponse HealthcareService ImagingStudy Immunization
    ImmunizationEvaluation ImmunizationRecommendation ImplementationGuide InsurancePlan Invoice
    Library Linkage List Location Measure MeasureReport Media Medication MedicationAdministration
    MedicationDispense MedicationKnowledge MedicationRequest MedicationStatement MedicinalProduct
    MedicinalProductAuthorization MedicinalProductContraindication MedicinalProductIndication
    MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
    MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
    MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder Observation
    ObservationDefinition OperationDefinition OperationOutcome Organization OrganizationAffiliation
    Parameters Patient PaymentNotice PaymentReconciliation Person PlanDefinition Practitioner
    PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson
    RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject
    RiskAssessment RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance
    SubstanceNucleicAcid SubstancePolymer SubstanceProtein SubstanceReferenceInformation
    SubstanceSourceMaterial SubstanceSpecification SupplyDelivery SupplyRequest Task
    TerminologyCapabilities TestReport TestScript ValueSet VerificationResult VisionPrescription""".split()
)

# Where a resource names its patient, in the order looked at.
_PATIENT_FIELDS = ("subject", "patient", "beneficiary")


@dataclass(frozen=True, order=True)
class Problem:
    """A line the batch could not use as it stands; ``kind`` is one of bad_line, unknown_type,
    dangling_reference."""

    file: str
    line: int
    kind: str
    detail: str


@dataclass(frozen=True)
class Line:
    """One usable resource line: the patient it belongs to and whether it marks the HCC cohort.
    ``pid`` is None for resources outside any patient (Organization, Practitioner, ...)."""

    pid: str | None
    rtype: str
    is_patient: bool
    is_hcc: bool


# The SMART bulk-data-client writes its own event log beside the files it downloads: one JSON
# object a line with an exportId and an eventId, no resourceType. In a folder without a manifest it
# is not part of the export, and it records the export's transactionTime.
CLIENT_LOG = "log.ndjson"
CLIENT_LOG_REASON = "the Bulk Data client's event log (every line an event with an eventId), not FHIR"
# Events whose eventDetail carries the server's transactionTime.
_TIMED_EVENTS = ("status_complete", "manifest_complete")
# A client log is a few lines a file downloaded; a larger file of that name is read as the export's.
_CLIENT_LOG_MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Skipped:
    """A file of the export folder that is not part of the export, and why."""

    name: str
    reason: str


# What an export opened from a folder holding the client's log says it left out.
_LOG_SKIPPED = (Skipped(CLIENT_LOG, CLIENT_LOG_REASON),)


@dataclass(frozen=True)
class BulkExport:
    """The export's files: paths of this machine (``store`` None) or of an object store."""

    files: tuple[Path | str, ...]
    names: tuple[str, ...]  # as reported: relative to the export folder
    transaction_time: str | None
    store: Store | None = None
    sizes: tuple[int, ...] = ()  # of an object store's files, as listed when the export was opened
    # Of each file when the export was opened (source.Identity); () checks nothing.
    identities: tuple[Identity, ...] = ()
    skipped: tuple[Skipped, ...] = ()

    def total_bytes(self) -> int:
        if self.store is not None:
            return sum(self.sizes)
        return sum(Path(p).stat().st_size for p in self.files)

    def check_unchanged(self) -> None:
        """Raises ExportError naming a file rewritten, replaced or removed since the export was
        opened (``source.check_unchanged``)."""
        if self.identities:
            check_unchanged(self.files, self.names, self.identities, self.store)


def hcc_codes() -> dict[str, frozenset[str]]:
    """The codes that mark an HCC Condition, by coding system family, from the FHIR adapter's code
    tables (knowledge entries ``fhir.hcc`` and ``fhir.not_hcc``): one list for the mapper and the
    cohort, so a patient is in the cohort exactly when the mapper reads an HCC diagnosis."""
    k = code_tables()
    return {"snomed": k.hcc_snomed, "icd10": k.hcc_icd10, "icdo3": k.hcc_icdo3}


def _not_hcc() -> frozenset[str]:
    return frozenset(code_tables().not_hcc)


_HCC = hcc_codes()
_NOT_HCC = _not_hcc()
_VOID = frozenset({"entered-in-error", "refuted"})


def _manifest(text: str, label: str) -> tuple[list[str], str | None]:
    """The output urls of a manifest and its transactionTime."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ExportError(f"{label}: not a readable Bulk Data manifest ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("output"), list):
        raise ExportError(f"{label}: a Bulk Data manifest needs an 'output' list")
    urls: list[str] = []
    for i, item in enumerate(data["output"]):
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url:
            raise ExportError(f"{label}: output[{i}] has no url")
        urls.append(url)
    when = data.get("transactionTime")
    return urls, when if isinstance(when, str) else None


def _refuse_web(label: str, i: int, url: str) -> None:
    if urlparse(url).scheme in ("http", "https"):
        raise ExportError(
            f"{label}: output[{i}] is remote ({url}); download the files first or copy them to an "
            "object store (hccwatch batch reads a local copy of the export or an object-store URL)"
        )


def _from_manifest(manifest: Path, options: tuple[tuple[str, str], ...] = ()) -> BulkExport:
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"{manifest.name}: not a readable Bulk Data manifest ({exc})") from None
    urls, when = _manifest(text, manifest.name)
    base = manifest.parent
    in_store = [_in_object_store(url) for url in urls]
    if any(in_store):
        # A local manifest of files in an object store: each url must name one.
        if not all(in_store):
            raise ExportError(
                f"{manifest.name}: output[{in_store.index(False)}] is not in an object store and "
                "others are; an export is read from one place"
            )
        store = _one_store(urls, manifest.name, options)
        paths = [store.path(url) for url in urls]
        return _remote_export(store, paths, urls, None, manifest.name, when)
    files: list[Path] = []
    for i, url in enumerate(urls):
        _refuse_web(manifest.name, i, url)
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)) if parsed.scheme == "file" else base / url
        if not path.is_file():
            raise ExportError(f"{manifest.name}: output[{i}] {url} is not a file")
        files.append(path)
    return _export(base, files, when)


def _in_object_store(url: str) -> bool:
    return is_url(url) and urlparse(url).scheme.lower() not in ("http", "https", "file", "local")


def _one_store(urls: list[str], label: str, options: tuple[tuple[str, str], ...]) -> Store:
    protocols = sorted({url.partition("://")[0].lower() for url in urls})
    if len(protocols) != 1:
        raise ExportError(
            f"{label}: its files are in several stores ({', '.join(protocols)}); "
            "an export is read from one place"
        )
    store = store_for(urls[0], options)
    assert store is not None
    return store


def _remote_export(
    store: Store,
    paths: list[str],
    urls: list[str],
    base: str | None,
    label: str,
    when: str | None,
) -> BulkExport:
    """An export of files in an object store; names relative to ``base`` (the export folder)."""
    names: list[str] = []
    sizes: list[int] = []
    identities: list[Identity] = []
    for i, (path, url) in enumerate(zip(paths, urls, strict=True)):
        info = store.file_info(path)
        if info is None:
            raise ExportError(f"{label}: output[{i}] {url} is not a file")
        sizes.append(int(info["size"]))
        identities.append(store_identity(info))
        inside = base is not None and path.startswith(base.rstrip("/") + "/")
        names.append(path[len(base.rstrip("/")) + 1 :] if inside and base else path.rsplit("/", 1)[-1])
    return BulkExport(tuple(paths), tuple(names), when, store, tuple(sizes), tuple(identities))


def _from_remote_manifest(store: Store, path: str, url: str) -> BulkExport:
    label = url_name(url)
    urls, when = _manifest(store.text(path), label)
    base = path.rsplit("/", 1)[0]
    paths: list[str] = []
    for i, entry in enumerate(urls):
        _refuse_web(label, i, entry)
        if is_url(entry):
            if entry.partition("://")[0].lower() != store.protocol:
                raise ExportError(
                    f"{label}: output[{i}] {entry} is not in the manifest's store "
                    f"({store.protocol}://); an export is read from one place"
                )
            paths.append(store.path(entry))
        elif entry.startswith("/"):
            raise ExportError(
                f"{label}: output[{i}] {entry} is an absolute path; give a URL or a relative path"
            )
        else:
            paths.append(join(base, unquote(entry)))
    return _remote_export(store, paths, urls, base, label, when)


def _open_remote(url: str, options: tuple[tuple[str, str], ...]) -> BulkExport:
    store = store_for(url, options)
    if store is None:  # file://: this machine's
        return open_export(Path(unquote(urlparse(url).path)))
    path = store.path(url).rstrip("/")
    if not path:
        raise ExportError(f"{url}: names no bucket or folder")
    if path.endswith(".ndjson"):
        return _remote_export(store, [path], [url], path.rsplit("/", 1)[0], url_name(url), None)
    info = store.info(path)
    if info.get("type") == "file":
        return _from_remote_manifest(store, path, url)
    if store.file_info(f"{path}/manifest.json") is not None:
        return _from_remote_manifest(store, f"{path}/manifest.json", f"{url.rstrip('/')}/manifest.json")
    found = sorted(
        str(e["name"]).rstrip("/")
        for e in store.listing(path)
        if e.get("type") == "file" and str(e["name"]).endswith(".ndjson")
    )
    log = f"{path}/{CLIENT_LOG}"
    is_log, when = (False, None)
    if log in found:
        listed = store.file_info(log)
        if listed is not None and int(listed["size"]) <= _CLIENT_LOG_MAX_BYTES:
            is_log, when = client_log(store.read(log, 0, int(listed["size"])))
    if is_log:
        found.remove(log)
    if not found:
        raise ExportError(f"{url}: the folder holds no manifest.json and no *.ndjson file")
    export = _remote_export(store, found, [store.url(p) for p in found], path, url_name(url), when)
    return replace(export, skipped=_LOG_SKIPPED) if is_log else export


def _export(base: Path, files: list[Path], when: str | None) -> BulkExport:
    names = []
    for f in files:
        try:
            names.append(str(f.resolve().relative_to(base.resolve())))
        except ValueError:
            names.append(f.name)
    try:
        identities = tuple(local_identity(f) for f in files)
    except OSError as exc:
        raise ExportError(f"{Path(str(exc.filename)).name}: cannot be read ({exc.strerror})") from None
    return BulkExport(tuple(files), tuple(names), when, identities=identities)


def open_export(path: Path | str, storage_options: tuple[tuple[str, str], ...] = ()) -> BulkExport:
    """A folder (its manifest.json if it has one, else every *.ndjson, by name) or a manifest
    file, of this machine or of an object store (``path`` a URL such as ``s3://bucket/prefix/``,
    read with ``storage_options`` given to its fsspec backend)."""
    if isinstance(path, str):
        if is_url(path):
            return _open_remote(path, storage_options)
        path = Path(path)
    if path.is_file():
        if path.suffix == ".ndjson":
            return _export(path.parent, [path], None)
        return _from_manifest(path, storage_options)
    if not path.is_dir():
        raise ExportError(f"{path.name}: no such export folder or manifest")
    if (path / "manifest.json").is_file():
        return _from_manifest(path / "manifest.json", storage_options)
    files = sorted(p for p in path.iterdir() if p.suffix == ".ndjson" and p.is_file())
    log = path / CLIENT_LOG
    is_log, when = (False, None)
    if log in files:
        try:
            if log.stat().st_size <= _CLIENT_LOG_MAX_BYTES:
                is_log, when = client_log(log.read_bytes())
        except OSError:
            pass  # read as an export file, whose own check names what is wrong with it
    if is_log:
        files.remove(log)
    if not files:
        raise ExportError(f"{path.name}: the folder holds no manifest.json and no *.ndjson file")
    export = _export(path, files, when)
    return replace(export, skipped=_LOG_SKIPPED) if is_log else export


def client_log(data: bytes) -> tuple[bool, str | None]:
    """Whether ``data`` is the Bulk Data client's event log (every line that is not blank an event:
    a JSON object with an exportId and an eventId and no resourceType), and the transactionTime
    its first status or manifest event records. A file with any other line is read as part of the
    export, so nothing in it goes unreported."""
    seen = False
    when: str | None = None
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            event = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return False, None
        if (
            type(event) is not dict
            or "resourceType" in event
            or "exportId" not in event
            or type(event.get("eventId")) is not str
        ):
            return False, None
        seen = True
        detail = event.get("eventDetail")
        if when is None and event["eventId"] in _TIMED_EVENTS and type(detail) is dict:
            found = detail.get("transactionTime")
            when = found if type(found) is str and found else None
    return seen, when


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line without its end) for every non-blank line; streamed."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            line = raw.rstrip(b"\r\n")
            if line.strip():
                yield number, line


def _patient_of(resource: dict[str, Any]) -> str | None:
    for field in _PATIENT_FIELDS:
        ref = resource.get(field)
        if isinstance(ref, dict):
            value = ref.get("reference")
            if isinstance(value, str) and value.startswith("Patient/"):
                return value[len("Patient/") :].split("/_history/")[0] or None
    return None


def _family(system: object) -> str | None:
    return diagnosis_code_family(system) if isinstance(system, str) else None


def _status(resource: dict[str, Any]) -> str | None:
    vs = resource.get("verificationStatus")
    codings = vs.get("coding") if isinstance(vs, dict) else None
    if isinstance(codings, list) and codings and isinstance(codings[0], dict):
        code = codings[0].get("code")
        return code if isinstance(code, str) else None
    return None


def _is_hcc(resource: dict[str, Any]) -> bool:
    """A Condition coded as HCC, not refuted or entered in error, and not also coded as a
    not-HCC liver malignancy (C78.7 metastasis TO the liver, combined HCC-cholangiocarcinoma)."""
    code = resource.get("code")
    codings = code.get("coding") if isinstance(code, dict) else None
    if not isinstance(codings, list) or _status(resource) in _VOID:
        return False
    found = False
    for c in codings:
        if not isinstance(c, dict) or not isinstance(c.get("code"), str):
            continue
        value = c["code"]
        family = _family(c.get("system"))
        if value in _NOT_HCC or (family == "icd10" and value.upper().startswith("C78.7")):
            return False
        if family is not None and (value.upper() if family == "icd10" else value) in _HCC[family]:
            found = True
    return found


def decode(raw: bytes) -> Any:
    return orjson.loads(raw)


def classify(raw: bytes, file: str, number: int) -> Line | Problem:
    """Judge one line. Cheap for the common case; never raises."""
    try:
        resource = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Problem(file, number, "bad_line", f"not JSON ({str(exc).split(':')[0]})")
    return judge(resource, file, number)


def judge(resource: Any, file: str, number: int) -> Line | Problem:
    """Judge one decoded line (``classify`` after the decode)."""
    if not isinstance(resource, dict):
        return Problem(file, number, "bad_line", "not a JSON object")
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        return Problem(file, number, "bad_line", "no resourceType")
    if rtype not in R4_TYPES:
        return Problem(file, number, "unknown_type", f"resourceType {rtype[:60]!r} is not a FHIR R4 type")
    if rtype == "Patient":
        rid = resource.get("id")
        if not isinstance(rid, str) or not rid:
            return Problem(file, number, "bad_line", "Patient without an id")
        return Line(rid, rtype, True, False)
    pid = _patient_of(resource)
    return Line(pid, rtype, False, rtype == "Condition" and pid is not None and _is_hcc(resource))
