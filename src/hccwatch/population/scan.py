"""The embedded engine's scan, in blocks of a file that worker processes read on their own.

Each NDJSON file is cut into blocks of about ``BLOCK_BYTES`` that end at a line end, and every
block is judged in one pass (``scan_block``): each line is decoded once (orjson) and placed as
``bulk.classify`` would place it (the common case inline, anything else by ``bulk.judge``
itself). A block gives its counts, problems, HCC patient ids and its *runs*: consecutive lines of
one patient, as byte ranges of the file. The raw lines are not copied anywhere: the engine sorts
the runs by patient, and the process that assesses a patient reads its lines back from the file
(``RunReader``).

A block's results depend on the block alone, its line numbers count from the block's start, and
they are merged in block order, so the output does not depend on the number of workers.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import orjson

from hccwatch.population.bulk import _PATIENT_FIELDS, R4_TYPES, Problem, classify, judge
from hccwatch.population.source import Store, changed

__all__ = ["Block", "BlockScan", "RunReader", "Runs", "blocks", "scan_block"]

T = TypeVar("T")
Run = tuple[int, int, int]  # file, start, end

BLOCK_BYTES = 8 * 2**20
# Read past a block's nominal end to find its line end: one read (one request to an object store)
# holds the rest of any line shorter than this.
_LINE_END_PROBE = 65_536
# Runs of a patient in an object store closer than this are fetched in one ranged read (the gap
# is read and dropped): a request costs more than this many bytes of transfer.
COALESCE_GAP = 256 * 2**10
# Patients whose lines are read from an object store together (``RunReader.many``): one wait for
# all their reads, and near runs of neighbouring patients joined.
STORE_BATCH = 16
# Groups of STORE_BATCH patients whose reads are sent ahead, while the group before them is
# assessed (``RunReader.ahead``; the DuckDB engine's workers, the Spark executors): 0 or 1.
# One is enough to hide a round trip behind the assessing, and bounds the extra memory to one
# group's lines.
STORE_READ_AHEAD = 1
# Problems kept per block: enough for the report's first MAX_LISTED_PROBLEMS whatever the blocks.
_MAX_LISTED = 10_000
# Stands for a line that is not JSON (classify then says why).
_BAD = object()


@dataclass(frozen=True)
class Block:
    index: int
    f: int  # the file's position in the export
    name: str  # the file's name, as reported
    path: Path | str  # of this machine, or of ``store``
    offset: int
    length: int
    store: Store | None = None


@dataclass
class Runs:
    """Column lists, one entry per run of consecutive lines of one patient (a Patient line and
    the other lines of that patient make separate runs)."""

    pid: list[str] = field(default_factory=list)
    start: list[int] = field(default_factory=list)  # byte offset in the file of its first line
    end: list[int] = field(default_factory=list)  # byte offset just after its last line (no line end)
    line: list[int] = field(default_factory=list)  # its first line, counted from 0 in the block
    n: list[int] = field(default_factory=list)  # lines in the run
    patient: list[bool] = field(default_factory=list)  # the run is Patient resources

    def add(self, pid: str, start: int, end: int, line: int, n: int, patient: bool) -> None:
        self.pid.append(pid)
        self.start.append(start)
        self.end.append(end)
        self.line.append(line)
        self.n.append(n)
        self.patient.append(patient)


@dataclass
class BlockScan:
    """What one block held: the line count, the counts by type and problem, the problems (the
    first few thousand, numbered from 0 in the block), the ids of patients with an HCC Condition
    and the runs."""

    lines: int = 0  # physical lines, blank ones included (for numbering)
    resources: int = 0  # non-blank lines
    by_type: Counter[str] = field(default_factory=Counter)
    problems_by_kind: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    hcc: set[str] = field(default_factory=set)
    runs: Runs = field(default_factory=Runs)


def blocks(
    files: tuple[Path | str, ...],
    names: tuple[str, ...],
    size: int | None = None,
    *,
    store: Store | None = None,
    sizes: tuple[int, ...] = (),
) -> Iterator[Block]:
    """The blocks of every file, in file order; each ends just after a line end (or at the end).
    Files of an object store (``store``) have their ``sizes`` as listed."""
    if store is not None:
        yield from _store_blocks(files, names, size or BLOCK_BYTES, store, sizes)
        return
    size = size or BLOCK_BYTES
    index = 0
    for f, (name, path) in enumerate(zip(names, files, strict=True)):
        total = os.stat(path).st_size
        with open(path, "rb") as fh:
            start = 0
            while start < total:
                end = min(start + size, total)
                if end < total:
                    fh.seek(end)
                    while True:
                        piece = fh.read(_LINE_END_PROBE)
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


def _store_blocks(
    files: tuple[Path | str, ...], names: tuple[str, ...], size: int, store: Store, sizes: tuple[int, ...]
) -> Iterator[Block]:
    """``blocks`` for an object store: each line end found with one ranged read past the cut."""
    index = 0
    for f, (name, path, total) in enumerate(zip(names, files, sizes, strict=True)):
        key = str(path)
        start = 0
        while start < total:
            end = min(start + size, total)
            while end < total:
                piece = store.read(key, end, min(end + _LINE_END_PROBE, total))
                if not piece:
                    raise changed(name)
                cut = piece.find(b"\n")
                if cut >= 0:
                    end += cut + 1
                    break
                end += len(piece)
            yield Block(index, f, name, key, start, end - start, store)
            index += 1
            start = end


def _read(block: Block) -> bytes:
    if block.store is not None:
        data = block.store.read(str(block.path), block.offset, block.offset + block.length)
    else:
        with open(block.path, "rb") as fh:
            fh.seek(block.offset)
            data = fh.read(block.length)
    if len(data) != block.length:
        raise changed(block.name)
    return data


def scan_block(block: Block) -> BlockScan:
    """Judge every line of a block; line numbers (of problems and runs) count from 0 in the block."""
    data = _read(block)
    out = BlockScan()
    by_type: dict[str, int] = {}
    runs = out.runs
    hcc = out.hcc
    name = block.name
    base = block.offset
    loads = orjson.loads
    pos = 0
    # The open run: its patient (None: no run), whether it is Patient lines, first line, start, end, size.
    cur: str | None = None
    cur_patient = False
    first = start = end = count = 0
    last_ref = ""
    last_pid: str | None = None
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()  # the block ends with a line end
    out.lines = len(lines)
    crlf = b"\r" in data
    for index, line in enumerate(lines):
        here = pos
        pos += len(line) + 1
        raw = line.rstrip(b"\r") if crlf else line
        pid: str | None = None
        is_patient = False
        # The common case inline (a decoded object with a known type that is not a Condition),
        # with bulk.judge's very steps; anything else goes through bulk.judge itself.
        try:
            resource = loads(raw)
        except orjson.JSONDecodeError:
            resource = _BAD
        rtype = resource.get("resourceType") if type(resource) is dict else None
        if type(rtype) is str and rtype in R4_TYPES and rtype != "Condition":
            if rtype == "Patient":
                pid = resource.get("id")
                if type(pid) is not str or not pid:
                    pid = rtype = None  # a problem, named below
                else:
                    is_patient = True
                    by_type[rtype] = by_type.get(rtype, 0) + 1
            else:
                by_type[rtype] = by_type.get(rtype, 0) + 1
                for key in _PATIENT_FIELDS:
                    ref = resource.get(key)
                    if type(ref) is dict:
                        value = ref.get("reference")
                        if type(value) is str and value.startswith("Patient/"):
                            # A patient's lines are mostly consecutive: the same reference again
                            # names the same patient, without cutting the string again.
                            if value != last_ref:
                                last_ref = value
                                last_pid = value[8:].split("/_history/")[0] or None
                            pid = last_pid
                            break
        else:
            rtype = None
        if rtype is None:
            if not raw.strip():
                pass  # a blank line: no resource, and it ends a run
            else:
                judged = classify(raw, name, index) if resource is _BAD else judge(resource, name, index)
                if isinstance(judged, Problem):
                    out.problems_by_kind[judged.kind] += 1
                    if len(out.problems) < _MAX_LISTED:
                        out.problems.append(judged)
                else:
                    by_type[judged.rtype] = by_type.get(judged.rtype, 0) + 1
                    pid, is_patient = judged.pid, judged.is_patient
                    if judged.is_hcc and pid is not None:
                        hcc.add(pid)
        if pid is not None and pid == cur and is_patient == cur_patient:
            end = base + here + len(line)
            count += 1
            continue
        if cur is not None:
            runs.add(cur, start, end, first, count, cur_patient)
        cur = pid
        if pid is not None:
            cur_patient = is_patient
            first, start, end, count = index, base + here, base + here + len(line), 1
    if cur is not None:
        runs.add(cur, start, end, first, count, cur_patient)
    out.by_type.update(by_type)
    out.resources = sum(by_type.values()) + out.problems_by_kind.total()
    return out


class RunReader:
    """Reads a patient's lines back from the export's files by their byte ranges: the lines in the
    given order, each without its line end. Local files with ``os.pread`` (the page cache usually
    still holds them); an object store's (``store``) with one ranged read per group of nearby runs
    of one file (``COALESCE_GAP``), all of a patient's sent at once."""

    def __init__(self, files: Sequence[Path | str], store: Store | None = None) -> None:
        self.files = tuple(files)
        self.store = store
        self.fds: dict[int, int] = {}

    def lines(self, runs: Sequence[tuple[int, int, int]]) -> list[bytes]:
        if self.store is not None:
            return self.many([runs])[0]
        raws: list[bytes] = []
        for f, start, end in runs:
            fd = self.fds.get(f)
            if fd is None:
                fd = self.fds[f] = os.open(self.files[f], os.O_RDONLY)
            chunk = os.pread(fd, end - start, start)
            if len(chunk) != end - start:
                raise changed(os.path.basename(self.files[f]))
            if b"\r" in chunk:
                raws.extend(line.rstrip(b"\r") for line in chunk.split(b"\n"))
            else:
                raws.extend(chunk.split(b"\n"))
        return raws

    def many(self, groups: Sequence[Sequence[tuple[int, int, int]]]) -> list[list[bytes]]:
        """``lines`` of several patients. From an object store, their runs are read together:
        sorted, near runs of one file joined into one ranged read (``COALESCE_GAP``), and all
        the reads sent at once, so a few patients cost about one wait, not one per file each."""
        store = self.store
        if store is None:
            return [self.lines(runs) for runs in groups]
        reads: list[tuple[int, int, int]] = []  # file, start, end
        home: dict[tuple[int, int, int], int] = {}  # run -> its read
        for run in sorted({run for runs in groups for run in runs}):
            f, start, end = run
            if reads and reads[-1][0] == f and 0 <= start - reads[-1][2] <= COALESCE_GAP:
                reads[-1] = (f, reads[-1][1], max(end, reads[-1][2]))
            else:
                reads.append(run)
            home[run] = len(reads) - 1
        got = store.read_many([(str(self.files[f]), start, end) for f, start, end in reads])
        for (f, first, stop), data in zip(reads, got, strict=True):
            if len(data) != stop - first:
                raise changed(str(self.files[f]).rsplit("/", 1)[-1])
        out: list[list[bytes]] = []
        for runs in groups:
            raws: list[bytes] = []
            for run in runs:
                at = home[run]
                first, data = reads[at][1], got[at]
                chunk = data[run[1] - first : run[2] - first]
                if b"\r" in chunk:
                    raws.extend(line.rstrip(b"\r") for line in chunk.split(b"\n"))
                else:
                    raws.extend(chunk.split(b"\n"))
            out.append(raws)
        return out

    def ahead(
        self, items: Iterable[tuple[T, Sequence[Sequence[Run]]]], read_ahead: int | None = None
    ) -> Iterator[tuple[T, list[list[bytes]]]]:
        """``many`` of each item's groups, in order, each with its item. From an object store, the
        next item's reads are sent (from a thread) before the current item is handed to the
        caller, so its round trip overlaps the caller's work: one item ahead at most, so at most
        one more item's lines are held. ``read_ahead`` 0 turns it off (None: STORE_READ_AHEAD)."""
        source = iter(items)
        if read_ahead is None:
            read_ahead = STORE_READ_AHEAD
        if self.store is None or not read_ahead:
            for item, groups in source:
                yield item, self.many(groups)
            return
        # Imported here: a run of local files never loads it.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1, thread_name_prefix="hccwatch-read-ahead") as pool:
            following = next(source, None)
            pending = pool.submit(self.many, following[1]) if following is not None else None
            while following is not None and pending is not None:
                current, reads = following[0], pending.result()
                following = next(source, None)
                pending = pool.submit(self.many, following[1]) if following is not None else None
                yield current, reads

    def close(self) -> None:
        for fd in self.fds.values():
            os.close(fd)
        self.fds.clear()
