"""The batch worklist: one patient's resources in, one worklist row and one assessment out; and the
writers every engine shares, so both engines give byte-identical files for the same input.

An engine (DuckDB or Spark) only scans the export, finds the cohort and hands each cohort
patient's resource lines here in patient-id order. The mapping is the FHIR adapter's
``read_resources`` and the decisions are :func:`hccwatch.assess`; nothing clinical is decided in
this module, it only picks fields of the assessment for the worklist columns.
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import json
import math
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import msgspec
import orjson

from hccwatch.api import assess
from hccwatch.core.finding import URGENCY_ORDER
from hccwatch.errors import DeceasedError, HccwatchError
from hccwatch.population.bulk import Problem, Skipped

__all__ = [
    "COLUMNS",
    "BatchStats",
    "LineMapper",
    "Mapper",
    "PatientResult",
    "default_mapper",
    "process_patient",
    "write_outputs",
]

# Problems listed one by one in problems.csv (all are counted in the summary whatever their number).
MAX_LISTED_PROBLEMS = 10_000


class Reading(Protocol):
    @property
    def record(self) -> Any: ...
    @property
    def warnings(self) -> Sequence[Any]: ...
    @property
    def assumptions(self) -> Sequence[Any]: ...


class Mapper(Protocol):
    """``hccwatch.adapters.fhir.read_resources``: one patient's resources -> a reading.

    A mapper that also has ``read_lines`` (:class:`LineMapper`) is given the patient's raw lines
    instead, and decodes them itself."""

    def __call__(self, resources: list[dict[str, Any]], *, as_of: dt.date) -> Reading: ...


class LineMapper(Mapper, Protocol):
    """A mapper that reads a patient's NDJSON lines itself (``hccwatch.adapters.fhir.read_lines``:
    each line decoded once, straight into the views it maps, not into dicts first)."""

    def read_lines(self, raws: Sequence[bytes], *, as_of: dt.date) -> Reading: ...


@dataclass(frozen=True)
class _FhirMapper:
    """The FHIR adapter as a :class:`LineMapper` (module-level functions: it pickles by name)."""

    resources: Callable[..., Reading]
    lines: Callable[..., Reading]

    def __call__(self, resources: list[dict[str, Any]], *, as_of: dt.date) -> Reading:
        return self.resources(resources, as_of=as_of)

    def read_lines(self, raws: Sequence[bytes], *, as_of: dt.date) -> Reading:
        return self.lines(raws, as_of=as_of)


def default_mapper() -> LineMapper:
    """The project's FHIR adapter (``hccwatch.adapters.fhir``: ``read_resources``, and
    ``read_lines`` for raw lines)."""
    # Imported by name when a batch runs: the adapter is a sibling package of this one.
    module = importlib.import_module("hccwatch.adapters.fhir")
    return _FhirMapper(module.read_resources, module.read_lines)


# The worklist columns, in order, with their Arrow types.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("patient_id", "string"),
    ("status", "string"),
    ("highest_urgency", "string"),
    ("urgency_rank", "int32"),
    ("alerts", "string"),
    ("overdue", "string"),
    ("next_due_item", "string"),
    ("next_due_date", "string"),
    ("afp_latest_ng_ml", "float64"),
    ("afp_latest_date", "string"),
    ("afp_trend", "string"),
    ("likely_sites", "string"),
    ("child_pugh", "string"),
    ("meld_3", "int32"),
    ("albi_grade", "int32"),
    ("bclc", "string"),
    ("assumptions", "string"),
    ("warnings", "string"),
    ("message", "string"),
)
NO_ALERT_RANK = len(URGENCY_ORDER)
# The reason metastasis.likely_sites gives a site with no patient-specific evidence (the contract has
# no flag for it; tests/population/test_batch.py fails if the wording changes).
NO_SIGNAL = "no patient-specific signal; ranked by population frequency"


@dataclass(frozen=True)
class PatientResult:
    row: dict[str, Any]
    # UTF-8 bytes, as orjson writes them and as the files hold them: a result crosses a pipe from
    # a worker process, and text would be decoded and encoded again on each side of it.
    assessment: bytes | None  # one JSON line, or None when the patient could not be assessed
    record: bytes | None = None  # the mapped record (one JSON line), or None when mapping failed


def _join(items: Iterable[Any]) -> str:
    return "; ".join(str(i) for i in items)


def _assumption(a: Any) -> str:
    if all(hasattr(a, k) for k in ("field", "value", "reason")):
        return f"{a.field}={json.dumps(a.value)} ({a.reason})"
    return str(a)


def _warning(w: Any) -> str:
    if hasattr(w, "resource") and hasattr(w, "message"):
        return f"{w.resource}: {w.message}"
    return str(w)


def _row(pid: str, status: str, message: str = "") -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(name for name, _ in COLUMNS)
    row.update(patient_id=pid, status=status, urgency_rank=NO_ALERT_RANK, message=message)
    for name, kind in COLUMNS:
        if kind == "string" and row[name] is None:
            row[name] = ""
    return row


def _worklist_row(pid: str, d: dict[str, Any], reading: Reading) -> dict[str, Any]:
    row = _row(pid, "assessed")
    alerts = sorted(
        d.get("alerts") or [], key=lambda a: (URGENCY_ORDER.get(a["urgency"], NO_ALERT_RANK), a["id"])
    )
    if alerts:
        row["highest_urgency"] = alerts[0]["urgency"]
        row["urgency_rank"] = URGENCY_ORDER.get(alerts[0]["urgency"], NO_ALERT_RANK)
    row["alerts"] = _join(f"{a['urgency']}: {a['title']}" for a in alerts)
    surveillance = d.get("surveillance") or {}
    due = sorted(surveillance.get("next_due") or [], key=lambda n: (n.get("due") or "9999", n["item"]))
    row["overdue"] = _join(n["item"] for n in due if n.get("overdue"))
    if due:
        row["next_due_item"] = due[0]["item"]
        row["next_due_date"] = due[0].get("due") or ""
    afp = d.get("afp") or {}
    latest = afp.get("latest") or {}
    if isinstance(latest, dict) and latest.get("value") is not None:
        row["afp_latest_ng_ml"] = float(latest["value"])
        row["afp_latest_date"] = latest.get("date") or ""
    row["afp_trend"] = afp.get("trend") or ""
    # Only sites with a reason in this patient's record; the bare prior ranking is the same for all.
    sites = (d.get("metastasis") or {}).get("likely_sites") or []
    row["likely_sites"] = _join(s["site"] for s in sites if s.get("reasons") not in ([], [NO_SIGNAL]))
    scores = d.get("scores") or {}
    row["child_pugh"] = (scores.get("child_pugh") or {}).get("class") or ""
    row["meld_3"] = (scores.get("meld_3") or {}).get("value")
    row["albi_grade"] = (scores.get("albi") or {}).get("grade")
    row["bclc"] = ((d.get("staging") or {}).get("bclc") or {}).get("stage") or ""
    row["assumptions"] = _join(map(_assumption, reading.assumptions))
    row["warnings"] = _join(map(_warning, reading.warnings))
    return row


def _finite(value: Any) -> bool:
    """No NaN or infinity anywhere in a decoded JSON value (orjson would write them as null)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            if not math.isfinite(item):
                return False
        elif kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
    return True


