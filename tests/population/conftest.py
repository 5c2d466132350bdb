"""Shared fixtures of the population tests: one small synthetic export per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hccwatch.population.synth import write_cohort

sys.path.insert(0, str(Path(__file__).parent))

COHORT_PATIENTS = 300
COHORT_SEED = 7


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "bulk"
    write_cohort(out, COHORT_PATIENTS, COHORT_SEED)
    return out
