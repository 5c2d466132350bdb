"""The fixed corpus whose outputs must not change unless a clinical change is intended.

    .venv/bin/python tests/corpus/build.py          # rewrite tests/corpus/digests.json (scripts/corpus)

Every record is assessed and the sha256 of ``json.dumps(to_dict(), sort_keys=True)`` is stored
(first 16 hex digits: enough to tell outputs apart, small enough to review). The corpus is:

- ``examples``: every ``examples/*.json`` at the evaluation date, in English and in Chinese;
- ``generated``: records from the small seeded generator below (no hypothesis: its draws change
  between versions), covering sparse, labs-only, fully documented and long follow-up records;
- ``ameld``, ``uci``, ``transplantr``: the real cohorts of ``shared/data/validation/``, when that
  folder is beside the checkout. Records that do not validate are left out (their ids are kept
  with a null digest so that a change in validation shows too).

``tests/test_corpus.py`` recomputes the digests and names the records that differ.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hccwatch import assess, parse_record
from hccwatch.errors import InvalidRecordError
from support import LAB_RANGES, SHARED

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VALIDATION = SHARED / "data" / "validation"  # the folder every test reads (tests/support.py)
DIGESTS = HERE / "digests.json"
AS_OF = dt.date(2026, 11, 24)
SEED = 20261124
GENERATED = 300
LOCAL_GROUPS = ("examples", "generated")
SHARED_GROUPS = ("ameld", "uci", "transplantr")

Raw = dict[str, Any]


# ---------------------------------------------------------------- the generator


# Where most follow-up values lie (compensated liver disease); the full ranges are drawn too.
TYPICAL: dict[str, tuple[float, float]] = {
    "afp": (1, 400),
    "bilirubin": (0.3, 2.5),
    "albumin": (2.8, 4.8),
    "inr": (0.9, 1.6),
    "creatinine": (0.5, 1.5),
    "sodium": (130, 145),
    "platelets": (60, 300),
    "dcp": (10, 400),
}
SI_UNITS = {"bilirubin": ("µmol/L", 17.1), "creatinine": ("µmol/L", 88.4), "albumin": ("g/L", 10.0)}
SEGMENTS = ["1", "2", "3", "4a", "4b", "5", "6", "7", "8"]
TREATMENTS = ["resection", "ablation", "tace", "tare", "sbrt", "transplant", "radiotherapy", "systemic"]
AGENTS = ["atezolizumab_bevacizumab", "lenvatinib", "sorafenib"]
MODALITIES = ["ultrasound", "ct", "mri", "chest_xray", "bone_scan", "pet_ct", "xray"]
REGIONS = ["abdomen", "liver", "chest", "spine", "brain", "bone", "whole_body", "pelvis"]
RESULTS = ["normal", "new_lesion", "indeterminate", "stable", "progression"]
SITES = ["lung", "lymph_node", "bone", "adrenal", "peritoneum", "brain"]
SYMPTOMS = [
    "cough", "haemoptysis", "dyspnoea", "chest_pain", "bone_pain", "back_pain", "night_pain",
    "pain_worse_on_straining", "leg_weakness", "leg_numbness", "gait_difficulty",
    "bladder_bowel_dysfunction", "saddle_numbness", "headache", "confusion", "seizure",
    "focal_weakness", "abdominal_pain", "abdominal_distension", "jaundice", "gi_bleeding", "weight_loss",
]  # fmt: skip
PROFILES = ["default", "aasld_2023", "easl", "china_2024", "article_six_monthly"]


class _Gen:
    """Plausible, deliberately incomplete records: every field is sometimes unknown."""

    def __init__(self, rng: random.Random) -> None:
        self.r = rng
        self.unknown = 0.0  # how often this record leaves a fact unknown

    def known(self) -> bool:
        return self.r.random() >= self.unknown

    def maybe(self, p: float = 0.5) -> bool:
        return self.r.random() < p

    def flag(self) -> bool | None:
        return None if not self.known() else self.r.choice([False, False, True])

    def date(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.r.randint(0, max((end - start).days, 0)))

    def lab(self, test: str, when: dt.date) -> Raw:
        lo, hi, unit = LAB_RANGES[test]
        if self.maybe(0.8):
            lo, hi = TYPICAL[test]
        value = (
            round(lo * (hi / lo) ** self.r.random(), 2)
            if test in ("afp", "dcp")
            else round(self.r.uniform(lo, hi), 2)
        )
        if test in SI_UNITS and self.maybe(0.3):
            unit, factor = SI_UNITS[test]
            value = round(value * factor, 1)
        return {"test": test, "value": value, "unit": unit, "date": when.isoformat()}

    def liver(self) -> Raw:
        out: Raw = {}
        for name in ("cirrhosis", "dialysis_twice_past_week", "cvvhd_24h_past_week", "portal_hypertension"):
            if self.maybe(0.7):
                out[name] = self.flag()
        if self.maybe(0.6):
            out["etiology"] = sorted(set(self.r.sample(["hbv", "hcv", "alcohol", "masld", "other"], 2)))
        if self.known():
            out["ascites"] = self.r.choice(["none", "none", "mild", "moderate_severe"])
        if self.known():
            out["encephalopathy"] = self.r.choice(["none", "none", "grade_1_2", "grade_3_4"])
        if self.maybe(0.4):
            out["varices"] = self.r.choice(["none", "small", "large", "treated"])
        return out

    def tumour(self) -> Raw:
        out: Raw = {}
        if self.known():
            out["size_cm"] = round(self.r.choice([self.r.uniform(0.5, 3.5), self.r.uniform(0.5, 15)]), 1)
        if self.maybe(0.5):
            out["segment"] = self.r.choice(SEGMENTS)
        for name in ("viable", "near_portal_vein", "near_hepatic_vein", "ruptured", "satellite_nodules"):
            if self.maybe(0.3):
                out[name] = self.flag()
        if self.maybe(0.3):
            out["capsule"] = self.r.choice(["complete", "incomplete", "absent"])
        return out

    def treatment(self, when: dt.date) -> Raw:
        kind = self.r.choice(TREATMENTS)
        out: Raw = {"type": kind, "date": when.isoformat()}
        if kind == "resection" and self.maybe():
            out["margin"] = self.r.choice(["R0", "R1"])
        if kind == "systemic" and self.maybe():
            out["agent"] = self.r.choice(AGENTS)
        if kind != "systemic" and self.maybe(0.3):
            out["curative"] = self.flag()
        return out

    def imaging(self, when: dt.date) -> Raw:
        out: Raw = {
            "date": when.isoformat(),
            "modality": self.r.choice(MODALITIES),
            "region": self.r.choice(REGIONS),
            "result": self.r.choice(RESULTS),
        }
        if out["result"] in ("new_lesion", "progression", "indeterminate") and self.maybe(0.7):
            lesions = []
            for _ in range(self.r.randint(1, 3)):
                lesion: Raw = {"site": self.r.choice(["liver", "liver", *SITES])}
                if self.maybe(0.7):
                    lesion["size_cm"] = round(self.r.uniform(0.3, 8), 1)
                if self.maybe(0.6):
                    lesion["new"] = self.flag()
                lesions.append(lesion)
            out["lesions"] = lesions
        return out

    def symptom(self, start: dt.date) -> Raw:
        out: Raw = {"code": self.r.choice(SYMPTOMS)}
        if self.maybe(0.7):
            out["onset"] = self.date(start, AS_OF + dt.timedelta(days=10)).isoformat()
        if self.maybe(0.3):
            out["sudden"] = self.flag()
        if self.maybe(0.3):
            out["progressive"] = self.flag()
        if out["code"] in ("back_pain", "leg_weakness", "night_pain") and self.maybe():
            out["spinal_level"] = self.r.choice(["cervical", "thoracic", "lumbar"])
        return out

    def record(self, i: int) -> Raw:
        kind = ("sparse", "labs_only", "full", "long")[i % 4]
        self.unknown = self.r.choice([0.0, 0.1, 0.3, 0.5])
        rec: Raw = {"id": f"generated-{i:03d}"}
        if self.maybe(0.8):
            rec["sex"] = self.r.choice(["male", "female"])
        if self.maybe(0.8):
            rec["age"] = self.r.randint(25, 90)
        start = self.date(dt.date(2014, 1, 1), dt.date(2026, 6, 1)) if kind != "long" else dt.date(2016, 6, 1)
        if kind == "sparse":
            rec["labs"] = [self.lab(self.r.choice(sorted(LAB_RANGES)), self.date(start, AS_OF))]
            if self.maybe(0.5):
                rec["tumors"] = [self.tumour() for _ in range(self.r.randint(0, 2))]
            return rec
        tests = ["bilirubin", "albumin", "inr", "creatinine", "sodium", "platelets", "afp"]
        rec["labs"] = [
            self.lab(test, self.date(AS_OF - dt.timedelta(days=95), AS_OF + dt.timedelta(days=3)))
            for test in tests
            if self.known()
        ]
        if kind == "labs_only":
            if self.maybe():
                rec["liver"] = {"dialysis_twice_past_week": self.flag()}
            return rec
        rec["liver"] = self.liver()
        if self.known():
            rec["ecog"] = self.r.choice([0, 0, 0, 1, 1, 2, 3, 4])
        if self.maybe(0.5):
            rec["ecog_cancer_related"] = self.flag()
        if self.known():
            rec["tumors"] = [self.tumour() for _ in range(self.r.choice([0, 1, 1, 1, 2, 3, 4, 5]))]
            if self.known():
                rec["tumors_assessed_on"] = self.date(start, AS_OF).isoformat()
        for name in (
            "macrovascular_invasion",
            "microvascular_invasion",
            "lymph_node_metastasis",
            "extrahepatic_metastasis",
            "infiltrative",
            "adjacent_organ_invasion",
            "visceral_peritoneum_perforation",
        ):
            rec[name] = self.flag()
        if self.maybe(0.5):
            rec["histologic_grade"] = self.r.choice(["well", "moderate", "poor", "undifferentiated"])
        if self.maybe(0.3):
            rec["dcp_mau_ml"] = round(self.r.uniform(5, 3000), 1)
        if self.maybe(0.3):
            rec["surveillance_profile"] = self.r.choice(PROFILES)
        rec["treatments"] = sorted(
            (self.treatment(self.date(start, AS_OF)) for _ in range(self.r.randint(0, 3))),
            key=lambda t: str(t["date"]),
        )
        if self.maybe(0.3):
            rec["metastatic_sites"] = [
                {
                    "site": self.r.choice(SITES),
                    **({"date": self.date(start, AS_OF).isoformat()} if self.maybe() else {}),
                }
                for _ in range(self.r.randint(1, 2))
            ]
        if self.maybe(0.4):
            rec["symptoms"] = [self.symptom(start) for _ in range(self.r.randint(1, 3))]
        if kind == "full":
            rec["imaging"] = [self.imaging(self.date(start, AS_OF)) for _ in range(self.r.randint(0, 5))]
            rec["labs"] += [self.lab("afp", self.date(start, AS_OF)) for _ in range(self.r.randint(0, 6))]
            return rec
        # Ten years of follow-up: AFP and liver labs every three months, imaging every six.
        visit = start
        while visit <= AS_OF:
            rec["labs"] += [
                self.lab(test, visit) for test in ("afp", "bilirubin", "albumin") if self.maybe(0.9)
            ]
            if (visit - start).days % 180 < 91:
                rec["imaging"] = [*rec.get("imaging", []), self.imaging(visit)]
            visit += dt.timedelta(days=91)
        return rec


def generated(n: int = GENERATED, seed: int = SEED) -> list[Raw]:
    gen = _Gen(random.Random(seed))
    return [gen.record(i) for i in range(n)]


def ten_year_record() -> Raw:
    """A deterministic record with ten years of follow-up (for the benchmark)."""
    return next(r for r in generated() if r["id"].endswith("3") and len(r.get("labs", ())) > 80)


# ---------------------------------------------------------------- the real cohorts


def _number(text: str) -> float | None:
    return None if text.strip() in ("", "NA", "?") else float(text)


def ameld() -> list[Raw]:
    """654 transplant-evaluation patients of the ameld package (labs only, SI units)."""
    path = VALIDATION / "ameld" / "eldd.csv"
    units = {
        "BILI_S": ("bilirubin", "µmol/L"),
        "CRE_S": ("creatinine", "µmol/L"),
        "ALB_S": ("albumin", "g/L"),
        "NA_S": ("sodium", "mmol/L"),
        "INR_C": ("inr", None),
    }
    out = []
    with path.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            labs = [
                {"test": test, "value": value, "unit": unit, "date": "2026-11-01"}
                for col, (test, unit) in units.items()
                if (value := _number(row[col])) is not None
            ]
            out.append(
                {
                    "id": f"ameld-{i}",
                    "sex": row["Sex"],
                    "age": int(float(row["Age"])),
                    "labs": labs,
                    "liver": {
                        "dialysis_twice_past_week": row["Dialysis"] == "1",
                        "cvvhd_24h_past_week": False,
                    },
                }
            )
    return out


def uci() -> list[Raw]:
    """165 HCC patients of the UCI "HCC Survival" data set: labs, liver, ECOG and tumour burden.

    Read for the corpus only: portal vein thrombosis is taken as macrovascular invasion (the data
    do not tell tumour from bland thrombus), only the largest nodule has a size, and platelets,
    labelled G/L, are mostly counts per µL (77000 and the like): those above 1000 are divided by 1000.
    """
    path = VALIDATION / "uci-hcc-survival" / "hcc-data.txt"
    grades = {1.0: "none", 2.0: "grade_1_2", 3.0: "grade_3_4"}
    ascites = {1.0: "none", 2.0: "mild", 3.0: "moderate_severe"}
    labs = {
        "International Normalised Ratio": ("inr", None),
        "Alpha-Fetoprotein (ng/mL)": ("afp", "ng/mL"),
        "Albumin (mg/dL)": ("albumin", "g/dL"),
        "Total Bilirubin(mg/dL)": ("bilirubin", "mg/dL"),
        "Platelets (G/L)": ("platelets", "10^9/L"),
        "Creatinine (mg/dL)": ("creatinine", "mg/dL"),
    }
    out = []
    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = [" ".join(h.split()) for h in next(reader)]
        for i, row in enumerate(reader):
            v = {name: _number(cell) for name, cell in zip(header, row, strict=True)}
            rec: Raw = {"id": f"uci-{i}", "age": int(v["Age at diagnosis"] or 0) or None}
            if v["Gender"] is not None:
                rec["sex"] = "male" if v["Gender"] == 1 else "female"
            if v["Performance Status"] is not None:
                rec["ecog"] = int(v["Performance Status"])
            liver: Raw = {}
            if v["Cirrhosis"] is not None:
                liver["cirrhosis"] = v["Cirrhosis"] == 1
            if v["Encefalopathy degree"] in grades:
                liver["encephalopathy"] = grades[v["Encefalopathy degree"]]  # type: ignore[index]
            if v["Ascites degree"] in ascites:
                liver["ascites"] = ascites[v["Ascites degree"]]  # type: ignore[index]
            rec["liver"] = liver
            platelets = v["Platelets (G/L)"]
            if platelets is not None and platelets > 1000:
                v["Platelets (G/L)"] = platelets / 1000
            rec["labs"] = [
                {"test": test, "value": v[col], "unit": unit, "date": "2026-11-01"}
                for col, (test, unit) in labs.items()
                if v[col] is not None
            ]
            nodules, largest = v["Number of Nodules"], v["Major dimension of nodule (cm)"]
            if nodules is not None:
                sizes = [{"size_cm": largest}] if largest else [{}]
                rec["tumors"] = (sizes + [{}] * (int(nodules) - 1))[: int(nodules)]
                rec["tumors_assessed_on"] = "2026-11-01"
            if v["Portal Vein Thrombosis"] is not None:
                rec["macrovascular_invasion"] = v["Portal Vein Thrombosis"] == 1
            out.append({k: x for k, x in rec.items() if x is not None})
    return out


def transplantr() -> list[Raw]:
    """The four example patients of the transplantr package (SI units)."""
    path = VALIDATION / "transplantr" / "liver_pts.csv"
    columns = {
        "Patient.INR": ("inr", None),
        "Patient.Bilirubin": ("bilirubin", "µmol/L"),
        "Patient.Creatinine": ("creatinine", "µmol/L"),
        "Patient.Sodium": ("sodium", "mmol/L"),
    }
    out = []
    with path.open(newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            labs = [
                {"test": test, "value": float(row[col]), "unit": unit, "date": "2026-11-01"}
                for col, (test, unit) in columns.items()
            ]
            out.append(
                {
                    "id": f"transplantr-{i}",
                    "age": int(row["Patient.Age"]),
                    "labs": labs,
                    "liver": {"dialysis_twice_past_week": row["Patient.Dialysed"] == "1"},
                }
            )
    return out


def examples() -> list[Raw]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((REPO / "examples").glob("*.json"))]


# ---------------------------------------------------------------- digests


def cases(group: str) -> Iterator[tuple[str, Raw, str]]:
    """(name, raw record, language) for every case of a group."""
    if group == "examples":
        for rec in examples():
            for lang in ("en", "zh"):
                yield f"{rec['id']}/{lang}", rec, lang
        return
    loaders = {"generated": generated, "ameld": ameld, "uci": uci, "transplantr": transplantr}
    for rec in loaders[group]():
        yield rec["id"], rec, "en"


def digest(raw: Raw, lang: str) -> str | None:
    """The first 16 hex digits of the sha256 of the assessment's JSON; None if the record is invalid."""
    try:
        record = parse_record(raw)
    except InvalidRecordError:
        return None
    out = assess(record, as_of=AS_OF, lang=lang).to_dict()
    return hashlib.sha256(json.dumps(out, sort_keys=True).encode()).hexdigest()[:16]


def digests(group: str) -> dict[str, str | None]:
    return {name: digest(raw, lang) for name, raw, lang in cases(group)}


def groups_available() -> tuple[str, ...]:
    return LOCAL_GROUPS + (SHARED_GROUPS if VALIDATION.is_dir() else ())


def main() -> int:
    stored = json.loads(DIGESTS.read_text(encoding="utf-8")) if DIGESTS.exists() else {}
    for group in groups_available():
        stored[group] = digests(group)
        valid = sum(d is not None for d in stored[group].values())
        print(f"{group:12} {len(stored[group]):5d} records, {valid:5d} valid", file=sys.stderr)
    missing = [g for g in SHARED_GROUPS if g not in stored]
    if missing:
        print(
            f"shared data not found ({VALIDATION}); kept no digests for {', '.join(missing)}", file=sys.stderr
        )
    DIGESTS.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {DIGESTS.relative_to(REPO)}; review it with git diff", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
