"""Benchmark `load_run` into PostgreSQL against `psql \\copy` of the same CSV files.

For N generated 住民記録 persons (`chukan run --gyomu juki` once: juki/jumin.csv + setai.csv),
a throwaway PostgreSQL server (Debian's, as the test fixture starts it) receives, alternately:
  load_run:  the whole load: typed staging tables (varchar(桁数), date, bigint, NOT NULL,
             comments), the files cut into chunks COPYed FROM STDIN by psycopg 3 over
             WORKERS connections side by side, primary key indexes, one scan per table for the
             reconciliation of counts + control totals by SQL, then one transaction that
             swaps the tables in, records chukan_loads and commits;
  \\copy:     `psql \\copy … FROM file CSV HEADER` of the same files into tables of plain text
             columns with no constraints or keys (the floor any CSV load pays), one per file,
             over one connection (psql's way).
Reports records/s of each (best of --repeat) and the ratio (target for issue 5: ≥ 0.70).

    python benchmarks/bench_load.py [--persons 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.dbload.pgserver: the same throwaway server as the tests

from benchmarks.workdata import juki_run  # noqa: E402
from etl.dbload import load_run  # noqa: E402
from etl.dbload.postgres_load import WORKERS  # noqa: E402
from etl.layout import load_layouts  # noqa: E402
from tests.dbload import pgserver  # noqa: E402


def copy_baseline(server: pgserver.PgServer, run: Path, files: list[tuple[str, Path]]) -> float:
    """Seconds for psql \\copy of every file into fresh text-column tables."""
    script = []
    for table, path in files:
        header = path.open(encoding="utf-8").readline().rstrip("\r\n").split(",")
        cols = ", ".join(f'"{c}" text' for c in header)
        script.append(f'DROP TABLE IF EXISTS "{table}"; CREATE TABLE "{table}" ({cols});')
    setup = server.psql("-c", "\n".join(script))
    assert setup.returncode == 0, setup.stderr
    start = time.perf_counter()
    for table, path in files:
        done = server.psql("-c", f"\\copy \"{table}\" FROM '{path}' WITH (FORMAT csv, HEADER)")
        assert done.returncode == 0, done.stderr
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    run = juki_run(args.persons)
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    files = [(f"copy_{o['record_file']}", run / o["path"]) for o in manifest["outputs"]]
    rows = sum(int(o["written"]) for o in manifest["outputs"])
    size = sum(p.stat().st_size for _, p in files)
    why = pgserver.install()
    bindir = pgserver.find_bindir()
    if why or bindir is None:
        raise SystemExit(f"no PostgreSQL server: {why}")
    server = pgserver.start(bindir)
    layouts = load_layouts("v2.1")
    try:
        ours, base = [], []
        for _ in range(args.repeat):
            base.append(copy_baseline(server, run, files))
            # the generated dump holds deliberately broken records (an empty 生年月日)
            result = load_run(run, server.url, layouts, relax_not_null=True)
            if not result.ok:
                raise SystemExit(f"load not ok: {result.mismatches}")
            ours.append(result.seconds)
    finally:
        server.stop()
    best_ours, best_base = min(ours), min(base)
    print(f"{rows:,} records ({size / 1e6:.0f} MB UTF-8 CSV: juki/jumin + juki/setai)")
    print(f"psql \\copy (text cols): {best_base:6.2f} s  {rows / best_base:>10,.0f} records/s")
    print(
        f"load_run (PostgreSQL):  {best_ours:6.2f} s  {rows / best_ours:>10,.0f} records/s"
        f"  ({WORKERS} COPY connections, {os.cpu_count()} cores here)"
    )
    print(f"ratio load_run / \\copy: {best_base / best_ours:.2f} (target ≥ 0.70)")
    print(f"all runs: \\copy {[round(s, 2) for s in base]}, load_run {[round(s, 2) for s in ours]}")


if __name__ == "__main__":
    main()
