"""A deterministic demo registry: about 50 fictitious patients over every alert level, schedule
phase and profile, stage and outreach state, with dates relative to the demo's "today".

The records are hccwatch records built from a handful of clinical courses (resection and
regular follow-up, lapsed follow-up, rising AFP, spinal or brain symptoms, new liver lesion,
lung metastases on systemic therapy, decompensation after TACE, transplant); names, ages,
dates and values vary with a seeded generator, so the same ``as_of`` always gives the same
registry. Nothing here is a clinical rule: what each patient shows is what ``assess`` says.
Every person here is invented.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hccwatch.registry.errors import RegistryError
from hccwatch.registry.roles import Actor
from hccwatch.registry.service import Registry

__all__ = ["DEMO_SEED", "DemoPatient", "demo_patients", "load_demo"]

DEMO_SEED = 20261124
_DAYS_PER_MONTH = 30.44

# Story parameters of the invented cohort (not clinical thresholds; nothing reads them but the generator).
_MVI_SHARE = 0.3
_MVI_SHARE_TRANSPLANT = 0.5
_ABLATION_MAX_CM = 3.0

_GIVEN = {
    "male": [
        "Wei",
        "James",
        "Carlos",
        "Hiroshi",
        "Ahmed",
        "Minh",
        "Peter",
        "Jun",
        "Omar",
        "Luis",
        "David",
        "Chen",
    ],
    "female": [
        "Mei",
        "Sarah",
        "Ana",
        "Yuki",
        "Fatima",
        "Linh",
        "Grace",
        "Li",
        "Amina",
        "Rosa",
        "Helen",
        "Xiu",
    ],
}
_FAMILY = [
    "Zhang", "Nguyen", "Smith", "Garcia", "Tanaka", "Khan", "Wang", "Brown", "Lopez", "Kim",
    "Okafor", "Chen", "Silva", "Ito", "Haddad", "Tran", "Miller", "Liu", "Park", "Rossi",
]  # fmt: skip


@dataclass(frozen=True)
class DemoPatient:
    record: dict[str, Any]
    name: str
    phone: str
    family_doctor: str
    course: str
    # Outreach calls as (days before as_of, outcome, note).
    outreach: tuple[tuple[int, str, str], ...] = ()


class _Builder:
    def __init__(self, rng: random.Random, as_of: dt.date) -> None:
        self.rng = rng
        self.as_of = as_of

    def ago(self, months: float) -> dt.date:
        return self.as_of - dt.timedelta(days=round(months * _DAYS_PER_MONTH))

    def iso(self, months: float) -> str:
        return self.ago(months).isoformat()

    def base(self, pid: str, *, sex: str | None = None, age: tuple[int, int] = (48, 78)) -> dict[str, Any]:
        rng = self.rng
        sex = sex or rng.choice(["male", "male", "female"])  # HCC is about 3 times commoner in men
        years = rng.randint(*age)
        birth = dt.date(self.as_of.year - years, rng.randint(1, 12), rng.randint(1, 28))
        return {
            "id": pid,
            "sex": sex,
            "birth_date": birth.isoformat(),
            "ecog": (ecog := rng.choice([0, 0, 1])),
            # Stated, so staging is not left open between A and C by an ECOG the cancer may not explain.
            **({"ecog_cancer_related": False} if ecog else {}),
            "liver": {
                "cirrhosis": True,
                "etiology": [rng.choice(["hbv", "hbv", "hcv", "alcohol", "masld"])],
                "ascites": "none",
                "encephalopathy": "none",
                "dialysis_twice_past_week": False,
                "cvvhd_24h_past_week": False,
            },
            "macrovascular_invasion": False,
            "lymph_node_metastasis": False,
            "extrahepatic_metastasis": False,
            "labs": [],
            "imaging": [],
            "treatments": [],
            "symptoms": [],
        }

    def tumour(self, rec: dict[str, Any], months: float, sizes: list[float]) -> None:
        segs = ["2", "3", "4a", "5", "6", "7", "8"]
        rec["tumors"] = [{"size_cm": s, "segment": self.rng.choice(segs)} for s in sizes]
        rec["tumors_assessed_on"] = self.iso(months)
        rec["imaging"].append(
            {
                "date": self.iso(months),
                "modality": "ct",
                "region": "abdomen",
                "result": "new_lesion",
                "lesions": [{"site": "liver", "size_cm": t["size_cm"], "segment": t["segment"], "new": True}
                            for t in rec["tumors"]],
            }
        )  # fmt: skip

    def panel(
        self, rec: dict[str, Any], months: float, *, bili: float = 0.8, alb: float = 4.0, inr: float = 1.1
    ) -> None:
        when = self.iso(months)
        j = self.rng.uniform
        rec["labs"] += [
            {"test": "bilirubin", "value": round(bili * j(0.85, 1.15), 1), "unit": "mg/dL", "date": when},
            {"test": "albumin", "value": round(alb * j(0.95, 1.05), 1), "unit": "g/dL", "date": when},
            {"test": "inr", "value": round(inr * j(0.95, 1.05), 2), "date": when},
            {"test": "creatinine", "value": round(j(0.6, 1.1), 2), "unit": "mg/dL", "date": when},
            {"test": "sodium", "value": self.rng.randint(134, 142), "unit": "mmol/L", "date": when},
            {"test": "platelets", "value": self.rng.randint(90, 220), "unit": "10^9/L", "date": when},
        ]

    def visits(
        self,
        rec: dict[str, Any],
        *,
        first: float,
        last: float,
        every: float = 3.0,
        afp: Callable[[int], float] | None = None,
        chest: bool = True,
    ) -> None:
        """Follow-up visits from ``first`` to ``last`` months ago: liver imaging, AFP and labs."""
        # Counted back from the last visit, so the last one falls exactly where the story needs it.
        count = int((first - last) // every) + 1
        for i in range(count):
            months = last + (count - 1 - i) * every
            when = self.iso(months)
            rec["imaging"].append(
                {
                    "date": when,
                    "modality": self.rng.choice(["ct", "mri"]),
                    "region": "liver",
                    "result": "normal",
                }
            )
            if chest:
                rec["imaging"].append({"date": when, "modality": "ct", "region": "chest", "result": "normal"})
            value = afp(i) if afp else round(self.rng.uniform(2.5, 7.5), 1)
            rec["labs"].append({"test": "afp", "value": value, "unit": "ng/mL", "date": when})
        self.panel(rec, last)


def _resected(b: _Builder, pid: str, *, treated: float, last: float, every: float = 3.0) -> dict[str, Any]:
    rec = b.base(pid)
    size = round(b.rng.uniform(1.8, 4.8), 1)
    b.tumour(rec, treated + 1, [size])
    rec["microvascular_invasion"] = b.rng.random() < _MVI_SHARE
    rec["histologic_grade"] = b.rng.choice(["well", "moderate", "moderate", "poor"])
    kind = "resection" if size > _ABLATION_MAX_CM else b.rng.choice(["resection", "ablation"])
    treatment: dict[str, Any] = {"type": kind, "date": b.iso(treated), "curative": True}
    if kind == "resection":
        treatment["margin"] = "R0"
    rec["treatments"].append(treatment)
    rec["labs"].append(
        {"test": "afp", "value": round(b.rng.uniform(30, 600)), "unit": "ng/mL", "date": b.iso(treated + 1)}
    )
    b.visits(rec, first=treated - every, last=last, every=every)
    return rec


def _courses(b: _Builder) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(course, record, extras) for every demo patient, in a fixed order."""
    rng = b.rng
    out: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    n = 0

    def pid() -> str:
        nonlocal n
        n += 1
        return f"demo-{n:03d}"

    for profile in (None, None, None, "aasld_2023", "easl", "china_2024"):
        treated = rng.uniform(7, 40)
        rec = _resected(b, pid(), treated=treated, last=rng.uniform(0.3, 1.5))
        if profile:
            rec["surveillance_profile"] = profile
        out.append(("up to date", rec, {}))
    for _ in range(5):
        out.append(
            ("due soon", _resected(b, pid(), treated=rng.uniform(8, 20), last=rng.uniform(2.2, 2.7)), {})
        )
    for _ in range(6):
        out.append(("overdue", _resected(b, pid(), treated=rng.uniform(12, 30), last=rng.uniform(5, 10)), {}))
    for _ in range(4):
        out.append(
            (
                "lost to follow-up",
                _resected(b, pid(), treated=rng.uniform(30, 60), last=rng.uniform(14, 28)),
                {},
            )
        )
    for _ in range(4):
        start = rng.uniform(3, 6)

        def rising(i: int, start: float = start) -> float:
            return round(start * (1.9**i), 1) if i >= 2 else round(start, 1)  # noqa: PLR2004 - the story's shape

        rec = _resected(b, pid(), treated=rng.uniform(14, 26), last=rng.uniform(0.3, 1.0))
        rec["labs"] = [
            lab for lab in rec["labs"] if lab["test"] != "afp" or lab["date"] <= rec["treatments"][0]["date"]
        ]
        visits = sorted({im["date"] for im in rec["imaging"] if im["region"] == "liver"})
        rec["labs"] += [
            {"test": "afp", "value": rising(i), "unit": "ng/mL", "date": d} for i, d in enumerate(visits)
        ]
        out.append(("rising AFP", rec, {}))

    def symptomatic(course: str, symptoms: list[dict[str, Any]]) -> None:
        rec = _resected(b, pid(), treated=rng.uniform(10, 36), last=rng.uniform(1, 3))
        rec["symptoms"] = symptoms
        out.append((course, rec, {}))

    for _ in range(2):
        symptomatic(
            "cord compression",
            [
                {"code": "back_pain", "onset": b.iso(1.5), "progressive": True, "spinal_level": "thoracic"},
                {"code": "leg_weakness", "onset": b.iso(0.1)},
                {"code": "bladder_bowel_dysfunction", "onset": b.iso(0.05)},
            ],
        )
    symptomatic("GI bleeding", [{"code": "gi_bleeding", "onset": b.iso(0.03)}])
    for _ in range(2):
        symptomatic(
            "spinal pain",
            [
                {"code": "back_pain", "onset": b.iso(1.4), "progressive": True, "spinal_level": "thoracic"},
                {"code": "night_pain", "onset": b.iso(0.7), "progressive": True, "spinal_level": "thoracic"},
            ],
        )
    for _ in range(2):
        symptomatic(
            "brain symptoms",
            [
                {"code": "headache", "onset": b.iso(1), "progressive": True},
                {"code": "confusion", "onset": b.iso(0.2)},
            ],
        )
    symptomatic("haemoptysis", [{"code": "haemoptysis", "onset": b.iso(0.2)}])
    symptomatic("jaundice", [{"code": "jaundice", "onset": b.iso(0.3)}])
    symptomatic("bone pain", [{"code": "bone_pain", "onset": b.iso(1.5), "progressive": True}])
    symptomatic(
        "cough and weight loss",
        [{"code": "cough", "onset": b.iso(2.5)}, {"code": "weight_loss", "onset": b.iso(2.5)}],
    )
    for result in ("new_lesion", "new_lesion", "new_lesion", "indeterminate", "indeterminate"):
        rec = _resected(b, pid(), treated=rng.uniform(9, 40), last=rng.uniform(1.5, 2.5))
        when = b.iso(0.4)
        size = round(rng.uniform(0.8, 2.6), 1)
        rec["imaging"].append(
            {
                "date": when,
                "modality": "mri",
                "region": "liver",
                "result": result,
                "lesions": [
                    {"site": "liver", "size_cm": size, "segment": rng.choice(["6", "7", "8"]), "new": True}
                ],
            }
        )
        out.append(("new liver lesion" if result == "new_lesion" else "indeterminate lesion", rec, {}))
    for _ in range(3):
        rec = _resected(b, pid(), treated=rng.uniform(24, 40), last=rng.uniform(9, 14))
        rec["ecog_cancer_related"] = True
        rec["extrahepatic_metastasis"] = True
        rec["metastatic_sites"] = [
            {"site": "lung", "count": rng.randint(2, 6), "date": b.iso(8), "resectable": False}
        ]
        rec["treatments"].append(
            {"type": "systemic", "date": b.iso(7.5), "agent": "atezolizumab_bevacizumab"}
        )
        rec["labs"] += [
            {"test": "afp", "value": round(rng.uniform(300, 1500)), "unit": "ng/mL", "date": b.iso(8)},
            {"test": "afp", "value": round(rng.uniform(80, 250)), "unit": "ng/mL", "date": b.iso(1)},
        ]
        rec["imaging"].append({"date": b.iso(1), "modality": "ct", "region": "chest", "result": "stable"})
        b.panel(rec, 1)
        out.append(("lung metastases on systemic therapy", rec, {}))
    for _ in range(2):
        rec = b.base(pid(), age=(60, 80))
        rec["ecog"] = 3
        rec["ecog_cancer_related"] = False
        rec["liver"].update(
            {"ascites": "moderate_severe", "encephalopathy": "grade_1_2", "portal_hypertension": True}
        )
        b.tumour(rec, 10, [round(rng.uniform(3, 5), 1), round(rng.uniform(2, 3), 1)])
        rec["treatments"] += [{"type": "tace", "date": b.iso(9)}, {"type": "tace", "date": b.iso(5)}]
        rec["labs"] += [
            {"test": "afp", "value": round(rng.uniform(40, 90)), "unit": "ng/mL", "date": b.iso(m)}
            for m in (9, 5, 1)
        ]
        rec["imaging"].append({"date": b.iso(2), "modality": "ct", "region": "liver", "result": "stable"})
        b.panel(rec, 1, bili=3.4, alb=2.6, inr=1.8)
        out.append(("decompensated after TACE", rec, {}))
    for _ in range(3):
        rec = b.base(pid())
        rec["liver"].update({"portal_hypertension": True})
        b.tumour(rec, 6, sorted((round(rng.uniform(1.5, 3.2), 1) for _ in range(3)), reverse=True))
        rec["treatments"].append({"type": "tace", "date": b.iso(5)})
        rec["labs"] += [
            {"test": "afp", "value": round(rng.uniform(20, 60)), "unit": "IU/mL", "date": b.iso(m)}
            for m in (6, 2)
        ]
        rec["imaging"].append({"date": b.iso(2), "modality": "mri", "region": "liver", "result": "stable"})
        b.panel(rec, 2, bili=1.4, alb=3.4, inr=1.2)
        out.append(("TACE, intermediate stage", rec, {}))
    for _ in range(3):
        rec = b.base(pid(), age=(45, 68))
        b.tumour(rec, 30, [round(rng.uniform(2, 3.5), 1), round(rng.uniform(1.5, 2.5), 1)])
        rec["microvascular_invasion"] = rng.random() < _MVI_SHARE_TRANSPLANT
        rec["treatments"] += [
            {"type": "tace", "date": b.iso(29)},
            {"type": "transplant", "date": b.iso(26), "curative": True},
        ]
        rec["explant"] = {
            "largest_viable_cm": rec["tumors"][0]["size_cm"],
            "viable_count": 2,
            "microvascular_invasion": rec["microvascular_invasion"],
        }
        rec["labs"].append(
            {"test": "afp", "value": round(rng.uniform(15, 250)), "unit": "ng/mL", "date": b.iso(26.5)}
        )
        b.visits(rec, first=20, last=rng.uniform(2, 8), every=6)
        out.append(("after transplant", rec, {}))
    return out  # fmt: skip


