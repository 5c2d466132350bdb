"""The block scan against the plain reference: ``bulk.classify`` on every line, one at a time.

Whatever a block holds (random bytes, broken lines, blank and CRLF lines, odd whitespace, escapes
in references and types, HCC and refuted Conditions, unknown types), ``scan_block`` must give the
same problems, counts, HCC patients and patient of every line, and its runs must read back the
very lines the reference kept for each patient, in order.

The second property feeds the lines where JSON decoders part ways (duplicate keys, invalid
UTF-8, lone surrogates, numbers beyond a double, NaN and Infinity, nesting around the depth
limit, wrong-typed fields), so a faster decoder in the scan cannot judge any of them differently.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hccwatch.population.bulk import Line, Problem, classify
from hccwatch.population.scan import Block, BlockScan, RunReader, scan_block

_PIDS = ["p1", "p2", "p 3", "é4", "p1/_history/2", ""]
_TYPES = ["Patient", "Observation", "Condition", "Encounter", "Organization", "Foo", "", 5, None]
_CODES = [
    ("http://snomed.info/sct", "109841003"),
    ("http://hl7.org/fhir/sid/icd-10", "C22.0"),
    ("http://hl7.org/fhir/sid/icd-10-cm", "c22.0"),
    ("http://hl7.org/fhir/sid/icd-10", "C78.7"),
    ("http://snomed.info/sct", "44054006"),
]


@st.composite
def _reference(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["patient", "patient", "group", "odd", "bare"]))
    if kind == "patient":
        return {"reference": "Patient/" + draw(st.sampled_from(_PIDS))}
    if kind == "group":
        return {"reference": "Group/g1"}
    if kind == "bare":
        return "Patient/p1"
    return {"reference": draw(st.sampled_from([None, 7, "Patient", "patient/p1"]))}


@st.composite
def _resource(draw: st.DrawFn) -> dict[str, Any]:
    rtype = draw(st.sampled_from(_TYPES))
    resource: dict[str, Any] = {} if rtype is None else {"resourceType": rtype}
    if draw(st.booleans()):
        resource["id"] = draw(st.sampled_from([*_PIDS, 3]))
    for key in ("subject", "patient", "beneficiary"):
        if draw(st.integers(0, 3)) == 0:
            resource[key] = draw(_reference())
    if rtype == "Condition" or draw(st.integers(0, 5)) == 0:
        codings = draw(st.lists(st.sampled_from(_CODES), max_size=2))
        resource["code"] = {"coding": [{"system": s, "code": c} for s, c in codings]}
        if draw(st.booleans()):
            status = draw(st.sampled_from(["confirmed", "refuted", "entered-in-error"]))
            resource["verificationStatus"] = {"coding": [{"code": status}]}
    if draw(st.booleans()):
        resource["valueQuantity"] = {"value": draw(st.floats(allow_nan=False, allow_infinity=False))}
    return resource


@st.composite
def _line(draw: st.DrawFn) -> bytes:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")))
    if kind == 1:
        return draw(st.sampled_from([b"", b"  ", b"\t", b"\x0c", b"[]", b"null", b'"x"', b"{", b"{}"]))
    text = json.dumps(
        draw(_resource()),
        ensure_ascii=draw(st.booleans()),  # \u escapes in references and names
        separators=draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " :  ")])),
    )
    if draw(st.booleans()):
        text = text.replace("/", "\\/")  # an escaped solidus is still a solidus
    if draw(st.booleans()):
        text = text.replace('"Patient', '"Pati\\u0065nt')
    raw = text.encode()
    if kind == 2:
        raw = raw[: draw(st.integers(0, len(raw)))]  # a line cut short
    if kind == 3:
        raw = b" \t" + raw + b"  "
    return raw


def _reference_scan(lines: list[bytes]) -> tuple[list[Problem], dict[str, int], set[str], dict[int, Any]]:
    problems: list[Problem] = []
    by_type: dict[str, int] = {}
    hcc: set[str] = set()
    placed: dict[int, Any] = {}
    for index, line in enumerate(lines):
        raw = line.rstrip(b"\r")
        if not raw.strip():
            continue
        judged = classify(raw, "x.ndjson", index)
        if isinstance(judged, Problem):
            problems.append(judged)
            continue
        assert isinstance(judged, Line)
        by_type[judged.rtype] = by_type.get(judged.rtype, 0) + 1
        if judged.pid is not None:
            placed[index] = (judged.pid, judged.is_patient)
            if judged.is_hcc:
                hcc.add(judged.pid)
    return problems, by_type, hcc, placed


def _scan(data: bytes) -> tuple[BlockScan, Path]:
    folder = Path(tempfile.mkdtemp())
    path = folder / "x.ndjson"
    path.write_bytes(data)
    return scan_block(Block(0, 0, "x.ndjson", path, 0, len(data))), path


# Values JSON decoders disagree on, or accept where orjson (classify's decoder) refuses.
_ODD_VALUES = [
    b"1e400",
    b"-1e400",
    b"1E+400",
    b"1e0400",
    b"1" + b"0" * 400,
    b"1" + b"0" * 290 + b"e19",
    b"1e-400",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b'"\\ud800"',
    b'"\\udc00x"',
    b'"\\ud83d\\ude00"',
    b'"\xff"',
    b'"\xed\xa0\x80"',
    b'"\xc0\x80"',
    b'"\xf4\x90\x80\x80"',
    b'"\xe2\x82"',
    b'"caf\xc3\xa9"',
    b'"a\x00b"',
    b'"a\tb"',
    b"[1,]",
    b"01",
    b"tru",
    b"null",
    b"[]",
    b"{}",
    b"7",
    b'{"reference":7}',
    b'{"reference":["Patient/p1"]}',
    b'{"reference":"Patient/p2","reference":"Patient/p1"}',
    b'["Patient/p1"]',
]
_DEPTHS = [1, 100, 995, 996, 997, 998, 1021, 1022, 1023, 1024, 1025, 1100]


@st.composite
def _odd_value(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        depth = draw(st.sampled_from(_DEPTHS))
        inner = draw(st.sampled_from([b"", b"1", b'"x"']))
        if draw(st.booleans()):
            return b"[" * depth + inner + b"]" * depth
        return b'{"a":' * depth + (inner or b"1") + b"}" * depth
    return draw(st.sampled_from(_ODD_VALUES))


@st.composite
def _odd_line(draw: st.DrawFn) -> bytes:
    """A resource line with an odd value in an odd place: an extra field before or after the
    others, a field the scan reads (resourceType, id, subject, patient) given twice or with an
    odd value, or a raw byte sequence inside a string."""
    text = json.dumps(draw(_resource()), separators=(",", ":")).encode()
    value = draw(_odd_value())
    key = draw(st.sampled_from([b"x", b"resourceType", b"id", b"subject", b"patient", b"\xff", b"\\u0069d"]))
    field = b'"' + key + b'":' + value
    where = draw(st.sampled_from(["first", "last", "inside"]))
    if where == "first" and text != b"{}":
        return b"{" + field + b"," + text[1:]
    if where == "last" and text != b"{}":
        return text[:-1] + b"," + field + b"}"
    if where == "inside":
        quotes = [i for i, c in enumerate(text) if c == ord('"')]
        if quotes:
            at = draw(st.sampled_from(quotes)) + 1
            return (
                text[:at] + draw(st.sampled_from([b"\xff", b"\xed\xa0\x80", b"\\ud800", b"\\"])) + text[at:]
            )
    return b"{" + field + b"}"


def _check(lines: list[bytes], crlf: bool, final: bool) -> None:
    data = (b"\r\n" if crlf else b"\n").join(lines) + (b"\n" if final and lines else b"")
    physical = data.split(b"\n")
    if physical and not physical[-1]:
        physical.pop()
    problems, by_type, hcc, placed = _reference_scan(physical)
    scanned, path = _scan(data)
    assert scanned.problems == problems
    assert dict(scanned.problems_by_kind) == {
        k: n for k in {p.kind for p in problems} if (n := sum(p.kind == k for p in problems))
    }
    assert dict(scanned.by_type) == by_type
    assert scanned.resources == sum(by_type.values()) + len(problems)
    assert scanned.lines == len(physical)
    assert scanned.hcc == hcc
    r = scanned.runs
    got: dict[int, Any] = {}
    for pid, first, n, patient in zip(r.pid, r.line, r.n, r.patient, strict=True):
        for i in range(first, first + n):
            got[i] = (pid, patient)
    assert got == placed
    reader = RunReader([path])
    try:
        for pid, start, end, first, n in zip(r.pid, r.start, r.end, r.line, r.n, strict=True):
            expected = [physical[i].rstrip(b"\r") for i in range(first, first + n)]
            assert reader.lines([(0, start, end)]) == expected, pid
    finally:
        reader.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_line(), max_size=25),
    crlf=st.booleans(),
    final=st.booleans(),
)
def test_scan_block_matches_classify_line_by_line(lines: list[bytes], crlf: bool, final: bool) -> None:
    _check(lines, crlf, final)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.one_of(_odd_line(), _line()), max_size=12),
    crlf=st.booleans(),
    final=st.booleans(),
)
def test_scan_block_judges_lines_decoders_disagree_on_as_classify(
    lines: list[bytes], crlf: bool, final: bool
) -> None:
    _check(lines, crlf, final)


def test_the_odd_values_are_judged_as_orjson_judges_them() -> None:
    # Each odd value alone in an Observation of p1, and as its id or subject: a line orjson refuses
    # is a bad line in the scan too, one it reads is placed.
    lines = []
    for value in _ODD_VALUES:
        lines.append(
            b'{"resourceType":"Observation","x":' + value + b',"subject":{"reference":"Patient/p1"}}'
        )
        lines.append(b'{"resourceType":"Patient","id":' + value + b"}")
        lines.append(b'{"resourceType":"Observation","subject":' + value + b"}")
    _check(lines, crlf=False, final=True)
    scanned, _ = _scan(b"\n".join(lines) + b"\n")
    assert scanned.problems_by_kind["bad_line"] >= 15  # the refused values really are refused
