"""The patient record and the unit conversions done at its boundary."""

from hccwatch.record.model import PatientRecord, parse_record

__all__ = ["PatientRecord", "parse_record"]