# Outreach stories: (course to attach to, calls as (days ago, outcome, note)). Every coded outcome
# appears at least once, and the three that end follow-up take their patient off the worklist.
_OUTREACH: tuple[tuple[str, tuple[tuple[int, str, str], ...]], ...] = (
    (
        "overdue",
        (
            (20, "no_answer", ""),
            (12, "no_answer", "left a voicemail"),
            (5, "reached", "will call back to book"),
        ),
    ),
    ("overdue", ((9, "wrong_number", "number no longer in service"),)),
    ("overdue", ((15, "reached", ""), (14, "test_booked", "CT and AFP booked"))),
    ("overdue", ((3, "test_done_elsewhere", "CT at the district hospital, report requested"),)),
    ("lost to follow-up", ((40, "no_answer", ""), (30, "declined", "does not want more scans for now"))),
    ("lost to follow-up", ((25, "moved", "moved abroad; records sent"),)),
    ("lost to follow-up", ((60, "died", "family informed the clinic"),)),
    ("lost to follow-up", ((10, "discharged", "follow-up completed, back to the family doctor"),)),
    ("rising AFP", ((2, "reached", "MRI booked for next week"), (2, "test_booked", ""))),
    ("due soon", ((1, "test_booked", "reminder sent"),)),
)


def demo_patients(as_of: dt.date, seed: int = DEMO_SEED) -> list[DemoPatient]:
    """The demo patients for ``as_of`` (the same list every time for the same arguments)."""
    rng = random.Random(seed)
    b = _Builder(rng, as_of)
    courses = _courses(b)
    calls: dict[int, tuple[tuple[int, str, str], ...]] = {}
    used: set[int] = set()
    for course, story in _OUTREACH:
        index = next(i for i, (c, _, _) in enumerate(courses) if c == course and i not in used)
        used.add(index)
        calls[index] = story
    patients = []
    for i, (course, rec, _extras) in enumerate(courses):
        given = rng.choice(_GIVEN[rec["sex"]])
        name = f"{given} {rng.choice(_FAMILY)}"
        patients.append(
            DemoPatient(
                record=rec,
                name=name,
                # Fictional numbers (the 555-01xx range is reserved for fiction).
                phone=f"+1 555 01{i % 100:02d}",
                family_doctor=f"Dr {rng.choice(_FAMILY)}",
                course=course,
                outreach=calls.get(i, ()),
            )
        )
    return patients


def load_demo(registry: Registry, actor: Actor, as_of: dt.date) -> int:
    """Fill an empty registry with the demo patients and their outreach; returns how many."""
    if registry.count_patients(actor):
        raise RegistryError("the demo registry is loaded only into an empty registry")
    noon = dt.datetime.combine(as_of, dt.time(12), tzinfo=dt.UTC)
    patients = demo_patients(as_of)
    for p in patients:
        view = registry.add_patient(
            actor, p.record, name=p.name, phone=p.phone, family_doctor=p.family_doctor
        )
        for days, outcome, note in p.outreach:
            registry.log_outreach(
                actor, view.id, outcome, note=note or None, at=noon - dt.timedelta(days=days)
            )
    return len(patients)
