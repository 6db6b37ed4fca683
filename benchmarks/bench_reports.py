"""Benchmark a findings-heavy run: how much of `chukan run`'s wall time the reports take.

A vendor-a dump of N persons (benchmarks/workdata.py) is copied and ~15% of its 住民 records get
a wrong check digit: 10% on 個人番号, 5% on 住民票コード. Those records are still written, so each
finding appears twice in report.xlsx (不備一覧 and the sheet of its V2.1 file), the case of
issue 11 (≈150k findings and 300k listed rows per million records).

Each measurement runs in its own process; each repeat (run, then reports) holds the lock of
`flock /tmp/chukan-bench.lock` (the machine is shared: two benchmarks never overlap, but other
engineers' tests still add load, so the 1-minute load average is printed with each repeat):
  run:      `chukan run --gyomu juki` of the dirty dump (it writes the reports too);
  reports:  the run folder read back (load_run_report) and each report rendered in memory
            (report.html, report.xlsx, report.json), each timed on its own;
  baseline: in that process, the same finding lists written through xlsxwriter cell by cell
            (how report.xlsx was written before): xlsx_speedup = baseline / report.xlsx.
Reported per repeat: the run's wall time, each report's, and reports / run (target ≤ 0.15).

    python benchmarks/bench_reports.py [--persons 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etl.report import RunReport

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
LOCK = "/tmp/chukan-bench.lock"
TARGET = 0.15  # reports / run, issue 11
RECORD_LENGTH = 300  # JUMIN.DAT, mappings/vendor-a/source.yaml
# (field offset, field length, share of data records): the last digit is the check digit
CORRUPTED = (("kojin_no", 42, 12, 0.10), ("jumin_cd", 31, 11, 0.05))
DATA_RECORD = ord("2")


def dirty_dump(persons: int) -> Path:
    """The shared dump with ~15% of 住民 records carrying a wrong check digit (built once)."""
    import numpy as np

    from benchmarks.workdata import vendor_a_dump

    clean = vendor_a_dump(persons)
    dirty = WORK / f"vendor-a-{persons}-dirty15"
    if (dirty / "JUMIN.DAT").is_file():
        return dirty
    tmp = dirty.with_name(dirty.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(clean, tmp)
    raw = np.fromfile(tmp / "JUMIN.DAT", dtype=np.uint8)
    records = raw[: raw.size // RECORD_LENGTH * RECORD_LENGTH].reshape(-1, RECORD_LENGTH)
    data = np.flatnonzero(records[:, 0] == DATA_RECORD)
    # disjoint slices of one fixed permutation: the same records for the same size
    order = np.random.default_rng(15).permutation(data)
    start = 0
    for _, offset, length, share in CORRUPTED:
        chosen = order[start : start + int(share * data.size)]
        start += chosen.size
        last = offset + length - 1
        digit = records[chosen, last] - ord("0")
        records[chosen, last] = (digit + 1) % 10 + ord("0")
    records.tofile(tmp / "JUMIN.DAT")
    tmp.rename(dirty)
    return dirty


def timed(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, exit code and stdout of one child process."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode, done.stdout + done.stderr


def xlsxwriter_lists(report: RunReport) -> bytes:
    """The baseline: the same finding lists (不備一覧 and one sheet per V2.1 file) written the way
    report.xlsx was before, through xlsxwriter cell by cell (write_row per finding)."""
    import io

    import polars as pl
    import xlsxwriter  # type: ignore[import-untyped]

    from etl.render import DATA_ONLY, HEADER_FORMAT
    from etl.report.run.xlsx import staff_rows

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, **DATA_ONLY})
    head = wb.add_format(HEADER_FORMAT)
    own = [(pl.col("gyomu") == o.gyomu) & (pl.col("file") == o.record_file) for o in report.outputs]
    frames = [report.findings] + [report.findings.filter(f) for f in own]
    for n, frame in enumerate(frames):
        rows = staff_rows(frame)
        ws = wb.add_worksheet(f"list{n}")
        ws.write_row(0, 0, rows.columns, head)
        for i, row in enumerate(rows.iter_rows(), 1):
            ws.write_row(i, 0, ["" if v is None else v for v in row])
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(rows.height, 1), len(rows.columns) - 1)
    wb.close()
    return buffer.getvalue()


def step_timeline(log: str) -> dict[str, float]:
    """Seconds from the first event of the run's JSON log to the start of each step (the last
    step, writing the V2.1 files, also writes the reports)."""
    from datetime import datetime

    starts = {}
    for line in log.splitlines():
        if line.startswith("{") and '"step.started"' in line:
            event = json.loads(line)
            starts[event["fields"]["step"]] = datetime.fromisoformat(event["ts"])
    first = min(starts.values(), default=None)
    return {k: round((v - first).total_seconds(), 2) for k, v in starts.items() if first}


def measure_reports(run_dir: Path) -> dict[str, float]:
    """In this process: read the run folder back, then render each report, each timed."""
    from etl.report import load_run_report, open_run, render_html, render_json
    from etl.report.run import workbook_bytes

    took: dict[str, float] = {}
    t = time.perf_counter()
    reconciliation = open_run(run_dir).manifest.reconciliation.model_dump(mode="json")
    report = load_run_report(run_dir, extra_sections={"reconciliation": reconciliation})
    took["load_s"] = time.perf_counter() - t
    renders = (("html", render_html), ("xlsx", workbook_bytes), ("json", render_json),
               ("xlsxwriter_lists", xlsxwriter_lists))  # fmt: skip
    for name, render in renders:
        t = time.perf_counter()
        out = render(report)
        took[f"{name}_s"] = time.perf_counter() - t
        took[f"{name}_mb"] = len(out) / 1e6
    took["findings"] = report.total
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reports-of", type=Path, help=argparse.SUPPRESS)  # the child's side
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.reports_of:
        print(json.dumps(measure_reports(args.reports_of)))
        return

    t0 = time.perf_counter()
    dump = dirty_dump(args.persons)
    print(f"dirty dump of {args.persons} persons ready in {time.perf_counter() - t0:.1f}s")
    chukan = str(Path(sys.executable).parent / "chukan")
    out = WORK / f"run-dirty-{args.persons}"
    run_cmd = [chukan, "--log-format", "json", "run", "--vendor", "vendor-a", "--gyomu", "juki"]
    run_cmd += ["--dump", str(dump)]
    run_cmd += ["--out", str(out), "--replace"]
    reports_cmd = [sys.executable, __file__, "--reports-of", str(out)]
    rows = []
    for i in range(args.repeat):
        with open(LOCK, "a") as lock:  # flock(2), the lock `flock /tmp/chukan-bench.lock` takes
            fcntl.flock(lock, fcntl.LOCK_EX)  # held over the run and its reports together
            run_s, code, text = timed(run_cmd)
            if code not in (0, 1):  # 1: blocking findings, which is the point
                sys.exit(f"chukan run failed ({code}): {text[-2000:]}")
            steps = step_timeline(text)
            _, code, text = timed(reports_cmd)
        if code:
            sys.exit(f"report measurement failed: {text[-2000:]}")
        rep = json.loads(text.strip().splitlines()[-1])
        reports_s = rep["load_s"] + rep["html_s"] + rep["xlsx_s"] + rep["json_s"]
        # the lists alone through xlsxwriter, as report.xlsx was written before: same frames
        row = {
            "repeat": i + 1,
            "persons": args.persons,
            "findings": rep["findings"],
            "run_s": round(run_s, 2),
            "load_s": round(rep["load_s"], 2),
            "html_s": round(rep["html_s"], 2),
            "xlsx_s": round(rep["xlsx_s"], 2),
            "json_s": round(rep["json_s"], 3),
            "xlsx_mb": round(rep["xlsx_mb"], 1),
            "baseline_xlsxwriter_lists_s": round(rep["xlsxwriter_lists_s"], 2),
            "xlsx_speedup": round(rep["xlsxwriter_lists_s"] / rep["xlsx_s"], 1),
            "reports_s": round(reports_s, 2),
            "reports_over_run": round(reports_s / run_s, 3),
            "load_avg_1m": round(os.getloadavg()[0], 2),
            "run_steps_started_s": steps,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    median = sorted(r["reports_over_run"] for r in rows)[len(rows) // 2]
    verdict = "meets" if median <= TARGET else "MISSES"
    print(f"reports = {median:.1%} of the run's wall time, median of {len(rows)} repeats")
    print(f"target ≤ {TARGET:.0%}: {verdict}")


if __name__ == "__main__":
    main()
