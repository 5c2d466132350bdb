"""Synthetic FHIR Bulk Data exports of people followed after HCC treatment, plus noise patients.

Streamed: one patient is built, written to the per-type NDJSON files and dropped, so memory does
not grow with the cohort. Deterministic: every patient draws from its own generator seeded by
(seed, index), and the end of follow-up is a fixed date from the distributions file, never the
clock. The distributions and their sources live in ``synth_distributions.toml``.

The resources use the codes of the project's standards reference (LOINC 1834-1 for AFP, SNOMED CT
109841003 and ICD-10 C22.0 for HCC, the SNOMED codes of secondary malignant neoplasms, ...) so
that any correct FHIR mapper reads them; none of this is a clinical rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import random
import tomllib
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

__all__ = ["RESOURCE_TYPES", "Distributions", "generate_patient", "load_distributions", "write_cohort"]

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
UCUM = "http://unitsofmeasure.org"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CLINICAL_STATUS = "http://terminology.hl7.org/CodeSystem/condition-clinical"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# The order of the files in the manifest.
RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "Observation",
    "Procedure",
    "MedicationRequest",
    "DiagnosticReport",
    "Encounter",
)

# code, display, UCUM unit, log-normal median and spread for a person with/without cirrhosis.
_LABS: dict[str, tuple[str, str, str, tuple[float, float], tuple[float, float]]] = {
    "bilirubin": (
        "1975-2",
        "Bilirubin.total [Mass/volume] in Serum or Plasma",
        "mg/dL",
        (1.3, 0.4),
        (0.6, 0.3),
    ),
    "albumin": ("1751-7", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", (3.5, 0.12), (4.2, 0.08)),
    "inr": ("6301-6", "INR in Platelet poor plasma by Coagulation assay", "{INR}", (1.2, 0.1), (1.0, 0.05)),
    "creatinine": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", (0.9, 0.25), (0.9, 0.2)),
    "sodium": ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", (137.0, 0.02), (140.0, 0.015)),
    "platelets": (
        "777-3",
        "Platelets [#/volume] in Blood by Automated count",
        "10*3/uL",
        (120.0, 0.35),
        (250.0, 0.25),
    ),
}
_AFP = ("1834-1", "Alpha-1-Fetoprotein [Mass/volume] in Serum or Plasma", "ng/mL")

_ETIOLOGY_CODES = {
    "hbv": ("61977001", "Chronic type B viral hepatitis", "B18.1"),
    "hcv": ("128302006", "Chronic hepatitis C", "B18.2"),
    "alcohol": ("41309000", "Alcoholic liver damage", "K70.9"),
    "masld": ("197321007", "Steatosis of liver", "K76.0"),
}
_SITE_CODES = {
    "lung": ("94391008", "Secondary malignant neoplasm of lung", "C78.00"),
    "bone": ("94222008", "Secondary malignant neoplasm of bone", "C79.51"),
    "adrenal": ("94161006", "Secondary malignant neoplasm of adrenal gland", "C79.70"),
    "brain": ("94225005", "Secondary malignant neoplasm of brain", "C79.31"),
    "lymph_node": ("128462008", "Secondary malignant neoplastic disease (lymph node)", "C77.2"),
    "peritoneum": ("128462008", "Secondary malignant neoplastic disease (peritoneum)", "C78.6"),
}
_SITE_BODY = {
    "lung": ("39607008", "Lung structure"),
    "bone": ("272673000", "Bone structure"),
    "adrenal": ("23451007", "Adrenal structure"),
    "brain": ("12738006", "Brain structure"),
    "lymph_node": ("59441001", "Structure of lymph node"),
    "peritoneum": ("15425007", "Peritoneum structure"),
}
# Treatments: SNOMED CT procedure (as in the FHIR adapter's table, knowledge entry
# fhir.snomed.procedures) with the CPT code beside it; systemic therapy is a MedicationRequest.
_TREATMENTS = {
    "resection": ("439756000", "47120", "Partial hepatectomy"),
    "ablation": ("426248006", "47382", "Radiofrequency ablation of liver tumour"),
    "tace": ("708987005", "37243", "Transarterial chemoembolisation of liver tumour"),
    "transplant": ("18027006", "47135", "Transplantation of liver"),
}
_SYSTEMIC_AGENTS = ("atezolizumab", "bevacizumab")
_CURATIVE = {"resection", "ablation", "transplant"}


@dataclass(frozen=True)
class Distributions:
    """The parsed distributions file: values by key (the rest of each entry documents the source)."""

    values: Mapping[str, Any]
    read: set[str]

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self.values[key]


def load_distributions() -> Distributions:
    text = resources.files("hccwatch.population").joinpath("synth_distributions.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return Distributions({k: v["value"] for k, v in data.items()}, set())


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    # Sorted keys: the draw does not depend on the order of the file.
    keys = sorted(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _months(months: float) -> dt.timedelta:
    return dt.timedelta(days=round(months * 30.4375))


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    # FHIR forbids empty strings: a coding without a display has no display element.
    return (
        {"system": system, "code": code, "display": display} if display else {"system": system, "code": code}
    )


class _Patient:
    """Builds one patient's resources; ids are derived from the patient's own generator."""

    def __init__(self, rng: random.Random, pid: str) -> None:
        self.rng = rng
        self.pid = pid
        self.out: list[dict[str, Any]] = []

    def ref(self) -> dict[str, str]:
        return {"reference": f"Patient/{self.pid}"}

    def add(self, rtype: str, body: dict[str, Any]) -> str:
        rid = _uuid(self.rng)
        self.out.append({"resourceType": rtype, "id": rid, **body})
        return rid

    def condition(
        self,
        codings: list[dict[str, str]],
        text: str,
        onset: dt.date,
        *,
        category: str = "problem-list-item",
        body_site: tuple[str, str] | None = None,
        resolved: dt.date | None = None,
    ) -> None:
        body: dict[str, Any] = {
            "clinicalStatus": {
                "coding": [_coding(CLINICAL_STATUS, "resolved" if resolved else "active", "")]
            },
            "category": [{"coding": [_coding(CONDITION_CATEGORY, category, "")]}],
            "code": {"coding": codings, "text": text},
            "subject": self.ref(),
            "onsetDateTime": onset.isoformat(),
            "recordedDate": onset.isoformat(),
        }
        if body_site:
            body["bodySite"] = [{"coding": [_coding(SNOMED, *body_site)]}]
        if resolved:
            body["abatementDateTime"] = resolved.isoformat()
        self.add("Condition", body)

    def lab(self, code: str, display: str, unit: str, value: float, when: dt.date) -> None:
        self.add(
            "Observation",
            {
                "status": "final",
                "category": [{"coding": [_coding(OBS_CATEGORY, "laboratory", "Laboratory")]}],
                "code": {"coding": [_coding(LOINC, code, display)], "text": display},
                "subject": self.ref(),
                "effectiveDateTime": when.isoformat(),
                "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
            },
        )

    def treatment(self, kind: str, when: dt.date) -> None:
        if kind == "systemic":
            for agent in _SYSTEMIC_AGENTS:
                self.add(
                    "MedicationRequest",
                    {
                        "status": "active",
                        "intent": "order",
                        "medicationCodeableConcept": {"text": agent},
                        "subject": self.ref(),
                        "authoredOn": when.isoformat(),
                    },
                )
            return
        snomed, cpt, text = _TREATMENTS[kind]
        self.add(
            "Procedure",
            {
                "status": "completed",
                "code": {"coding": [_coding(SNOMED, snomed, text), _coding(CPT, cpt)], "text": text},
                "subject": self.ref(),
                "performedDateTime": when.isoformat(),
            },
        )

    def encounter(self, when: dt.date) -> None:
        self.add(
            "Encounter",
            {
                "status": "finished",
                "class": _coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"),
                "subject": self.ref(),
                "period": {"start": when.isoformat(), "end": when.isoformat()},
            },
        )

    def routine_labs(self, when: dt.date, cirrhotic: bool) -> None:
        rng = self.rng
        for _name, (code, display, unit, sick, well) in sorted(_LABS.items()):
            median, sigma = sick if cirrhotic else well
            value = median * math.exp(rng.gauss(0.0, sigma))
            self.lab(code, display, unit, round(value, 1 if median >= 10 else 2), when)


def _patient_record(p: _Patient, sex: str, birth: dt.date) -> None:
    p.out.append(
        {
            "resourceType": "Patient",
            "id": p.pid,
            "gender": sex,
            "birthDate": birth.isoformat(),
            "name": [{"family": "Synthetic", "given": [f"P{p.pid[:8]}"]}],
        }
    )


def _noise(p: _Patient, d: Distributions, end: dt.date) -> None:
    rng = p.rng
    sex = "male" if rng.random() < 0.5 else "female"
    birth = end - dt.timedelta(days=rng.randint(18 * 365, 90 * 365))
    _patient_record(p, sex, birth)
    kind = _pick(rng, d["noise_mix"])
    start = end - dt.timedelta(days=rng.randint(30, 3650))
    if rng.random() < 0.5:
        p.condition(
            [_coding(SNOMED, "59621000", "Essential hypertension"), _coding(ICD10, "I10", "")],
            "Essential hypertension",
            start,
        )
    if rng.random() < 0.3:
        p.condition(
            [_coding(SNOMED, "44054006", "Diabetes mellitus type 2"), _coding(ICD10, "E11.9", "")],
            "Type 2 diabetes",
            start,
        )
    cirrhotic = kind == "cirrhosis"
    if cirrhotic:
        p.condition(
            [_coding(SNOMED, "19943007", "Cirrhosis of liver"), _coding(ICD10, "K74.60", "")],
            "Cirrhosis of liver",
            start,
        )
    if kind == "liver_secondary":
        # Metastasis TO the liver (colorectal primary): not HCC, must stay out of the cohort.
        p.condition(
            [
                _coding(SNOMED, "94381002", "Secondary malignant neoplasm of liver"),
                _coding(ICD10, "C78.7", "Secondary malignant neoplasm of liver"),
            ],
            "Liver metastases of colorectal cancer",
            start,
            category="encounter-diagnosis",
        )
    visits = rng.randint(1, 4)
    for i in range(visits):
        when = start + dt.timedelta(days=i * rng.randint(60, 400))
        if when > end:
            break
        p.encounter(when)
        if rng.random() < 0.5:
            p.routine_labs(when, cirrhotic)
        if cirrhotic and rng.random() < 0.5:
            p.lab(*_AFP, round(math.exp(rng.gauss(1.2, 0.5)), 1), when)


def _cumulative_recurrence(d: Distributions, years: float) -> float:
    c = d["recurrence_cumulative"]
    points = [(0.0, 0.0), (1.0, c["year_1"]), (3.0, c["year_3"]), (5.0, c["year_5"])]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if years <= x1:
            return float(y0 + (y1 - y0) * (years - x0) / (x1 - x0))
    return float(c["year_5"])


def _recurrence_time_years(rng: random.Random, d: Distributions, factor: float) -> float | None:
    """Inverse sampling of the piecewise-linear cumulative recurrence curve (None: no recurrence by 5 y;
    later recurrences beyond the curve are not drawn)."""
    u = rng.random() / factor
    if u >= d["recurrence_cumulative"]["year_5"]:
        return None
    lo, hi = 0.0, 5.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if _cumulative_recurrence(d, mid) < u:
            lo = mid
        else:
            hi = mid
    return hi


def _hcc(p: _Patient, d: Distributions, end: dt.date) -> None:
    rng = p.rng
    sex = "male" if rng.random() < d["male_fraction"] else "female"
    age_d = d["age_at_diagnosis"]
    age = min(max(rng.gauss(age_d["mean"], age_d["sd"]), age_d["min"]), age_d["max"])
    hist = d["history_years"]
    diagnosed = end - dt.timedelta(days=round(rng.uniform(hist["min"], hist["max"]) * 365.25))
    birth = diagnosed - dt.timedelta(days=round(age * 365.25) + rng.randint(0, 364))
    _patient_record(p, sex, birth)

    etiology = _pick(rng, d["etiology"])
    cirrhotic = rng.random() < d["cirrhosis_fraction"]
    if etiology in _ETIOLOGY_CODES:
        code, display, icd = _ETIOLOGY_CODES[etiology]
        p.condition(
            [_coding(SNOMED, code, display), _coding(ICD10, icd, "")],
            display,
            diagnosed - dt.timedelta(days=rng.randint(365, 3650)),
        )
    if cirrhotic:
        p.condition(
            [_coding(SNOMED, "19943007", "Cirrhosis of liver"), _coding(ICD10, "K74.60", "")],
            "Cirrhosis of liver",
            diagnosed - dt.timedelta(days=rng.randint(30, 2000)),
        )
    p.condition(
        [
            _coding(SNOMED, "109841003", "Liver cell carcinoma"),
            _coding(ICD10, "C22.0", "Liver cell carcinoma"),
        ],
        "Hepatocellular carcinoma",
        diagnosed,
        category="encounter-diagnosis",
    )

    counts = d["tumour_count"]
    n_tumours = {"one": 1, "two": 2, "three": 3, "four_or_more": 4 + rng.randint(0, 2)}[_pick(rng, counts)]
    size_d = d["tumour_size_cm"]
    sizes = []
    for i in range(n_tumours):
        s = size_d["median"] * math.exp(rng.gauss(0.0, size_d["sigma"])) * (1.0 if i == 0 else 0.6)
        sizes.append(round(min(max(s, size_d["min"]), size_d["max"]), 1))
    p.add(
        "Observation",
        {
            "status": "final",
            "category": [{"coding": [_coding(OBS_CATEGORY, "imaging", "Imaging")]}],
            "code": {"coding": [_coding(LOINC, "21889-1", "Size Tumor")], "text": "Tumour size"},
            "subject": p.ref(),
            "effectiveDateTime": diagnosed.isoformat(),
            "valueQuantity": {"value": max(sizes), "unit": "cm", "system": UCUM, "code": "cm"},
            "component": [
                {
                    "code": {"coding": [_coding(LOINC, "33728-7", "Size.maximum dimension in Tumor")]},
                    "valueQuantity": {"value": s, "unit": "cm", "system": UCUM, "code": "cm"},
                }
                for s in sizes
            ],
            "note": [{"text": f"{n_tumours} liver tumour(s) at diagnosis"}],
        },
    )

    treatment = _pick(rng, d["treatment"])
    treated = diagnosed + dt.timedelta(days=rng.randint(14, 60))
    if treated > end:
        treated = end
    p.treatment(treatment, treated)

    # AFP profile: negative tumours stay under 20 ng/mL; secreting ones start high.
    afp_negative = rng.random() < d["afp_negative_fraction"]
    above_400 = not afp_negative and rng.random() < d["afp_above_400_fraction"] / (
        1 - d["afp_negative_fraction"]
    )
    if afp_negative:
        baseline = math.exp(rng.uniform(math.log(2.0), math.log(15.0)))
    elif above_400:
        baseline = math.exp(rng.uniform(math.log(400.0), math.log(20000.0)))
    else:
        baseline = math.exp(rng.uniform(math.log(20.0), math.log(400.0)))
    nadir = math.exp(rng.uniform(math.log(2.0), math.log(8.0)))

    factor = d["transplant_recurrence_factor"] if treatment == "transplant" else 1.0
    rec_years = _recurrence_time_years(rng, d, factor) if treatment in _CURATIVE else None
    recurred = treated + _months(rec_years * 12) if rec_years is not None else None
    extrahepatic = recurred is not None and rng.random() < d["extrahepatic_fraction_of_recurrence"]
    intrahepatic = recurred is not None and (
        not extrahepatic or rng.random() >= d["extrahepatic_without_intrahepatic"]
    )
    lead = d["afp_lead_months"]
    rise_start = recurred - _months(rng.uniform(lead["min"], lead["max"])) if recurred else None
    doubling = rng.uniform(lead["doubling_months_min"], lead["doubling_months_max"])

    # A recurrence found on imaging is treated again a month or so later (TACE in the liver,
    # systemic therapy beyond it), which is what clinics do and what a worklist must read.
    retreated = recurred + dt.timedelta(days=rng.randint(21, 60)) if recurred else None
    if retreated is not None and retreated <= end:
        kind = "tace" if intrahepatic else "systemic"
        p.treatment(kind, retreated)

    def afp_at(when: dt.date) -> float:
        if when <= treated:
            return baseline
        months = (when - treated).days / 30.4375
        value = nadir + (baseline - nadir) * math.exp(-months / 0.5)
        if rise_start and when > rise_start and not afp_negative:
            if retreated and when > retreated:
                value = nadir * 1.5  # the recurrence was treated: AFP back near its nadir
            else:
                value *= 2 ** (((when - rise_start).days / 30.4375) / doubling)
        # A ceiling far above any real series keeps every value plausible at the record boundary.
        return min(value, 50_000.0) * math.exp(rng.gauss(0.0, 0.08))

    # Pre-treatment labs and AFP.
    p.encounter(diagnosed)
    p.routine_labs(diagnosed, cirrhotic)
    p.lab(*_AFP, round(afp_at(diagnosed), 1), diagnosed)

    # Follow-up visits with gaps; a lost patient stops at a random time.
    visits = d["visit_interval_months"]
    lost_at = None
    if rng.random() < d["lost_to_follow_up_fraction"]:
        lost_at = treated + _months(rng.uniform(3, 60))
    when = treated + _months(visits["first_two_years"])
    while when <= end and (lost_at is None or when < lost_at):
        if rng.random() >= d["missed_visit_fraction"]:
            p.encounter(when)
            p.routine_labs(when, cirrhotic)
            p.lab(*_AFP, round(afp_at(when), 1), when)
            found = recurred is not None and when >= recurred
            _imaging(p, when, found and intrahepatic, max(sizes))
        interval = visits["first_two_years"] if when < treated + _months(24) else visits["later"]
        when += _months(interval * rng.uniform(0.9, 1.2))

    if recurred is not None and recurred <= end and extrahepatic:
        _metastases(p, d, recurred, end)


def _imaging(p: _Patient, when: dt.date, new_lesion: bool, size: float) -> None:
    if new_lesion:
        conclusion = (
            f"New arterially enhancing liver lesion {round(max(1.0, size * 0.5), 1)} cm with washout."
        )
        codes = [_coding(SNOMED, "300331000", "Lesion of liver")]
    else:
        conclusion = "No evidence of recurrent or new liver lesion."
        codes = [_coding(SNOMED, "281900007", "No abnormality detected")]
    if p.rng.random() < 0.5:
        # Chest CT at about every other visit (the staging of the lungs most schedules ask for).
        p.add(
            "DiagnosticReport",
            {
                "status": "final",
                "code": {"coding": [_coding(LOINC, "29252-4", "CT Chest WO contrast")], "text": "CT chest"},
                "subject": p.ref(),
                "effectiveDateTime": when.isoformat(),
                "conclusion": "No pulmonary nodule.",
                "conclusionCode": [{"coding": [_coding(SNOMED, "281900007", "No abnormality detected")]}],
            },
        )
    mri = p.rng.random() < 0.4
    code = (
        ("24557-1", "MR Abdomen WO and W contrast IV")
        if mri
        else ("36267-3", "CT Abdomen WO and W contrast IV")
    )
    p.add(
        "DiagnosticReport",
        {
            "status": "final",
            "category": [{"coding": [_coding("http://loinc.org", "LP29684-5", "Radiology")]}],
            "code": {"coding": [_coding(LOINC, *code)], "text": code[1]},
            "subject": p.ref(),
            "effectiveDateTime": when.isoformat(),
            "conclusion": conclusion,
            "conclusionCode": [{"coding": codes}],
        },
    )


def _metastases(p: _Patient, d: Distributions, found: dt.date, end: dt.date) -> None:
    rng = p.rng
    freq = d["site_frequency"]
    sites = [s for s in sorted(freq) if rng.random() < freq[s]]
    if not sites:
        sites = [_pick(rng, freq)]
    for site in sites:
        snomed, display, icd = _SITE_CODES[site]
        onset = min(found + dt.timedelta(days=rng.randint(0, 120)), end)
        p.condition(
            [_coding(SNOMED, snomed, display), _coding(ICD10, icd, "")],
            display,
            onset,
            category="encounter-diagnosis",
            body_site=_SITE_BODY[site],
        )
        if rng.random() >= d["symptom_with_metastasis"]:
            continue
        if site == "bone":
            where = _pick(rng, d["bone_site"])
            if where == "spine":
                p.condition([_coding(SNOMED, "161891005", "Backache")], "Back pain, worse at night", onset)
                if rng.random() < d["spinal_cord_compression_of_spine"]:
                    # Cord compression shows as its symptoms: a weak leg, then bladder or bowel trouble.
                    p.condition(
                        [_coding(SNOMED, "249945007", "Monoparesis of lower limb")], "Leg weakness", onset
                    )
                    p.condition(
                        [_coding(SNOMED, "165232002", "Urinary incontinence")],
                        "New urinary incontinence",
                        onset,
                    )
            else:
                p.condition([_coding(SNOMED, "12584003", "Bone pain")], f"Bone pain ({where})", onset)
        elif site == "lung":
            p.condition([_coding(SNOMED, "49727002", "Cough")], "Cough", onset)
        elif site == "brain":
            p.condition([_coding(SNOMED, "25064002", "Headache")], "Headache", onset)


def _patient_rng(seed: int, index: int) -> random.Random:
    digest = hashlib.sha256(f"hccwatch-synth:{seed}:{index}".encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def generate_patient(d: Distributions, seed: int, index: int) -> list[dict[str, Any]]:
    """One patient's resources (Patient first); HCC or noise as the distributions say."""
    rng = _patient_rng(seed, index)
    p = _Patient(rng, _uuid(rng))
    end = dt.date.fromisoformat(d["reference_date"])
    if rng.random() < d["hcc_fraction"]:
        _hcc(p, d, end)
    else:
        _noise(p, d, end)
    return p.out