_PACK = msgspec.msgpack.Encoder()
# MessagePack writes every float as a float64: the byte 0xcb and then its 8 bytes, big-endian. A
# NaN or an infinity has the exponent all ones: its first two bytes are 7f or ff, then f0 to ff.
_NON_FINITE_FLOAT64 = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")


def _surely_finite(value: Any) -> bool:
    """True only when ``value`` certainly holds no NaN or infinity, as ``_finite`` judges it, at
    about half the walk's cost: MessagePack encodes in C, and a non-finite float is a short byte
    pattern there. Any match (also the bytes of some other value) or a value MessagePack cannot
    encode answers False, and the walk decides (``tests/population/test_json_bytes.py``)."""
    try:
        packed = _PACK.encode(value)
    except Exception:  # whatever MessagePack refuses (an int subclass, a huge int): the walk decides
        return False
    return _NON_FINITE_FLOAT64.search(packed) is None


def json_bytes(data: Any) -> bytes:
    """One compact JSON line in UTF-8, keys sorted (orjson: about ten times faster than
    ``json.dumps``)."""
    out = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    # orjson writes NaN and infinity as null: a line without null cannot hold one (no check needed).
    if b"null" in out and not _surely_finite(data) and not _finite(data):
        raise ValueError("a number that is not finite (NaN or infinity) cannot be written as JSON")
    return out


