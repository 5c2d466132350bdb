"""Reading patient records for the CLI: files, directories of ``*.json`` and standard input.

A file whose JSON object has a ``resourceType`` is FHIR R4 (a Bundle or a single resource) and
is mapped to a record by :mod:`hccwatch.adapters.fhir`; so is an ``*.ndjson`` file, and a
directory of ``*.ndjson`` files (a Bulk Data export of one patient) is read as one input.

Every input becomes a :class:`Loaded` that carries either a validated record or the list of
problems that stopped it, each prefixed by where it came from, so the caller can report a bad
file and still go on with the others.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hccwatch.adapters.fhir import FhirReading, read_fhir
from hccwatch.core.knowledge import Knowledge
from hccwatch.errors import InvalidRecordError
from hccwatch.record.messages import describe
from hccwatch.record.model import PatientRecord, parse_record

__all__ = ["MAX_RECORD_BYTES", "STDIN", "Loaded", "Source", "expand", "is_directory", "load", "load_all"]

STDIN = "-"
STDIN_NAME = "<stdin>"
# An input name that cannot be looked up is echoed at most this long.
_MAX_NAME_ECHO = 80


@dataclass(frozen=True)
class Loaded:
    """One input: ``record`` when it is valid, else the ``problems`` (never both)."""

    name: str
    record: PatientRecord | None
    problems: tuple[str, ...] = ()
    # Set when the input was FHIR: the mapping's warnings and stated assumptions.
    fhir: FhirReading | None = None


@dataclass(frozen=True)
class Source:
    """Where one record comes from: a file, or standard input (``path`` None)."""

    name: str
    path: Path | None
    problem: str | None = None
    # A directory of FHIR NDJSON files, read together as one patient.
    ndjson_folder: bool = False


class _RefusedJsonError(ValueError):
    """JSON that is well formed but cannot be a record (repeated key, NaN, a huge number)."""


# One record with ten thousand labs is about 1 MB; a file fifty times larger is an export of
# many patients or not a record at all, and is refused before it is read into memory.
MAX_RECORD_BYTES = 50_000_000
# A JSON integer longer than this is no clinical value; refusing it keeps Python's own limit on
# long integers (4,300 digits) from turning a bad file into a crash.
_MAX_NUMBER_CHARS = 30


def expand(inputs: Sequence[str]) -> list[Source]:
    """Inputs in the order given; a directory becomes its ``*.json`` files, sorted by name."""
    out: list[Source] = []
    for raw in inputs:
        if raw == STDIN:
            out.append(Source(STDIN_NAME, None))
            continue
        try:
            out.extend(_expand_one(raw))
        except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a permission
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            out.append(Source(_shortened(raw), None, f"cannot be read ({reason})"))
    return out


def _shortened(name: str) -> str:
    return name if len(name) <= _MAX_NAME_ECHO else name[: _MAX_NAME_ECHO - 3] + "..."


def is_directory(raw: str) -> bool:
    """Whether ``raw`` names a directory (False for names the system cannot even look up)."""
    try:
        return raw != STDIN and Path(raw).is_dir()
    except (OSError, ValueError):
        return False


def _expand_one(raw: str) -> list[Source]:
    path = Path(raw)
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if p.is_file())
        ndjson = any(p.is_file() for p in path.glob("*.ndjson"))
        if not files and not ndjson:
            return [Source(raw, path, "directory holds no *.json record and no *.ndjson FHIR export")]
        return [Source(str(p), p) for p in files] + (
            [Source(raw, path, ndjson_folder=True)] if ndjson else []
        )
    if path.exists():
        return [Source(raw, path)]
    return [Source(raw, path, "no such file or directory")]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A repeated key would silently keep only its last value: refuse it instead.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _RefusedJsonError(f"key {describe(key)} appears twice in one object")
        out[key] = value
    return out


def _int(text: str) -> int:
    if len(text) > _MAX_NUMBER_CHARS:
        raise _RefusedJsonError(f"a number of {len(text)} digits is not a plausible value")
    return int(text)


def _float(text: str) -> float:
    value = float(text) if len(text) <= _MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise _RefusedJsonError(f"the number {describe(text)} is too large to be a value")
    return value


def _constant(name: str) -> Any:
    raise _RefusedJsonError(f"{name} is not a number JSON allows; write null for an unknown value")


def _decode(name: str, text: str) -> tuple[Any, tuple[str, ...]]:
    if not text.strip():
        return None, (f"{name}: empty input, expected one JSON object (a patient record)",)
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        return None, (f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",)
    except _RefusedJsonError as exc:
        return None, (f"{name}: {exc}",)
    except RecursionError:
        # The decoder recurses per level; deeper than Python allows is no patient record. Less
        # deep nesting is refused by parse_record, naming the field.
        return None, (f"{name}: nested too deeply to be a patient record",)
    return data, ()


def _too_large() -> str:
    return f"larger than {MAX_RECORD_BYTES // 1_000_000} MB, too large to be one patient record"


def _read(source: Source, read_stdin: Callable[[], bytes]) -> tuple[str | None, tuple[str, ...]]:
    if source.problem is not None:
        return None, (f"{source.name}: {source.problem}",)
    try:
        if source.path is None:
            data = read_stdin()
        else:
            # Read at most one byte past the limit: a device or endless pipe must not fill memory.
            with source.path.open("rb") as stream:
                data = stream.read(MAX_RECORD_BYTES + 1)
        if len(data) > MAX_RECORD_BYTES:
            return None, (f"{source.name}: {_too_large()}",)
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError as exc:
        return None, (f"{source.name}: not UTF-8 text (byte {exc.start})",)
    except OSError as exc:
        return None, (f"{source.name}: cannot be read ({exc.strerror or exc})",)


def _ndjson(name: str, text: str) -> tuple[list[Any], tuple[str, ...]]:
    out: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        data, problems = _decode(f"{name} line {number}", line)
        if problems:
            return [], problems
        out.append(data)
    return out, ()


def _read_ndjson_folder(source: Source) -> tuple[list[Any], tuple[str, ...]]:
    if source.path is None:
        return [], (f"{source.name}: not a directory",)
    resources: list[Any] = []
    total = 0
    for path in sorted(p for p in source.path.glob("*.ndjson") if p.is_file()):
        text, problems = _read(Source(str(path), path), lambda: b"")
        if text is None:
            return [], problems
        total += len(text)
        if total > MAX_RECORD_BYTES:
            return [], (f"{source.name}: {_too_large()}",)
        lines, problems = _ndjson(str(path), text)
        if problems:
            return [], problems
        resources.extend(lines)
    return resources, ()


def _is_fhir(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("resourceType"), str)


def load(
    source: Source,
    read_stdin: Callable[[], bytes],
    knowledge: Knowledge | None = None,
    as_of: dt.date | None = None,
) -> Loaded:
    """Read, decode and validate one source (with ``knowledge``, default the packaged one).

    FHIR input is mapped first; ``as_of`` ends "the past week" of its dialysis assumptions.
    """
    data: Any
    if source.ndjson_folder:
        data, problems = _read_ndjson_folder(source)
        if problems:
            return Loaded(source.name, None, problems)
    else:
        text, problems = _read(source, read_stdin)
        if text is None:
            return Loaded(source.name, None, problems)
        if source.path is not None and source.path.suffix == ".ndjson":
            data, problems = _ndjson(source.name, text)
        else:
            data, problems = _decode(source.name, text)
        if problems:
            return Loaded(source.name, None, problems)
    reading: FhirReading | None = None
    try:
        if _is_fhir(data) or (isinstance(data, list) and data and all(_is_fhir(r) for r in data)):
            reading = read_fhir(data, as_of=as_of, knowledge=knowledge)
            # Validated by the reader with this knowledge base: not validated a second time.
            return Loaded(source.name, reading.patient_record, fhir=reading)
        return Loaded(source.name, parse_record(data, knowledge=knowledge), fhir=reading)
    except InvalidRecordError as exc:
        problems = tuple(exc.problems) or (str(exc),)
        return Loaded(source.name, None, tuple(f"{source.name}: {p}" for p in problems), fhir=reading)


def load_all(
    inputs: Sequence[str], read_stdin: Callable[[], bytes], knowledge: Knowledge | None = None
) -> Iterator[Loaded]:
    """Each input in turn (lazily, so output can stream while later files are read)."""
    for source in expand(inputs):
        yield load(source, read_stdin, knowledge)
