"""The FHIR reader's code tables, read once per knowledge base from ``thresholds/fhir.toml``.

Which LOINC, SNOMED CT, ICD-10 or ICD-O-3 code means which fact of the patient record is
knowledge data with its sources, not Python: this module only shapes the entries into
look-up tables.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hccwatch.core.knowledge import Knowledge, default_knowledge
from hccwatch.errors import KnowledgeError

__all__ = ["CodeTables", "code_tables"]


@dataclass(frozen=True)
class CodeTables:
    """Look-up tables, each keyed by a code as written in FHIR ``Coding.code``."""

    labs: Mapping[str, str]
    ecog: frozenset[str]
    ecog_answers: Mapping[str, int]
    tumor_size: str
    tumor_longest: str
    tumor_other: str
    tnm: Mapping[str, str]
    disease_status: frozenset[str]
    disease_worse: frozenset[str]
    imaging: Mapping[str, tuple[str, str]]
    dicom_modality: Mapping[str, str]
    body_sites: Mapping[str, str]
    imaging_results: Mapping[str, str]
    hcc_snomed: frozenset[str]
    hcc_icd10: frozenset[str]
    hcc_icdo3: frozenset[str]
    not_hcc: Mapping[str, str]
    metastasis_snomed: Mapping[str, str]
    metastasis_icd10: Mapping[str, str]
    cirrhosis_snomed: frozenset[str]
    cirrhosis_icd10: tuple[str, ...]
    etiology_snomed: Mapping[str, str]
    etiology_icd10: Mapping[str, str]
    symptoms: Mapping[str, str]
    absent: frozenset[str]
    procedures: Mapping[str, str]
    dialysis_window_days: int
    dialysis_min_sessions: int
    cvvhd_min_hours: float
    systemic_agents: tuple[str, ...]


def _strings(key: str, raw: Any) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise KnowledgeError(f"knowledge entry {key!r} must be a list of codes")
    return frozenset(raw)


def _table(key: str, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise KnowledgeError(f"knowledge entry {key!r} must map codes to names")
    return dict(raw)


def _number(key: str, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise KnowledgeError(f"knowledge entry {key!r} must be a number")
    return float(raw)


def _build(k: Knowledge) -> CodeTables:
    def value(key: str) -> Any:
        return k.entry(key).value

    size = _table("fhir.loinc.tumor_size", value("fhir.loinc.tumor_size"))
    imaging_raw = value("fhir.loinc.imaging")
    if not isinstance(imaging_raw, dict) or not all(
        isinstance(v, list) and len(v) == 2 and all(isinstance(p, str) for p in v)  # noqa: PLR2004
        for v in imaging_raw.values()
    ):
        raise KnowledgeError("knowledge entry 'fhir.loinc.imaging' must map codes to [modality, region]")
    answers = value("fhir.loinc.ecog_answers")
    if not isinstance(answers, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in answers.values()
    ):
        raise KnowledgeError("knowledge entry 'fhir.loinc.ecog_answers' must map answers to grades")
    hcc = value("fhir.hcc")
    cirrhosis = value("fhir.cirrhosis")
    etiology = value("fhir.etiology")
    if not all(isinstance(t, dict) for t in (hcc, cirrhosis, etiology)):
        raise KnowledgeError("knowledge entries 'fhir.hcc', 'fhir.cirrhosis', 'fhir.etiology' must be tables")
    return CodeTables(
        labs=_table("fhir.loinc.labs", value("fhir.loinc.labs")),
        ecog=_strings("fhir.loinc.ecog", value("fhir.loinc.ecog")),
        ecog_answers=dict(answers),
        tumor_size=size["size"],
        tumor_longest=size["longest"],
        tumor_other=size["other"],
        tnm=_table("fhir.tnm_codes", value("fhir.tnm_codes")),
        disease_status=_strings("fhir.loinc.disease_status", value("fhir.loinc.disease_status")),
        disease_worse=_strings("fhir.snomed.disease_worse", value("fhir.snomed.disease_worse")),
        imaging={code: (pair[0], pair[1]) for code, pair in imaging_raw.items()},
        dicom_modality=_table("fhir.dicom_modality", value("fhir.dicom_modality")),
        body_sites=_table("fhir.snomed.body_sites", value("fhir.snomed.body_sites")),
        imaging_results=_table("fhir.snomed.imaging_results", value("fhir.snomed.imaging_results")),
        hcc_snomed=_strings("fhir.hcc", hcc["snomed"]),
        hcc_icd10=_strings("fhir.hcc", hcc["icd10"]),
        hcc_icdo3=_strings("fhir.hcc", hcc["icdo3"]),
        not_hcc=_table("fhir.not_hcc", value("fhir.not_hcc")),
        metastasis_snomed=_table("fhir.snomed.metastasis", value("fhir.snomed.metastasis")),
        metastasis_icd10=_table("fhir.icd10.metastasis", value("fhir.icd10.metastasis")),
        cirrhosis_snomed=_strings("fhir.cirrhosis", cirrhosis["snomed"]),
        cirrhosis_icd10=tuple(sorted(_strings("fhir.cirrhosis", cirrhosis["icd10"]))),
        etiology_snomed=_table("fhir.etiology", etiology["snomed"]),
        etiology_icd10=_table("fhir.etiology", etiology["icd10"]),
        symptoms=_table("fhir.snomed.symptoms", value("fhir.snomed.symptoms")),
        absent=_strings("fhir.snomed.absent", value("fhir.snomed.absent")),
        procedures=_table("fhir.snomed.procedures", value("fhir.snomed.procedures")),
        dialysis_window_days=int(_number("fhir.dialysis_window_days", value("fhir.dialysis_window_days"))),
        dialysis_min_sessions=int(_number("fhir.dialysis_min_sessions", value("fhir.dialysis_min_sessions"))),
        cvvhd_min_hours=_number("fhir.cvvhd_min_hours", value("fhir.cvvhd_min_hours")),
        systemic_agents=tuple(sorted(_strings("fhir.systemic_agents", value("fhir.systemic_agents")))),
    )


# Keyed by identity (a knowledge base is not hashable); the entry keeps its knowledge base
# alive, so an id cannot be reused while cached.
_CACHE: dict[int, tuple[Knowledge, CodeTables]] = {}
_CACHE_SIZE = 8
_LOCK = threading.Lock()


def code_tables(knowledge: Knowledge | None = None) -> CodeTables:
    """The code tables of ``knowledge`` (default: the packaged knowledge base)."""
    k = knowledge if knowledge is not None else default_knowledge()
    cached = _CACHE.get(id(k))
    if cached is not None and cached[0] is k:
        return cached[1]
    tables = _build(k)
    with _LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[id(k)] = (k, tables)
    return tables