def generate(d: Distributions, patients: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(patients):
        yield generate_patient(d, seed, i)


def write_cohort(out: Path, patients: int, seed: int) -> dict[str, int]:
    """Write the export into ``out`` (created); returns resources written per type.

    Files are written under temporary names and renamed at the end, the manifest last, so an
    interrupted run never leaves a folder that looks complete.
    """
    d = load_distributions()
    out.mkdir(parents=True, exist_ok=True)
    names = {t: f"{t}.000.ndjson" for t in RESOURCE_TYPES}
    counts = dict.fromkeys(RESOURCE_TYPES, 0)
    handles = {t: open(out / (names[t] + ".part"), "wb") for t in RESOURCE_TYPES}
    try:
        for resources_ in generate(d, patients, seed):
            for r in resources_:
                t = r["resourceType"]
                handles[t].write(orjson.dumps(r) + b"\n")
                counts[t] += 1
    finally:
        for h in handles.values():
            h.close()
    for t in RESOURCE_TYPES:
        os.replace(out / (names[t] + ".part"), out / names[t])
    manifest = {
        "transactionTime": f"{d['reference_date']}T00:00:00Z",
        "request": f"[base]/$export?_hccwatch_synth_seed={seed}&patients={patients}",
        "requiresAccessToken": False,
        "output": [{"type": t, "url": names[t], "count": counts[t]} for t in RESOURCE_TYPES],
        "error": [],
    }
    tmp = out / "manifest.json.part"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / "manifest.json")
    return counts
