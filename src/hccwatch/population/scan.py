"""The embedded engine's scan, in blocks of a file that worker processes read on their own.

Each NDJSON file is cut into blocks of about ``BLOCK_BYTES`` that end at a line end. Two passes:

1. ``prescan``: byte searches over the whole block find the few lines that can be a Patient or
   a Condition (they hold ``"Patient"`` or ``Condition``, or a ``\\u`` escape, which could spell
   either); only those are decoded and judged. This gives every Patient id and every HCC
   patient id.
2. ``scan``: every line is judged with ``bulk.classify`` (the function the Spark engine uses
   too); with the Patient ids known, a dangling reference is recognised on the spot, and the
   raw lines of cohort patients are written to a Parquet file per block, to be grouped by
   patient in DuckDB.

A block's results depend on the block alone, and are merged in block order, so the output does
not depend on the number of workers.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hccwatch.population.bulk import Line, Problem, classify

__all__ = ["Block", "BlockScan", "blocks", "prescan", "scan_block"]

BLOCK_BYTES = 8 * 2**20
# Problems kept per block: enough for the report's first MAX_LISTED_PROBLEMS whatever the blocks.
_MAX_LISTED = 10_000
# A line judged a Patient or a Condition holds one of these (the type name, or an escape).
_NEEDLES = (b'"Patient"', b"Condition", b"\\u")


@dataclass(frozen=True)
class Block:
    index: int
    f: int  # the file's position in the export
    name: str  # the file's name, as reported
    path: Path
    offset: int
    length: int


@dataclass
class BlockScan:
    """What one block held: the line count, the counts by type and problem, the problems (the
    first few thousand) and the rows file of cohort lines (None when the block has none)."""

    lines: int = 0  # physical lines, blank ones included (for numbering)
    resources: int = 0  # non-blank lines
    by_type: Counter[str] = field(default_factory=Counter)
    problems_by_kind: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    rows: Path | None = None


def blocks(files: tuple[Path, ...], names: tuple[str, ...], size: int | None = None) -> Iterator[Block]:
    """The blocks of every file, in file order; each ends just after a line end (or at the end)."""
    size = size or BLOCK_BYTES
    index = 0
    for f, (name, path) in enumerate(zip(names, files, strict=True)):
        total = path.stat().st_size
        with path.open("rb") as fh:
            start = 0
            while start < total:
                end = min(start + size, total)
                if end < total:
                    fh.seek(end)
                    while True:
                        piece = fh.read(65_536)
                        if not piece:
                            end = total
                            break
                        cut = piece.find(b"\n")
                        if cut >= 0:
                            end += cut + 1
                            break
                        end += len(piece)
                yield Block(index, f, name, path, start, end - start)
                index += 1
                start = end


def _read(block: Block) -> bytes:
    with block.path.open("rb") as fh:
        fh.seek(block.offset)
        return fh.read(block.length)


def _lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the block ends with a line end
    return lines


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _candidates(data: bytes, needles: tuple[bytes, ...]) -> set[int]:
    """Start offsets of the lines holding any of ``needles``."""
    starts: set[int] = set()
    for needle in needles:
        pos = data.find(needle)
        while pos >= 0:
            start = data.rfind(b"\n", 0, pos) + 1
            starts.add(start)
            end = data.find(b"\n", pos)
            if end < 0:
                break
            pos = data.find(needle, end)
    return starts


def prescan(block: Block) -> tuple[int, set[str], set[str]]:
    """(physical lines, Patient ids, ids of patients with an HCC Condition) of one block."""
    data = _read(block)
    patients: set[str] = set()
    hcc: set[str] = set()
    for start in sorted(_candidates(data, _NEEDLES)):
        end = data.find(b"\n", start)
        raw = data[start : end if end >= 0 else len(data)].rstrip(b"\r")
        if not raw.strip():
            continue
        judged = classify(raw, block.name, 0)
        if isinstance(judged, Line) and judged.pid:
            if judged.is_patient:
                patients.add(judged.pid)
            elif judged.is_hcc:
                hcc.add(judged.pid)
    return line_count(data), patients, hcc


_IDS: dict[Path, tuple[frozenset[str], frozenset[str]]] = {}


def save_ids(path: Path, patients: set[str], cohort: set[str]) -> None:
    """The Patient ids and the cohort, for the workers of the second pass (read once per process)."""
    with path.open("wb") as fh:
        pickle.dump((frozenset(patients), frozenset(cohort)), fh, protocol=pickle.HIGHEST_PROTOCOL)


def _ids(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    if path not in _IDS:
        with path.open("rb") as fh:
            _IDS.clear()
            _IDS[path] = pickle.load(fh)
    return _IDS[path]


def scan_block(args: tuple[Block, int, Path, Path]) -> BlockScan:
    """Judge every line of a block (``first`` is the number of its first line)."""
    block, first, ids_path, rows_dir = args
    patients, cohort = _ids(ids_path)
    data = _read(block)
    out = BlockScan(lines=line_count(data))
    pids: list[str] = []
    numbers: list[int] = []
    raws: list[bytes] = []
    for number, line in enumerate(_lines(data), start=first):
        raw = line.rstrip(b"\r")
        if not raw.strip():
            continue
        out.resources += 1
        judged = classify(raw, block.name, number)
        if isinstance(judged, Problem):
            out.problems_by_kind[judged.kind] += 1
            if len(out.problems) < _MAX_LISTED:
                out.problems.append(judged)
            continue
        out.by_type[judged.rtype] += 1
        pid = judged.pid
        if pid is None:
            continue
        if pid in cohort:
            pids.append(pid)
            numbers.append(number)
            raws.append(raw)
        elif not judged.is_patient and pid not in patients:
            out.problems_by_kind["dangling_reference"] += 1
            if len(out.problems) < _MAX_LISTED:
                out.problems.append(
                    Problem(block.name, number, "dangling_reference", f"Patient/{pid} is not in the export")
                )
    if pids:
        out.rows = _write_rows(rows_dir / f"rows-{block.index:06d}.parquet", block.f, pids, numbers, raws)
    return out


def _write_rows(path: Path, f: int, pids: list[str], numbers: list[int], raws: list[bytes]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "pid": pa.array(pids, pa.string()),
            "f": pa.array([f] * len(pids), pa.int32()),
            "line": pa.array(numbers, pa.int64()),
            "raw": pa.array(raws, pa.binary()),
        }
    )
    pq.write_table(table, path, compression="lz4")
    return path
