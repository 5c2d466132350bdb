"""The batch worker's mapping input -> reading, two ways: each line decoded by orjson into dicts and
then ``read_resources`` (the typed views converted from the dicts), against ``read_lines`` (each
line decoded once, straight into its typed view).

    .venv/bin/python benchmarks/fhir_lines.py EXPORT [--repeat N] [--work DIR]

EXPORT is a Bulk export folder (``hccwatch synth --patients 10000 --seed 1 --out EXPORT`` makes
the one ``batch_throughput.py`` uses). The HCC cohort's lines are found and read back with the
DuckDB engine's own functions, exactly as a worker receives them; each way is then timed over the
whole cohort in processor time (best of ``--repeat`` passes, one process, garbage collector frozen
after the setup), in milliseconds per HCC patient, and the two readings of every patient are
compared (record, warnings, assumptions): the script stops if one differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import shutil
import tempfile
from pathlib import Path

import orjson
from _timing import best_cpu_seconds

from hccwatch import default_knowledge
from hccwatch.adapters.fhir import read_lines, read_resources
from hccwatch.population import scan
from hccwatch.population.bulk import open_export
from hccwatch.population.duckdb_engine import collect, groups, open_db
from hccwatch.population.run import evaluation_date


def _cohort(source: Path, work: Path) -> list[tuple[list[bytes], dt.date]]:
    export = open_export(source)
    as_of = evaluation_date(None, export.transaction_time)
    parts = list(scan.blocks(export.files, export.names))
    con = open_db(work)
    collect(con, export, ((block, scan.scan_block(block)) for block in parts))
    reader = scan.RunReader(export.files)
    try:
        return [(reader.lines(runs), when) for _pid, runs, when in groups(con, as_of)]
    finally:
        reader.close()
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, help="a scratch folder for DuckDB (default: a temporary one)")
    args = parser.parse_args()
    default_knowledge()
    work = Path(tempfile.mkdtemp(dir=args.work))
    try:
        cohort = _cohort(args.export, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for raws, when in cohort:
        old = read_resources([orjson.loads(r) for r in raws], as_of=when)
        new = read_lines(raws, as_of=when)
        if (old.record, old.warnings, old.assumptions) != (new.record, new.warnings, new.assumptions):
            raise SystemExit(f"the two readings differ: {old.record.get('id')}")
    gc.collect()
    gc.freeze()
    n = len(cohort)
    lines = sum(len(raws) for raws, _ in cohort)

    def dicts() -> None:
        for raws, when in cohort:
            read_resources([orjson.loads(r) for r in raws], as_of=when)

    def typed() -> None:
        for raws, when in cohort:
            read_lines(raws, as_of=when)

    def decode_only() -> None:
        for raws, _when in cohort:
            [orjson.loads(r) for r in raws]

    decode = best_cpu_seconds(args.repeat, decode_only)
    before = best_cpu_seconds(args.repeat, dicts)
    after = best_cpu_seconds(args.repeat, typed)
    print(f"{args.export.name}: {n:,} HCC patients, {lines / n:.0f} lines each; readings identical")
    for label, secs in (
        ("orjson.loads of the lines alone", decode),
        ("orjson.loads + read_resources (before)", before),
        ("read_lines (after)", after),
    ):
        print(f"  {label:<40} {secs:7.3f} s {1000 * secs / n:7.3f} ms/HCC patient")
    print(f"  saved {1000 * (before - after) / n:.3f} ms/HCC patient ({after / before:.2f}x the time before)")


if __name__ == "__main__":
    main()
