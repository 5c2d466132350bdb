"""Hypothesis strategies for valid patient records (JSON shapes), used by property tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from support import LAB_RANGES

DATES = st.dates(dt.date(2015, 1, 1), dt.date(2026, 11, 24)).map(str)
maybe_bool = st.none() | st.booleans()


@st.composite
def lab(draw: st.DrawFn) -> dict[str, Any]:
    test = draw(st.sampled_from(sorted(LAB_RANGES)))
    lo, hi, unit = LAB_RANGES[test]
    value = draw(st.floats(lo, hi, allow_nan=False))
    return {"test": test, "value": round(value, 2), "unit": unit, "date": draw(DATES)}


tumor = st.fixed_dictionaries(
    {},
    optional={
        "size_cm": st.floats(0.3, 20).map(lambda v: round(v, 1)),
        "segment": st.sampled_from(["1", "2", "3", "4a", "4b", "5", "6", "7", "8"]),
        "viable": maybe_bool,
        "near_portal_vein": maybe_bool,
        "near_hepatic_vein": maybe_bool,
        "near_ivc": maybe_bool,
        "capsule": st.sampled_from(["complete", "incomplete", "absent"]),
        "margin": st.sampled_from(["smooth", "irregular"]),
        "ruptured": maybe_bool,
        "satellite_nodules": maybe_bool,
    },
)

treatment = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("resection"), "date": DATES}, optional={"margin": st.sampled_from(["R0", "R1"])}
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["ablation", "tace", "tare", "sbrt", "transplant", "radiotherapy"]),
            "date": DATES,
        }
    ),
    st.fixed_dictionaries(
        {"type": st.just("systemic"), "date": DATES},
        optional={"agent": st.sampled_from(["atezolizumab_bevacizumab", "lenvatinib", "sorafenib"])},
    ),
)

imaging = st.fixed_dictionaries(
    {
        "date": DATES,
        "modality": st.sampled_from(["ultrasound", "ct", "mri", "chest_xray", "bone_scan", "pet_ct", "xray"]),
        "region": st.sampled_from(
            ["abdomen", "liver", "chest", "spine", "brain", "bone", "whole_body", "pelvis"]
        ),
        "result": st.sampled_from(["normal", "new_lesion", "indeterminate", "stable", "progression"]),
    },
    optional={
        "lesions": st.lists(
            st.fixed_dictionaries(
                {
                    "site": st.sampled_from(
                        ["liver", "lung", "lymph_node", "bone", "adrenal", "peritoneum", "brain"]
                    )
                },
                optional={"size_cm": st.floats(0.2, 10).map(lambda v: round(v, 1)), "new": maybe_bool},
            ),
            max_size=3,
        )
    },
)

SYMPTOMS = [
    "cough", "wheeze", "haemoptysis", "dyspnoea", "chest_pain", "bone_pain", "back_pain", "night_pain",
    "pain_worse_on_straining", "leg_weakness", "leg_numbness", "gait_difficulty", "bladder_bowel_dysfunction",
    "saddle_numbness", "headache", "confusion", "seizure", "focal_weakness", "abdominal_pain",
    "abdominal_distension", "jaundice", "gi_bleeding", "weight_loss",
]  # fmt: skip

symptom = st.fixed_dictionaries(
    {"code": st.sampled_from(SYMPTOMS)},
    optional={
        "onset": DATES,
        "sudden": maybe_bool,
        "spinal_level": st.sampled_from(["cervical", "thoracic", "lumbar"]),
    },
)

liver = st.fixed_dictionaries(
    {},
    optional={
        "cirrhosis": maybe_bool,
        "etiology": st.lists(
            st.sampled_from(["hbv", "hcv", "alcohol", "masld", "other"]), max_size=2, unique=True
        ),
        "ascites": st.sampled_from(["none", "mild", "moderate_severe"]),
        "encephalopathy": st.sampled_from(["none", "grade_1_2", "grade_3_4"]),
        "dialysis_twice_past_week": maybe_bool,
        "cvvhd_24h_past_week": maybe_bool,
        "varices": st.sampled_from(["none", "small", "large", "treated"]),
    },
)

records = st.fixed_dictionaries(
    {"id": st.just("h")},
    optional={
        "sex": st.sampled_from(["male", "female"]),
        "age": st.integers(18, 95),
        "ecog": st.integers(0, 4),
        "ecog_cancer_related": maybe_bool,
        "liver": liver,
        "labs": st.lists(lab(), max_size=12),
        "tumors": st.lists(tumor, max_size=5),
        "tumors_assessed_on": DATES,
        "macrovascular_invasion": maybe_bool,
        "microvascular_invasion": maybe_bool,
        "histologic_grade": st.sampled_from(["well", "moderate", "poor"]),
        "lymph_node_metastasis": maybe_bool,
        "extrahepatic_metastasis": maybe_bool,
        "treatments": st.lists(treatment, max_size=4),
        "imaging": st.lists(imaging, max_size=5),
        "symptoms": st.lists(symptom, max_size=4),
        "metastatic_sites": st.lists(
            st.fixed_dictionaries(
                {"site": st.sampled_from(["lung", "lymph_node", "bone", "adrenal", "peritoneum", "brain"])}
            ),
            max_size=3,
        ),
    },
)
