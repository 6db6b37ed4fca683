"""Benchmark a findings-heavy run: how much of `chukan run`'s wall time the reports take.

The dump is bench_scale's dirty one (benchmarks/workdata.py: vendor-a, N persons, with
--dirty-fraction of JUMIN.DAT records carrying one finding each; ≈150k findings per million
persons at 0.15, the case of issue 11). All of them are on 住民, so its sheet of report.xlsx
repeats 不備一覧's rows (300k listed rows per million persons).

Each measurement runs in its own process; each repeat (run, then reports) holds the lock of
`flock /tmp/chukan-bench.lock` (the machine is shared: two benchmarks never overlap, but other
engineers' tests still add load, so the 1-minute load average is printed with each repeat):
  run:      `chukan run --gyomu juki` of the dirty dump (it writes the reports too: its
            "write reports" step is timed from the run's JSON log, in_run_reports_s);
  reports:  one process per contender (cold, as in a run; their order alternates between
            repeats), each reading the run folder back (load_run_report), then
            after:   write_reports into a scratch folder, as the run and `chukan report` do
                     (atomic owner-only writes included);
            before:  the three rendered and written one after another, every list's rows
                     written by rust_xlsxwriter itself, each in full (the path before the
                     columnar lists, the twin sheets and the second thread): the baseline;
            parts:   each report rendered alone (where the time goes: html, xlsx, json);
            with --xlsxwriter also the lists through xlsxwriter cell by cell (how report.xlsx
            was written before rust_xlsxwriter; slow: ~10 s per million persons).
Reported per repeat: every time (wall; before and after also in CPU seconds of all threads,
which the load moves less), speedup = before / after (wall), and reports / run = (load +
after) / run (target ≤ 0.15).

    python benchmarks/bench_reports.py [--persons 1000000] [--repeat 3] [--dirty-fraction 0.15]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from etl.report import RunReport

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / "work"
LOCK = "/tmp/chukan-bench.lock"
TARGET = 0.15  # reports / run, issue 11
REPORTS_STEP = "write reports"  # the step etl.report.write_run_reports announces


def timed(cmd: list[str]) -> tuple[float, int, str]:
    """Wall seconds, exit code and stdout of one child process."""
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode, done.stdout + done.stderr


def xlsxwriter_lists(report: RunReport) -> bytes:
    """The same finding lists (不備一覧 and one sheet per V2.1 file) through xlsxwriter cell by
    cell (write_row per finding), as report.xlsx was written before rust_xlsxwriter."""
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


def step_timeline(log: str) -> tuple[dict[str, float], float | None]:
    """From the run's JSON log: seconds from its first step to the start of each step, and how
    long the step writing the reports took (None when the log has no such step)."""
    starts: dict[str, datetime] = {}
    ends: dict[str, datetime] = {}
    for line in log.splitlines():
        if line.startswith("{") and '"step.' in line:
            event = json.loads(line)
            seen = starts if event["event"] == "step.started" else ends
            seen.setdefault(event["fields"]["step"], datetime.fromisoformat(event["ts"]))
    first = min(starts.values(), default=None)
    timeline = {k: round((v - first).total_seconds(), 2) for k, v in starts.items() if first}
    reports = None
    if REPORTS_STEP in starts and REPORTS_STEP in ends:
        reports = (ends[REPORTS_STEP] - starts[REPORTS_STEP]).total_seconds()
    return timeline, reports


def _bytes(data: str | bytes) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


CONTENDERS = ("after", "before", "parts")  # each in its own process, cold as in a run


def measure_reports(run_dir: Path, contender: str) -> dict[str, float]:
    """In this process: read the run folder back (load_s), then one contender:
    after   write_reports into a scratch folder (what the run and `chukan report` do);
    before  the three rendered and written one after another, every list in full through
            rust_xlsxwriter;
    parts   each report rendered alone (html_s, xlsx_s, json_s: where the time goes);
    xlsxwriter  the lists through xlsxwriter cell by cell."""
    from etl.report import (
        REPORT_FILES,
        load_run_report,
        open_run,
        render_html,
        render_json,
        write_reports,
    )
    from etl.report.run import workbook_bytes
    from etl.write import write_bytes_atomic

    took: dict[str, float] = {}
    t = time.perf_counter()
    reconciliation = open_run(run_dir).manifest.reconciliation.model_dump(mode="json")
    report = load_run_report(run_dir, extra_sections={"reconciliation": reconciliation})
    took["load_s"] = time.perf_counter() - t
    took["findings"] = report.total
    renders: list[tuple[str, Callable[[RunReport], str | bytes]]] = [
        ("html", render_html),
        ("xlsx", workbook_bytes),
        ("json", render_json),
    ]
    with tempfile.TemporaryDirectory(dir=WORK) as scratch:
        t, cpu = time.perf_counter(), time.process_time()
        if contender == "after":
            write_reports(report, Path(scratch))
        elif contender == "before":
            renders[1] = ("xlsx", lambda r: workbook_bytes(r, rows_by_writer=True))
            for name, render in renders:
                data = render(report)
                write_bytes_atomic(Path(scratch) / REPORT_FILES[name], _bytes(data))
        elif contender == "parts":
            for name, render in renders:
                part = time.perf_counter()
                took[f"{name}_mb"] = len(render(report)) / 1e6
                took[f"{name}_s"] = time.perf_counter() - part
        else:
            xlsxwriter_lists(report)
        took[f"{contender}_s"] = time.perf_counter() - t
        took[f"{contender}_cpu_s"] = time.process_time() - cpu  # every thread's: less load-bound
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dirty-fraction", type=float, default=0.15)
    ap.add_argument("--xlsxwriter", action="store_true", help="also time the xlsxwriter lists")
    ap.add_argument("--reports-of", type=Path, help=argparse.SUPPRESS)  # the child's side
    ap.add_argument("--contender", choices=(*CONTENDERS, "xlsxwriter"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.reports_of:
        print(json.dumps(measure_reports(args.reports_of, args.contender)))
        return

    from benchmarks.workdata import vendor_a_dump

    t0 = time.perf_counter()
    dump = vendor_a_dump(args.persons, args.dirty_fraction)
    print(f"dirty dump of {args.persons} persons ready in {time.perf_counter() - t0:.1f}s")
    chukan = str(Path(sys.executable).parent / "chukan")
    out = WORK / f"run-dirty-{args.persons}"
    run_cmd = [chukan, "--log-format", "json", "run", "--vendor", "vendor-a", "--gyomu", "juki"]
    run_cmd += ["--dump", str(dump), "--out", str(out), "--replace"]
    reports_cmd = [sys.executable, __file__, "--reports-of", str(out), "--contender"]
    contenders = [*CONTENDERS, "xlsxwriter"] if args.xlsxwriter else list(CONTENDERS)
    rows = []
    for i in range(args.repeat):
        rep: dict[str, float] = {}
        with open(LOCK, "a") as lock:  # flock(2), the lock `flock /tmp/chukan-bench.lock` takes
            fcntl.flock(lock, fcntl.LOCK_EX)  # held over the run and its reports together
            load_before = os.getloadavg()[0]
            run_s, code, text = timed(run_cmd)
            if code not in (0, 1):  # 1: blocking findings, which is the point
                sys.exit(f"chukan run failed ({code}): {text[-2000:]}")
            steps, in_run = step_timeline(text)
            for contender in contenders[i % 2 :] + contenders[: i % 2]:  # alternate the order
                _, code, text = timed([*reports_cmd, contender])
                if code:
                    sys.exit(f"report measurement failed: {text[-2000:]}")
                took = json.loads(text.strip().splitlines()[-1])
                if contender == "after":
                    rep["load_s"] = took["load_s"]
                rep |= {k: v for k, v in took.items() if k != "load_s"}
        reports_s = rep["load_s"] + rep["after_s"]
        row = {
            "repeat": i + 1,
            "persons": args.persons,
            "findings": rep["findings"],
            "run_s": round(run_s, 2),
            "in_run_reports_s": None if in_run is None else round(in_run, 2),
            **{k: round(rep[k], 3) for k in ("load_s", "html_s", "xlsx_s", "json_s")},
            "xlsx_mb": round(rep["xlsx_mb"], 1),
            "before_s": round(rep["before_s"], 2),
            "after_s": round(rep["after_s"], 2),
            "speedup": round(rep["before_s"] / rep["after_s"], 2),
            "before_cpu_s": round(rep["before_cpu_s"], 2),
            "after_cpu_s": round(rep["after_cpu_s"], 2),
            "reports_s": round(reports_s, 2),
            "reports_over_run": round(reports_s / run_s, 3),
            "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "run_steps_started_s": steps,
        }
        if "xlsxwriter_s" in rep:
            row["xlsxwriter_lists_s"] = round(rep["xlsxwriter_s"], 2)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    median = sorted(r["reports_over_run"] for r in rows)[len(rows) // 2]
    verdict = "meets" if median <= TARGET else "MISSES"
    print(f"reports = {median:.1%} of the run's wall time, median of {len(rows)} repeats")
    print(f"target ≤ {TARGET:.0%}: {verdict}")


if __name__ == "__main__":
    main()