def _record_data(record: Any) -> Any:
    # The FHIR adapter gives a decoded record; a mapper may also give a PatientRecord.
    if hasattr(record, "model_dump"):
        return record.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return record


def process_patient(pid: str, raws: Sequence[bytes], as_of: dt.date, mapper: Mapper) -> PatientResult:
    """Map and assess one patient; a patient that cannot be read or assessed is a row saying why.
    The mapped record is kept whenever mapping succeeded, so ``hccwatch registry import`` can
    load it (and name the same refusal)."""
    # The FHIR adapter decodes the lines itself, once each (LineMapper); another mapper gets dicts.
    read_lines: Callable[..., Reading] | None = getattr(mapper, "read_lines", None)
    resources = [orjson.loads(r) for r in raws] if read_lines is None else []
    record: bytes | None = None
    try:
        # The evaluation date reaches the mapper too: it must not fall back on the clock.
        reading = mapper(resources, as_of=as_of) if read_lines is None else read_lines(raws, as_of=as_of)
        record = json_bytes(_record_data(reading.record))
        # The FHIR adapter's reading holds the record it validated (FhirReading.patient_record):
        # assessing that one skips a second validation. Another mapper's plain record is parsed.
        validated = getattr(reading, "patient_record", None)
        assessment = assess(validated if validated is not None else reading.record, as_of=as_of)
        data = assessment.to_dict()
        line = json_bytes(data)
    except DeceasedError as exc:
        # Its own status: a death is not a data problem to fix, and a programme counts its deaths.
        return PatientResult(_row(pid, "deceased", str(exc)), None, record)
    except HccwatchError as exc:
        return PatientResult(_row(pid, "cannot_assess", str(exc)), None, record)
    except Exception as exc:  # a bug in hccwatch: named in the worklist, the run goes on
        return PatientResult(_row(pid, "error", f"internal error: {type(exc).__name__}: {exc}"), None, record)
    return PatientResult(_worklist_row(pid, data, reading), line, record)


def process_group(args: tuple[str, list[bytes], dt.date]) -> PatientResult:
    """For worker processes: the default mapper, loaded once per process."""
    global _MAPPER
    if _MAPPER is None:
        _MAPPER = default_mapper()
    pid, raws, as_of = args
    return process_patient(pid, raws, as_of, _MAPPER)


_MAPPER: Mapper | None = None


@dataclass
class BatchStats:
    """What the scan saw; filled by the engine, written to the summary."""

    files: int = 0
    lines: int = 0
    resources_by_type: Counter[str] = field(default_factory=Counter)
    patients: int = 0
    cohort: int = 0
    problems_by_kind: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)  # sorted, at most MAX_LISTED_PROBLEMS

    def add_problem(self, p: Problem) -> None:
        self.problems_by_kind[p.kind] += 1
        self.problems.append(p)


def finish_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(problems)[:MAX_LISTED_PROBLEMS]


