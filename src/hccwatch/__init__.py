"""hccwatch: decision support after hepatocellular carcinoma treatment.

Decision support, not a diagnosis: every finding is for a clinician to weigh.
"""

from hccwatch.api import assess
from hccwatch.core.assessment import Assessment, PatientSummary
from hccwatch.core.finding import Alert, Finding, TreatmentOption, WorkupItem
from hccwatch.core.knowledge import Citation, Knowledge, default_knowledge, load_knowledge
from hccwatch.errors import (
    DeceasedError,
    HccwatchError,
    InvalidRecordError,
    KnowledgeError,
    UnitError,
    UsageError,
)
from hccwatch.record.model import PatientRecord, parse_record
from hccwatch.version import __version__

__all__ = [
    "Alert",
    "Assessment",
    "Citation",
    "DeceasedError",
    "Finding",
    "HccwatchError",
    "InvalidRecordError",
    "Knowledge",
    "KnowledgeError",
    "PatientRecord",
    "PatientSummary",
    "TreatmentOption",
    "UnitError",
    "UsageError",
    "WorkupItem",
    "__version__",
    "assess",
    "default_knowledge",
    "load_knowledge",
    "parse_record",
]
