"""How fast is one assessment? Prints figures, floors and ratios; anyone can run it.

    .venv/bin/python benchmarks/assess_throughput.py [--repeat N] [--warm]

Single process, single core. For each data set it times, per record:

- ``decode``: ``json.loads`` of the record's JSON text (the floor: reading the input at all);
- ``validate``: ``parse_record`` of the decoded object (units converted, plausibility checked);
- ``assess``: ``assess(record).to_dict()`` of the validated record (everything a JSON answer needs).

Each figure is the best of ``--repeat`` passes over the whole set, in processor time of this
process (``--clock wall`` for elapsed time): the development machine is shared, and processor
time leaves out the time other processes hold the core. Before each pass the core forgets what
it has memoised (staging resolutions, transplant findings per fact pattern), so a pass is a
cold start over its data set; ``--warm`` keeps them, as a long-running service would. The
knowledge base is loaded once, before timing.

Data sets: the seeded generated records of the regression corpus (sparse, labs-only, fully
documented, ten years of follow-up), the example records, and when ``../shared`` is beside the
checkout the real cohorts (654 ameld patients with labs only, 165 UCI patients with labs, liver
and tumour data). Goals (issue 6): <= 1 ms per sparse or labs-only record, <= 2 ms per fully
documented record.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hccwatch import PatientRecord, assess, default_knowledge, parse_record
from hccwatch.core.memo import clear_all

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
corpus: Any = importlib.import_module("corpus.build")

AS_OF = corpus.AS_OF
SPARSE, LABS, FULL = 1.0, 1.0, 2.0  # goals, ms per record


def _data_sets() -> list[tuple[str, list[dict[str, Any]], float | None]]:
    generated = corpus.generated()
    kinds = {kind: generated[i::4] for i, kind in enumerate(("sparse", "labs_only", "full", "long"))}
    ten_year = corpus.ten_year_record()
    sets: list[tuple[str, list[dict[str, Any]], float | None]] = [
        ("sparse (generated)", kinds["sparse"], SPARSE),
        ("labs only (generated)", kinds["labs_only"], LABS),
        ("fully documented (generated)", kinds["full"], FULL),
        ("fully documented (examples)", corpus.examples(), FULL),
        ("long follow-up (generated)", kinds["long"], None),
        (f"ten-year follow-up ({ten_year['id']})", [ten_year] * 20, None),
    ]
    if corpus.VALIDATION.is_dir():
        sets[2:2] = [
            ("labs only (ameld, 654 real)", corpus.ameld(), LABS),
            ("labs+tumour (UCI, 165 real)", corpus.uci(), FULL),
        ]
    return sets


CLOCK: Callable[[], float] = time.process_time


def _each(fn: Callable[[Any], object], items: Sequence[Any]) -> None:
    """``fn`` on each item, keeping no result: a screening run writes each answer out and moves on
    (keeping thousands of answers alive would time the garbage collector instead)."""
    for item in items:
        fn(item)


def _answer(record: PatientRecord) -> object:
    return assess(record, as_of=AS_OF).to_dict()


def _best(fn: Callable[[], object], repeat: int, before: Callable[[], None] = lambda: None) -> float:
    best = float("inf")
    for _ in range(repeat):
        before()
        start = CLOCK()
        fn()
        best = min(best, CLOCK() - start)
    return best


def _row(cells: Sequence[object]) -> str:
    widths = (36, 7, 9, 9, 9, 9, 10, 10, 6, 5)
    return " ".join(
        f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=7, help="passes per data set (the best counts)")
    parser.add_argument(
        "--warm", action="store_true", help="keep memoised resolutions and findings between passes"
    )
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu", help="processor or elapsed time")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    default_knowledge()  # load once, as a long-running service would
    before = (lambda: None) if args.warm else clear_all
    memo = "warm" if args.warm else "cold"
    print(f"ms per record, best of {args.repeat} passes, {args.clock} time, {memo} memos\n")
    print(_row(["data set", "records", "decode", "validate", "assess", "records/s",
                "/decode", "/validate", "goal", ""]))  # fmt: skip
    for name, raw, goal in _data_sets():
        texts = [json.dumps(r) for r in raw]
        records = [parse_record(r) for r in raw]
        n = len(raw)
        decode = _best(lambda texts=texts: _each(json.loads, texts), args.repeat) / n
        validate = _best(lambda raw=raw: _each(parse_record, raw), args.repeat) / n
        full = (
            _best(
                lambda records=records: _each(_answer, records),
                args.repeat,
                before,
            )
            / n
        )
        verdict = "" if goal is None else ("ok" if full * 1e3 <= goal else "MISS")
        print(
            _row(
                [
                    name,
                    n,
                    f"{decode * 1e3:.3f}",
                    f"{validate * 1e3:.3f}",
                    f"{full * 1e3:.3f}",
                    f"{1 / full:.0f}",
                    f"{full / decode:.0f}x",
                    f"{full / validate:.1f}x",
                    "-" if goal is None else f"{goal:g}",
                    verdict,
                ]
            )
        )


if __name__ == "__main__":
    main()