class _Outputs:
    """Writers into a temporary folder; ``commit`` renames it into place (a rerun after an interrupted
    run starts again from a clean temporary folder and never sees half-written files)."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.tmp = out.parent / f".{out.name}.partial"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self.csv_fh = (self.tmp / "worklist.csv").open("w", encoding="utf-8", newline="")
        self.csv = csv.writer(self.csv_fh, lineterminator="\n")
        self.csv.writerow([name for name, _ in COLUMNS])
        # Binary: the results are already UTF-8 (PatientResult).
        self.jsonl = (self.tmp / "assessments.jsonl").open("wb")
        self.records = (self.tmp / "records.jsonl").open("wb")
        # Arrow is loaded here, in the writing process only (worker processes never need it).
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa = pa
        self.schema = pa.schema([pa.field(n, getattr(pa, t)()) for n, t in COLUMNS])
        self.parquet = pq.ParquetWriter(self.tmp / "worklist.parquet", self.schema, compression="zstd")
        self.buffer: list[dict[str, Any]] = []

    def add(self, result: PatientResult) -> None:
        row = result.row
        self.csv.writerow(["" if row[n] is None else _csv_value(row[n]) for n, _ in COLUMNS])
        if result.assessment is not None:
            self.jsonl.write(result.assessment)
            self.jsonl.write(b"\n")
        if result.record is not None:
            self.records.write(result.record)
            self.records.write(b"\n")
        self.buffer.append(row)
        if len(self.buffer) >= 10_000:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.parquet.write_table(self.pa.Table.from_pylist(self.buffer, schema=self.schema))
            self.buffer = []

    def close(self) -> None:
        self.flush()
        self.parquet.close()
        self.csv_fh.close()
        self.jsonl.close()
        self.records.close()

    def commit(self) -> None:
        if self.out.exists():
            # Only a folder this command wrote is replaced (it holds summary.json).
            if not (self.out / "summary.json").is_file():
                raise FileExistsError(
                    f"{self.out.name} exists and is not a batch result; choose another --out"
                )
            old = self.out.parent / f".{self.out.name}.old"
            if old.exists():
                shutil.rmtree(old)
            os.replace(self.out, old)
            os.replace(self.tmp, self.out)
            shutil.rmtree(old)
        else:
            os.replace(self.tmp, self.out)


def _csv_value(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _kpis(rows: Counter[str]) -> dict[str, int]:
    return dict(sorted(rows.items()))


def write_outputs(
    out: Path,
    results: Iterator[PatientResult],
    stats: BatchStats,
    *,
    as_of: dt.date,
    engine: str,
    source: str,
    progress: Callable[[int], None] | None = None,
    skipped: Sequence[Skipped] = (),
) -> dict[str, Any]:
    """Write the worklist (CSV, Parquet), assessments (JSON Lines), problems, summary (JSON, HTML).

    ``engine`` is deliberately left out of the files so both engines write the same bytes.
    """
    outputs = _Outputs(out)
    urgency: Counter[str] = Counter()
    status: Counter[str] = Counter()
    trend: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    overdue = 0
    top: list[tuple[int, str, str]] = []
    try:
        for done, result in enumerate(results, start=1):
            outputs.add(result)
            row = result.row
            status[row["status"]] += 1
            urgency[row["highest_urgency"] or "none"] += 1
            trend[row["afp_trend"] or "unknown"] += 1
            overdue += bool(row["overdue"])
            for s in filter(None, row["likely_sites"].split("; ")):
                sites[s] += 1
            if row["urgency_rank"] <= URGENCY_ORDER["urgent"]:
                top.append((row["urgency_rank"], row["patient_id"], row["alerts"]))
                top = sorted(top)[:50]
            if progress:
                progress(done)
    finally:
        outputs.close()
    with (outputs.tmp / "problems.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["file", "line", "kind", "detail"])
        for p in stats.problems:
            w.writerow([p.file, p.line, p.kind, p.detail])
    assessed = status.get("assessed", 0)
    summary: dict[str, Any] = {
        "source": source,
        "as_of": as_of.isoformat(),
        "export": {
            "files": stats.files,
            "lines": stats.lines,
            "resources_by_type": dict(sorted(stats.resources_by_type.items())),
            "patients": stats.patients,
            "problems_by_kind": dict(sorted(stats.problems_by_kind.items())),
            "problems_listed": len(stats.problems),
            # Files of the export folder left out, and why (the Bulk Data client's own log).
            "skipped_files": [{"file": f.name, "reason": f.reason} for f in skipped],
        },
        "cohort": {
            "patients": stats.cohort,
            "by_status": _kpis(status),
            "by_highest_urgency": _kpis(urgency),
            "with_overdue_surveillance": overdue,
            "overdue_fraction": round(overdue / assessed, 4) if assessed else None,
            "afp_trend": _kpis(trend),
            "likely_sites": _kpis(sites),
        },
        "most_urgent": [{"patient_id": pid, "alerts": alerts} for _, pid, alerts in top],
        "disclaimer": "hccwatch is decision support, not a diagnosis.",
    }
    (outputs.tmp / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n", "utf-8"
    )
    from hccwatch.population.summary_html import render_summary

    (outputs.tmp / "summary.html").write_text(render_summary(summary), "utf-8")
    outputs.commit()
    return summary
